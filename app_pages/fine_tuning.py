"""Fine-tuning: check training data, forecast and start jobs, watch them live, chart the metrics
of jobs and of any trainer's logs (followed as they are written), pick the checkpoint to keep,
manage files and fine-tuned models.

On the local engine (local-text) a fine-tune trains a small head over the base model by
gradient descent, with a memory of the examples beneath it; details and what each
hyperparameter does there: local_engine/fine_tune.py.

The page's inputs outlive page switches: widget values through components/state.py, the
checked file, its report and uploaded logs in session keys of this page (`ft_checked`,
`ft_logs`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Callable

import streamlit as st

from components.connection import base_models, billed, current_connection, forget_models, get_client
from components.errors import problem_of, show_exception
from components.evals import evaluate_fine_tune
from components.fine_tune_charts import advisor_panel, metrics_panel, plain
from components.presets import open_in_page
from components.state import owned
from playground.catalog import model_info
from playground.fine_tuning import jobs
from playground.fine_tuning.forecast import auto_batch_size, duration, eta, forecast, job_pace
from playground.fine_tuning.logs import Run, from_content, load_path
from playground.fine_tuning.metrics import MetricsError
from playground.fine_tuning.validate import Report, check_file, try_request
from playground.objects import read
from playground.params import controls_from_request

REFRESH_SECONDS = 2.0
HYPER_HELP = {
    "n_epochs": "Passes over the training data. auto: 3, or more (fewer) so that examples × epochs lands in "
                "100..25,000.",
    "batch_size": "Examples per step: sets the number of steps and how often the metrics are reported. "
                  "auto: 0.2% of the examples (1..256).",
    "learning_rate_multiplier": "Scales the learning rate: larger learns faster and overfits sooner. On local-text "
                                "Adam's step size is 0.01 × this, and it weights the memory of the examples. "
                                "auto: 1.0.",
}
HYPER_DEFAULTS = (("n_epochs", 3, 1), ("batch_size", 1, 1), ("learning_rate_multiplier", 1.0, 0.1))
# The page's inputs, kept for the session (components/state.py). Not widgets: `ft_checked` (the
# checked file), `ft_logs` (uploaded logs), `_ft_*` (per-session caches of reports, file contents, paces).
KEYS = owned(
    "ft", check_model=None, check_auto_epochs=True, check_epochs=3, training_pick=None, validation_pick=None,
    base_model=None, suffix="", seed=None, live=True, job=None, compare=[], watch_paths="", import_text="",
    **{f"auto_{name}": True for name, _, _ in HYPER_DEFAULTS},
    **{f"value_{name}": default for name, default, _ in HYPER_DEFAULTS},
)

st.title("Fine-tuning")
st.caption("Check a JSONL data set, forecast and start a job, watch it train, compare its metrics with any "
           "trainer's logs, and try the model.")
client = get_client()




def when(timestamp: int | None) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S") if timestamp else "—"


def fine_tunable_models() -> list[str]:
    """The provider's models that can be fine-tuned (per the catalog), and its fine-tuned models."""
    models = [m for m in base_models() if model_info(m).fine_tunable or m.startswith("ft:")]
    return sorted(models, key=lambda m: (m.startswith("ft:"), m))


def try_it(model: str, page: str | None = None, job: Any = None) -> None:
    """Open Completions or Chat with `model` chosen and, when `job`'s training file can be read,
    set up as the model was trained (try_request: the prompt ending in the separator or the
    training system message; a classifier's one token, logprobs and temperature 0). `page`
    None: the page of the data's format."""
    if current_connection().provider == "azure":
        # Azure serves a fine-tuned model only through a deployment, made on the management plane.
        st.info(
            f"On Azure, {plain(model)} answers once it is deployed: create a deployment of it (Azure portal, "
            "or the management API), then pick that deployment on the page.",
            icon=":material/cloud_upload:",
        )
        return
    forget_models()
    report, unread = None, None
    if job is not None:
        try:
            report = report_of(f"file:{job.training_file}", training_content(job.training_file), job.model, None)
        except Exception as exc:  # noqa: BLE001 - the model opens all the same, with the reason said there
            unread = problem_of(exc)
    if report is not None and report.format:
        setup_page, body = try_request(report)
        if page in (None, setup_page):
            note = ("Set up as the model was trained" + (": one token, its top 5 alternatives, temperature 0."
                                                         if report.labels else "."))
            open_in_page(setup_page, controls_from_request(setup_page, {**body, "model": model}), note)
            return
    page = page or "completions"
    st.session_state[f"open_with_model:{page}_model"] = model
    if unread is not None:  # said on the page it opens: an error shown here would vanish with the switch
        st.session_state[f"open_note:{page}_model"] = (
            f"{model} is chosen; the other controls are as they were: its training file could not be read "
            f"to set the page up as the model was trained. {unread.title} {unread.detail}".strip())
    st.switch_page(f"app_pages/{page}.py")


def file_label(f) -> str:  # noqa: ANN001 - SDK FileObject
    return f"{f.filename} · {f.id} · {when(f.created_at)}"


def follow_viewed_job() -> None:
    """Metrics opens on the job the user looks at in Jobs: it takes the place of the one viewed
    before; jobs added to the comparison by hand stay."""
    viewed, before = KEYS.get("job"), st.session_state.get("_ft_viewed")
    chosen = [j for j in KEYS.get("compare") if j not in (viewed, before)]
    KEYS.put("compare", [viewed, *chosen] if viewed else chosen)
    st.session_state["_ft_viewed"] = viewed


def view_job(job_id: str) -> None:
    KEYS.put("job", job_id)
    follow_viewed_job()


def report_of(key: str, content: bytes, model: str, epochs: int | None) -> Report:
    """check_file's report, kept in the session per (content, model, epochs): a rerun does not
    count a big file's tokens again."""
    cache = st.session_state.setdefault("_ft_reports", {})
    digest = (key, hashlib.sha256(content).hexdigest(), model, epochs)
    if digest not in cache:
        cache.clear()  # one file at a time per place: the session does not pile up reports
        cache[digest] = check_file(content, model, epochs)
    return cache[digest]


def training_content(file_id: str) -> bytes:
    """An uploaded file's content, fetched once per session (files never change)."""
    contents = st.session_state.setdefault("_ft_file_contents", {})
    if file_id not in contents:
        contents[file_id] = jobs.file_content(client, file_id)
    return contents[file_id]


def file_report(file_id: str, model: str, epochs: int | None) -> Report | None:
    """The report of an uploaded file; None (the error shown) when it cannot be read."""
    try:
        content = training_content(file_id)
    except Exception as exc:
        show_exception(exc)
        return None
    return report_of(f"file:{file_id}", content, model, epochs)


def past_paces(job_list: list[Any]) -> list:
    """How fast this provider trained its last finished jobs (events fetched once per job)."""
    cache = st.session_state.setdefault("_ft_paces", {})
    paces = []
    for job in job_list:
        if job.status != "succeeded":
            continue
        if job.id not in cache:
            try:
                cache[job.id] = job_pace(job, jobs.events(client, job.id))
            except Exception:  # noqa: BLE001 - a job whose events cannot be read just does not count
                cache[job.id] = None
        if cache[job.id] is not None:
            paces.append(cache[job.id])
        if len(paces) >= 5:
            break
    return paces


def list_jobs() -> list[Any]:
    try:
        return jobs.list_jobs(client)
    except Exception as exc:
        show_exception(exc)
        return []


def auto_hyperparameters(report: Report | None) -> dict[str, float]:
    """What "auto" picks for this training file (the API's rules), for the fields to show."""
    if report is None or not report.tokens:
        return {}
    return {"n_epochs": report.epochs, "batch_size": auto_batch_size(len(report.tokens)), "learning_rate_multiplier": 1.0}


def training_price(model: str) -> float | None:
    """Dollars per 1M training tokens as this session's provider bills them: the table's for
    OpenAI and Azure, nothing on the local engine, unknown on any other server."""
    return billed(model_info(model)).fine_tune_training_price


def training_cost_text(cost: float | None) -> str:
    return "unknown" if cost is None else "free" if cost == 0 else f"${cost:,.4f}"


def show_report(report: Report, model: str) -> None:
    if report.errors:
        shown = report.errors[:50]
        more = f"\n\n…and {len(report.errors) - 50} more." if len(report.errors) > 50 else ""
        st.error(f"**{len(report.errors)} problem(s) to fix before this file can train:**\n\n"
                 + "\n".join(f"- {plain(issue)}" for issue in shown) + more, icon=":material/error:")
    if report.warnings:
        st.warning("\n".join(f"- {plain(issue)}" for issue in report.warnings[:50]), icon=":material/warning:")
    cols = st.columns(5)
    cols[0].metric("Examples", f"{len(report.tokens):,}", help=f"{report.lines:,} non-blank lines")
    cols[1].metric("Tokens", f"{report.total_tokens:,}")
    cols[2].metric("Over the limit", len(report.over_limit), help=f"examples over {report.limit:,} tokens")
    cols[3].metric("Billed tokens", f"{report.billed_tokens:,}", help=f"{report.epochs} epoch(s)")
    price = training_price(model)  # the report's cost is the table's, whoever serves the model
    cost = None if price is None else report.billed_tokens * price / 1e6
    cols[4].metric("Cost", training_cost_text(cost),
                   help=f"training price of {model} × billed tokens" if cost is not None
                   else f"No training price is known for {model} on this server.")
    if report.tokens:
        counts = sorted(report.tokens.values())
        st.caption(f"Format: {report.format} · tokens per example: min {counts[0]}, "
                   f"median {counts[len(counts) // 2]}, max {counts[-1]} · duplicates: {len(report.duplicates)}")
    if report.advice:
        st.subheader("Advice from the fine-tuning guide")
        for advice in report.advice:
            (st.success if advice.ok else st.info)(f"**{advice.title}.** {advice.detail}",
                                                   icon=":material/check:" if advice.ok else ":material/lightbulb:")


def delete_picked(labels: dict[str, str], kind: str, delete: Callable[[Any, str], bool]) -> None:
    """Pick items to delete (id -> label), then confirm: deleting cannot be undone."""
    key = f"ft_delete_{kind}_pick"
    st.session_state[key] = [i for i in st.session_state.get(key, []) if i in labels]  # deleted ones go
    picked = st.multiselect(f"{kind.capitalize()}s to delete", list(labels), key=key,
                            format_func=lambda i: labels[i], placeholder=f"Pick {kind}s to delete")
    with st.popover(f"Delete {len(picked)} {kind}(s)", icon=":material/delete:", disabled=not picked):
        st.text(f"Delete {', '.join(picked)}? This cannot be undone"
                + (": the model answers no more requests." if kind == "model" else "."))
        if st.button("Delete", type="primary", key=f"ft_delete_{kind}s"):
            failed = False
            for item in picked:
                try:
                    delete(client, item)
                except Exception as exc:
                    show_exception(exc)
                    failed = True
            if kind == "model":
                forget_models()
            if not failed:
                st.rerun()


# Only the open tab runs (on_change="rerun" gives each tab its `.open`): toggling a control on
# "Check data" sent GET /files and GET /fine_tuning/jobs when every tab ran.
check_tab, start_tab, jobs_tab, metrics_tab, files_tab = st.tabs(
    ["Check data", "Start a job", "Jobs", "Metrics", "Files and models"], key="ft_tab", on_change="rerun",
)

# --------------------------------------------------------------------------- Check data
with check_tab:
    if check_tab.open:
        models = fine_tunable_models()
        uploaded = st.file_uploader("Training data (JSONL)", type=["jsonl"], key="ft_check_file",
                                    help="One example per line: {\"messages\": [...]} or {\"prompt\": ..., \"completion\": ...}.")
        if uploaded is not None:  # kept: the uploader forgets its file when the page is left
            st.session_state["ft_checked"] = {"name": uploaded.name, "content": uploaded.getvalue()}
        checked = st.session_state.get("ft_checked")
        left, right = st.columns(2)
        models = models or ["local-text"]
        if KEYS.get("check_model") not in models:
            KEYS.put("check_model", models[0])
        price_model = KEYS.widget(left.selectbox, "Model (for tokens and price)", "check_model", options=models)
        auto_epochs = KEYS.widget(right.toggle, "Epochs: auto", "check_auto_epochs")
        epochs = None if auto_epochs else KEYS.widget(right.number_input, "Epochs", "check_epochs", min_value=1,
                                                      max_value=50)
        if checked is not None:
            if uploaded is None:
                note, clear = st.columns([4, 1])
                note.caption(f"Checked file: {checked['name']} (kept from before; upload another to replace it).")
                if clear.button("Forget it", key="ft_forget_checked"):
                    del st.session_state["ft_checked"]
                    st.rerun()
            content = checked["content"]
            report = report_of("check", content, price_model, epochs)
            show_report(report, price_model)
            if report.ok:
                up_train, up_valid = st.columns(2)
                for column, role in ((up_train, "training"), (up_valid, "validation")):
                    if column.button(f"Upload as {role} file", key=f"ft_upload_{role}", width="stretch"):
                        try:
                            uploaded_file = jobs.upload(client, checked["name"], content)
                        except Exception as exc:
                            show_exception(exc)
                        else:
                            KEYS.put(f"{role}_pick", uploaded_file.id)
                            st.success(f"Uploaded {plain(uploaded_file.filename)} as {uploaded_file.id}: pick it in "
                                       "**Start a job**.")

# --------------------------------------------------------------------------- Start a job
with start_tab:
    if start_tab.open:
        try:
            files = jobs.training_files(client)
        except Exception as exc:
            show_exception(exc)
            files = []
        by_id = {f.id: f for f in files}
        if not files:
            st.info("No training files yet: check and upload one in **Check data**.")
        else:
            ids = list(by_id)
            if KEYS.get("training_pick") not in ids:
                KEYS.put("training_pick", ids[0])
            if KEYS.get("validation_pick") not in [None, *ids]:
                KEYS.put("validation_pick", None)
            left, right = st.columns(2)
            training = KEYS.widget(left.selectbox, "Training file", "training_pick", options=ids,
                            format_func=lambda i: file_label(by_id[i]))
            validation = KEYS.widget(right.selectbox, "Validation file (optional)", "validation_pick", options=[None, *ids],
                              format_func=lambda i: "None" if i is None else file_label(by_id[i]))
            models = fine_tunable_models()
            left, mid, right = st.columns(3)
            models = models or ["local-text"]
            if KEYS.get("base_model") not in models:
                KEYS.put("base_model", models[0])
            base = KEYS.widget(left.selectbox, "Base model", "base_model", options=models)
            suffix = KEYS.widget(mid.text_input, "Suffix", "suffix", max_chars=64, placeholder="my-model",
                          help="Up to 64 characters, added to the fine-tuned model's name.")
            seed = KEYS.widget(right.number_input, "Seed (optional)", "seed", min_value=0, max_value=2147483647, step=1,
                               help="The same seed and data give the same model.")
            values, hyper_columns = {}, dict(zip((name for name, _, _ in HYPER_DEFAULTS), st.columns(3)))
            for name, default, step in HYPER_DEFAULTS:
                column = hyper_columns[name]
                if KEYS.widget(column.checkbox, f"{name}: auto", f"auto_{name}", help=HYPER_HELP[name]):
                    values[name] = None  # drawn below, once the file says what auto picks
                else:  # the user's own value, kept while auto is ticked
                    values[name] = KEYS.widget(column.number_input, name, f"value_{name}", step=step,
                                               min_value=0.01 if isinstance(default, float) else 1,
                                               label_visibility="collapsed")

            train_report = file_report(training, base, values["n_epochs"])
            picked_by_auto = auto_hyperparameters(train_report)
            for name, default, step in HYPER_DEFAULTS:
                if values[name] is None:
                    st.session_state[f"_ft_auto_{name}"] = picked_by_auto.get(name)
                    hyper_columns[name].number_input(
                        name, key=f"_ft_auto_{name}", step=step, min_value=0.01 if isinstance(default, float) else 1,
                        disabled=True, placeholder="auto", label_visibility="collapsed",
                        help="What auto picks for this training file. Untick auto to set your own.")
            valid_report = file_report(validation, base, None) if validation else None
            refused = None
            if train_report and valid_report and train_report.format and valid_report.format \
                    and train_report.format != valid_report.format:
                refused = (f"The training file is in the {train_report.format} format and the validation file in the "
                           f"{valid_report.format} format. Both must be in the same format: the model would be "
                           "scored on examples shaped unlike the ones it learns from (valid loss stuck high, accuracy 0).")
                st.error(refused, icon=":material/block:")
            if train_report and train_report.tokens:
                plan = forecast(examples=len(train_report.tokens),
                                tokens_per_epoch=train_report.billed_tokens // max(train_report.epochs, 1),
                                epochs=train_report.epochs, batch_size=values["batch_size"],
                                price_per_million=training_price(base), paces=past_paces(list_jobs()))
                cols = st.columns(4)
                cols[0].metric("Training tokens", f"{plan.training_tokens:,}", help=f"{plan.epochs} epoch(s)")
                cols[1].metric("Cost", training_cost_text(plan.cost),
                               help=f"training tokens × the training price of {base} (data/models.toml)")
                cols[2].metric("Steps", f"{plan.steps:,}", help=f"batch size {plan.batch_size}")
                cols[3].metric("Duration", duration(plan.seconds),
                               help=f"at the pace of this provider's last {len(plan.based_on)} finished job(s)"
                               if plan.based_on else "No finished job on this provider yet to learn its pace from.")
            if st.button("Start fine-tuning", type="primary", key="ft_start", disabled=refused is not None):
                try:
                    job = jobs.create_job(client, model=base, training_file=training, validation_file=validation,
                                          suffix=(suffix or "").strip() or None, seed=None if seed is None else int(seed),
                                          **values)
                except Exception as exc:
                    show_exception(exc)
                else:
                    view_job(job.id)
                    st.success(f"Started {job.id} ({job.status}). Follow it in **Jobs**.")

# --------------------------------------------------------------------------- Jobs
with jobs_tab:
    if jobs_tab.open:
        job_list = list_jobs()
        any_active = any(j.status in jobs.ACTIVE for j in job_list)
        live = KEYS.widget(st.toggle, "Live refresh", "live",
                    help=f"While a job runs, refresh the list and the job every {REFRESH_SECONDS:g} s.")

        @st.fragment(run_every=REFRESH_SECONDS if live and any_active else None)
        def jobs_view(was_active: bool) -> None:
            current = list_jobs()
            if not current:
                st.info("No fine-tuning jobs yet: start one in **Start a job**.")
                return
            if was_active and not any(j.status in jobs.ACTIVE for j in current):
                st.rerun()  # all finished: refresh the page (pickers, Metrics) and stop the timer
            for job in current[:20]:
                color, icon = jobs.STATUS_BADGES.get(job.status, ("gray", None))
                row = st.columns([2, 3, 4, 2])
                row[0].badge(job.status, color=color, icon=icon)
                row[1].text(job.id)
                row[2].text(read(job, "fine_tuned_model") or f"{job.model} · {read(job, 'user_provided_suffix') or '—'}")
                row[3].caption(when(job.created_at))
            by_job = {j.id: j for j in current}
            if KEYS.get("job") not in by_job:
                view_job(current[0].id)
            job_id = KEYS.widget(st.selectbox, "Job", "job", options=list(by_job), on_change=follow_viewed_job,
                          format_func=lambda i: f"{jobs.job_label(by_job[i])} · {by_job[i].status}")
            job_detail(job_id)

        def job_detail(job_id: str) -> None:
            try:
                job = jobs.retrieve(client, job_id)
                job_events = jobs.events(client, job_id)
                checkpoints = jobs.checkpoints(client, job_id)
            except Exception as exc:
                show_exception(exc)
                return
            color, icon = jobs.STATUS_BADGES.get(job.status, ("gray", None))
            st.badge(job.status, color=color, icon=icon)
            if read(job, "error", "message"):
                param = read(job, "error", "param")
                st.error(f"**{plain(read(job, 'error', 'code', default=''))}** {plain(job.error.message)}"
                         + (f" (param: {plain(param)})" if param else ""))
            steps = [e.data for e in job_events if e.type == "metrics" and e.data]
            if steps and job.status in jobs.ACTIVE:
                last = steps[-1]
                left = eta(job, job_events)
                st.progress(min(last["step"] / max(last.get("total_steps") or 1, 1), 1.0),
                            text=f"step {last['step']} of {last.get('total_steps', '?')}"
                            + (f" · about {duration(left)} left" if left is not None else ""))
            numbers = st.columns(4)
            for column, name in zip(numbers, ("n_epochs", "batch_size", "learning_rate_multiplier")):
                column.metric(name, read(job, "hyperparameters", name, default="—"), help=HYPER_HELP[name])
            numbers[3].metric("Trained tokens", f"{job.trained_tokens:,}" if job.trained_tokens else "—")
            st.text(f"Base model: {job.model} · Fine-tuned model: {job.fine_tuned_model or '—'}\n"
                    f"Training file: {job.training_file} · Validation file: {job.validation_file or '—'} · "
                    f"Results: {', '.join(job.result_files) or '—'}\n"
                    f"Seed: {job.seed} · Created: {when(job.created_at)} · Finished: {when(job.finished_at)}")
            buttons = st.columns(4)
            if job.status in jobs.ACTIVE and buttons[0].button("Cancel job", key=f"ft_cancel_{job_id}"):
                try:
                    jobs.cancel(client, job_id)
                except Exception as exc:
                    show_exception(exc)
                else:
                    st.rerun()
            if job.fine_tuned_model:
                if buttons[1].button("Try it in Completions", key=f"ft_try_completions_{job_id}"):
                    try_it(job.fine_tuned_model, "completions", job)
                if buttons[2].button("Try it in Chat", key=f"ft_try_chat_{job_id}"):
                    try_it(job.fine_tuned_model, "chat", job)
                if job.validation_file and buttons[3].button(
                    "Evaluate", key=f"ft_evaluate_{job_id}", icon=":material/fact_check:",
                    help="A classification eval of this model against its base model on the validation file, on the Evals page.",
                ):
                    evaluate_fine_tune(job)
            if steps:
                try:
                    run = jobs.job_run(client, job, job_events, checkpoints)
                except (MetricsError, Exception) as exc:  # a broken result file must not hide the job
                    st.warning(f"The metrics could not be read: {plain(exc)}")
                else:
                    metrics_panel([run], key=f"ft_live_{job_id}")
                    advisor_panel([run], key=f"ft_advice_{job_id}", try_checkpoint=lambda m: try_it(m, job=job))
            st.subheader("Events")
            st.dataframe(
                [{"time": when(e.created_at), "level": e.level, "message": e.message} for e in reversed(job_events)],
                hide_index=True, height=240,
            )
            st.subheader("Checkpoints")
            if checkpoints:
                st.dataframe([{"step": c.step_number, "model": c.fine_tuned_model_checkpoint,
                               **{k: round(v, 4) for k, v in c.metrics.model_dump(exclude_none=True).items() if k != "step"}}
                              for c in checkpoints], hide_index=True)
                newest_first = sorted(checkpoints, key=lambda c: c.step_number, reverse=True)
                scored = [c for c in newest_first if read(c, "metrics", "full_valid_loss") is not None]
                best = min(scored, key=lambda c: (c.metrics.full_valid_loss, c.step_number)) if scored else newest_first[0]
                picked = st.selectbox(
                    "Try a checkpoint", [c.fine_tuned_model_checkpoint for c in newest_first],
                    index=newest_first.index(best), key=f"ft_ckpt_{job_id}",
                    format_func=lambda m: m + (" (lowest validation loss)" if m == best.fine_tuned_model_checkpoint
                                               and scored else ""),
                    help="Newest first; it opens on the one with the lowest validation loss, else the newest.")
                if st.button("Try this checkpoint", key=f"ft_try_ckpt_{job_id}"):
                    try_it(picked, job=job)
            elif job.status in ("cancelled", "failed"):
                st.caption(f"None: the job was {job.status} before it saved a checkpoint, so there is no model to try"
                           + (" (the metrics above are what it logged)." if steps else "."))
            else:
                st.caption("None yet: a checkpoint is saved at the end of each of the last epochs.")

        jobs_view(any_active)

# --------------------------------------------------------------------------- Metrics
with metrics_tab:
    if metrics_tab.open:
        job_list = list_jobs()
        st.caption("Overlay jobs of this provider and the logs of any trainer: a Hugging Face trainer_state.json "
                   "(Transformers, TRL, Axolotl, Unsloth), TensorBoard event files, a W&B run-history CSV, or an "
                   "OpenAI results file.")
        labels = {j.id: jobs.job_label(j) for j in job_list}
        KEYS.put("compare", [j for j in KEYS.get("compare") if j in labels])
        chosen = KEYS.widget(st.multiselect, "Jobs", "compare", options=list(labels), format_func=lambda i: labels[i],
                      placeholder="Jobs to chart")
        paths = KEYS.widget(st.text_area, "Follow files or folders on this server (one per line)", "watch_paths",
                     height=68, placeholder="/path/to/output_dir",
                     help="A trainer's output folder (its checkpoint-*/trainer_state.json, runs/ event files) or one "
                          "file. The charts follow it as the trainer writes, every "
                          f"{REFRESH_SECONDS:g} s, with no clicks.")
        uploads = st.file_uploader("…or upload logs", accept_multiple_files=True, key="ft_log_files",
                                   help="trainer_state.json, events.out.tfevents.*, a W&B CSV export, or an OpenAI "
                                        "results file (CSV, or base64 as files.content returns it).")
        logs_kept = st.session_state.setdefault("ft_logs", {})  # name -> bytes: uploads outlive page switches
        for upload in uploads or []:
            logs_kept[upload.name] = upload.getvalue()
        pasted = KEYS.widget(st.text_area, "…or paste a results file", "import_text", height=68)
        if logs_kept:
            note, forget = st.columns([4, 1])
            note.caption("Uploaded logs: " + ", ".join(logs_kept))
            if forget.button("Forget uploaded logs", key="ft_forget_logs"):
                logs_kept.clear()
                st.rerun()
        watched = [p.strip() for p in (paths or "").splitlines() if p.strip()]
        chosen_active = any(j.status in jobs.ACTIVE for j in job_list if j.id in chosen)

        @st.fragment(run_every=REFRESH_SECONDS if watched or chosen_active else None)
        def metrics_view(job_ids: list[str], watched: list[str], pasted: str) -> None:
            runs: list[Run] = []
            problems: list[str] = []
            job_of: dict[str, Any] = {}  # checkpoint model -> its job, to try it as the job's data was shaped
            for job_id in job_ids:
                try:
                    job = jobs.retrieve(client, job_id)
                    runs.append(jobs.job_run(client, job))
                    job_of.update({c.model: job for c in runs[-1].checkpoints if c.model})
                except MetricsError as exc:
                    problems.append(f"{job_id}: {exc}")
                except Exception as exc:
                    show_exception(exc)
            for path in watched:
                found, trouble = load_path(path)
                runs += found
                problems += trouble
            sources = [(name, content) for name, content in logs_kept.items()]
            if pasted.strip():
                sources.append(("pasted", pasted.strip().encode()))
            for name, content in sources:
                try:
                    runs += from_content(content, name)
                except MetricsError as exc:
                    problems.append(f"{name}: {exc} Check that it is one of the formats above.")
            for problem in problems:
                st.error(plain(problem), icon=":material/error:")
            if not runs:
                if not problems:
                    st.info("Pick a job, give a path, or upload a log to chart it.")
                return
            st.caption(" · ".join(f"{plain(run.label)}: {len(run.frame):,} steps" for run in runs))  # labels hold model ids
            metrics_panel(runs, key="ft_compare_charts")
            st.subheader("Which checkpoint to keep")
            advisor_panel(runs, key="ft_compare_advice", try_checkpoint=lambda m: try_it(m, job=job_of.get(m)))
            with st.expander("The numbers"):
                for run in runs:
                    st.caption(plain(run.label))
                    st.dataframe(run.frame.dropna(axis=1, how="all"), hide_index=True)

        metrics_view(chosen, watched, pasted or "")

# --------------------------------------------------------------------------- Files and models
with files_tab:
    if files_tab.open:
        try:
            every_file = jobs.all_files(client)
            tuned = jobs.fine_tuned_models(client)
        except Exception as exc:
            show_exception(exc)
            every_file, tuned = [], []
        st.subheader("Files")
        if not every_file:
            st.caption("No files.")
        else:
            st.dataframe(
                [{"id": f.id, "filename": f.filename, "purpose": f.purpose, "bytes": f.bytes, "created": when(f.created_at)}
                 for f in every_file],
                hide_index=True,
            )
            delete_picked({f.id: file_label(f) for f in every_file}, "file", jobs.delete_file)
        st.subheader("Fine-tuned models and checkpoints")
        if not tuned:
            st.caption("No fine-tuned models.")
        else:
            st.dataframe([{"model": m.id, "owned_by": m.owned_by, "created": when(m.created)} for m in tuned],
                         hide_index=True)
            delete_picked({m.id: m.id for m in tuned}, "model", jobs.delete_model)
