"""Fine-tuning: check training data, start jobs, watch them live, chart their metrics, try the model.

What the hyperparameters mean on the local engine (local-text, an n-gram model): each step
scores a batch with the current model (loss, token accuracy on the completion tokens), then
adds the batch's counts to the model's adaptation layer; epochs are passes over the data and
make the model copy its examples more surely; the learning-rate multiplier is the layer's
weight (2.0 trains like twice the epochs). Details: local_engine/fine_tune.py.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.connection import base_models, current_connection, forget_models, get_client
from components.errors import show_exception
from components.fine_tune_charts import metrics_panel
from components.plain import inert, plain
from playground.catalog import model_info
from playground.fine_tuning import jobs
from playground.fine_tuning.metrics import MetricsError, epoch_boundaries, parse_results
from playground.fine_tuning.validate import check_file
from playground.objects import read

REFRESH_SECONDS = 2.0
HYPER_HELP = {
    "n_epochs": "Passes over the training data. On local-text each pass counts the examples again, so the "
                "model copies them more surely. auto: 3, or more for small data sets.",
    "batch_size": "Examples per step: sets the number of steps and how often the metrics are reported. "
                  "auto: 0.2% of the examples (at least 1).",
    "learning_rate_multiplier": "How strongly each step moves the model. On local-text it is the adaptation "
                                "layer's weight: 2.0 trains like twice the epochs. auto: 1.0.",
}

st.title("Fine-tuning")
st.caption("Check a JSONL data set, start a job, watch it train, compare its metrics, and try the model.")
client = get_client()


def when(timestamp: int | None) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S") if timestamp else "—"


def fine_tunable_models() -> list[str]:
    """The provider's models that can be fine-tuned (per the catalog), and its fine-tuned models."""
    models = [m for m in base_models() if model_info(m).fine_tunable or m.startswith("ft:")]
    return sorted(models, key=lambda m: (m.startswith("ft:"), m))


def try_it(model: str, page: str) -> None:
    """Open Completions or Chat with `model` chosen."""
    if current_connection().provider == "azure":
        # Azure serves a fine-tuned model only through a deployment, made on the management plane.
        st.info(
            f"On Azure, `{model}` answers once it is deployed: create a deployment of it (Azure portal, "
            "or the management API), then pick that deployment on the page.",
            icon=":material/cloud_upload:",
        )
        return
    st.session_state[f"open_with_model:{page}_model"] = model
    forget_models()
    st.switch_page(f"app_pages/{page}.py")


def file_label(f) -> str:  # noqa: ANN001 - SDK FileObject
    return f"{f.filename} · {f.id}"


check_tab, start_tab, jobs_tab, metrics_tab, import_tab = st.tabs(
    ["Check data", "Start a job", "Jobs", "Metrics", "Import results"]
)

# --------------------------------------------------------------------------- Check data
with check_tab:
    models = fine_tunable_models()
    uploaded = st.file_uploader("Training data (JSONL)", type=["jsonl"], key="ft_check_file",
                                help="One example per line: {\"messages\": [...]} or {\"prompt\": ..., \"completion\": ...}.")
    left, right = st.columns(2)
    price_model = left.selectbox("Model (for tokens and price)", models or ["local-text"], key="ft_check_model")
    auto_epochs = right.toggle("Epochs: auto", value=True, key="ft_check_auto_epochs")
    epochs = None if auto_epochs else right.number_input("Epochs", 1, 50, 3, key="ft_check_epochs")
    if uploaded is not None:
        content = uploaded.getvalue()
        report = check_file(content, price_model, epochs)
        if report.errors:
            shown = report.errors[:50]
            more = f"\n\n…and {len(report.errors) - 50} more." if len(report.errors) > 50 else ""
            st.error(f"**{len(report.errors)} problem(s) to fix before this file can train:**\n\n"
                     + "\n".join(f"- {inert(issue)}" for issue in shown) + more, icon=":material/error:")
        if report.warnings:
            st.warning("\n".join(f"- {inert(issue)}" for issue in report.warnings[:50]), icon=":material/warning:")
        cols = st.columns(5)
        cols[0].metric("Examples", f"{len(report.tokens):,}", help=f"{report.lines:,} non-blank lines")
        cols[1].metric("Tokens", f"{report.total_tokens:,}")
        cols[2].metric("Over the limit", len(report.over_limit), help=f"examples over {report.limit:,} tokens")
        cols[3].metric("Billed tokens", f"{report.billed_tokens:,}", help=f"{report.epochs} epoch(s)")
        cols[4].metric("Cost", "unknown" if report.cost is None else f"${report.cost:,.4f}",
                       help=f"training price of {price_model} × billed tokens")
        if report.tokens:
            counts = sorted(report.tokens.values())
            st.caption(f"Format: {report.format} · tokens per example: min {counts[0]}, "
                       f"median {counts[len(counts) // 2]}, max {counts[-1]} · duplicates: {len(report.duplicates)}")
        if report.advice:
            st.subheader("Advice from the fine-tuning guide")
            for advice in report.advice:
                (st.success if advice.ok else st.info)(f"**{inert(advice.title)}.** {inert(advice.detail)}",
                                                       icon=":material/check:" if advice.ok else ":material/lightbulb:")
        if report.ok:
            up_train, up_valid = st.columns(2)
            for column, role in ((up_train, "training"), (up_valid, "validation")):
                if column.button(f"Upload as {role} file", key=f"ft_upload_{role}", width="stretch"):
                    try:
                        uploaded_file = jobs.upload(client, uploaded.name, content)
                    except Exception as exc:
                        show_exception(exc)
                    else:
                        st.session_state[f"ft_{role}_pick"] = uploaded_file.id
                        st.success(f"Uploaded {inert(uploaded_file.filename)} as {inert(uploaded_file.id)}: pick it in "
                                   "**Start a job**.")

# --------------------------------------------------------------------------- Start a job
with start_tab:
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
        if st.session_state.get("ft_training_pick") not in ids:
            st.session_state["ft_training_pick"] = ids[0]
        if st.session_state.get("ft_validation_pick") not in [None, *ids]:
            st.session_state["ft_validation_pick"] = None
        with st.form("ft_start"):
            left, right = st.columns(2)
            training = left.selectbox("Training file", ids, key="ft_training_pick", format_func=lambda i: file_label(by_id[i]))
            validation = right.selectbox("Validation file (optional)", [None, *ids], key="ft_validation_pick",
                                         format_func=lambda i: "None" if i is None else file_label(by_id[i]))
            models = fine_tunable_models()
            left, mid, right = st.columns(3)
            base = left.selectbox("Base model", models or ["local-text"], key="ft_base_model")
            suffix = mid.text_input("Suffix", key="ft_suffix", max_chars=64, placeholder="my-model",
                                    help="Up to 64 characters, added to the fine-tuned model's name.")
            seed = right.number_input("Seed (optional)", min_value=0, max_value=2147483647, value=None, step=1,
                                      key="ft_seed", help="The same seed and data give the same model.")
            values = {}
            for column, (name, default, step) in zip(
                st.columns(3), (("n_epochs", 3, 1), ("batch_size", 1, 1), ("learning_rate_multiplier", 1.0, 0.1))
            ):
                auto = column.checkbox(f"{name}: auto", value=True, key=f"ft_auto_{name}", help=HYPER_HELP[name])
                value = column.number_input(name, value=default, step=step, key=f"ft_value_{name}",
                                            min_value=0.01 if isinstance(default, float) else 1,
                                            label_visibility="collapsed")
                values[name] = None if auto else value
            submitted = st.form_submit_button("Start fine-tuning", type="primary")
        if submitted:
            try:
                job = jobs.create_job(client, model=base, training_file=training, validation_file=validation,
                                      suffix=suffix.strip() or None, seed=None if seed is None else int(seed), **values)
            except Exception as exc:
                show_exception(exc)
            else:
                st.session_state["ft_job"] = job.id
                st.success(f"Started {job.id} ({job.status}). Follow it in **Jobs**.")

# --------------------------------------------------------------------------- Jobs
with jobs_tab:
    try:
        job_list = jobs.list_jobs(client)
    except Exception as exc:
        show_exception(exc)
        job_list = []
    if not job_list:
        st.info("No fine-tuning jobs yet: start one in **Start a job**.")
    else:
        for job in job_list[:20]:
            color, icon = jobs.STATUS_BADGES.get(job.status, ("gray", None))
            row = st.columns([2, 3, 4, 2])
            row[0].badge(job.status, color=color, icon=icon)
            row[1].write(f"`{job.id}`")
            row[2].write(job.fine_tuned_model or job.model)
            row[3].caption(when(job.created_at))
        job_ids = [j.id for j in job_list]
        if st.session_state.get("ft_job") not in job_ids:
            st.session_state["ft_job"] = job_ids[0]
        statuses = {j.id: j.status for j in job_list}
        left, right = st.columns([3, 1])
        selected = left.selectbox("Job", job_ids, key="ft_job", format_func=lambda i: f"{i} · {statuses[i]}")
        live = right.toggle("Live refresh", value=True, key="ft_live",
                            help=f"While the job runs, refresh this view every {REFRESH_SECONDS:g} s.")
        active = statuses[selected] in jobs.ACTIVE

        @st.fragment(run_every=REFRESH_SECONDS if live and active else None)
        def job_view(job_id: str, was_active: bool) -> None:
            try:
                job = jobs.retrieve(client, job_id)
                job_events = jobs.events(client, job_id)
                checkpoints = jobs.checkpoints(client, job_id)
            except Exception as exc:
                show_exception(exc)
                return
            if was_active and job.status not in jobs.ACTIVE:
                st.rerun()  # finished: refresh the list and stop the timer
            color, icon = jobs.STATUS_BADGES.get(job.status, ("gray", None))
            st.badge(job.status, color=color, icon=icon)
            if read(job, "error", "message"):
                param = read(job, "error", "param")
                st.error(f"**{plain(read(job, 'error', 'code', default=''))}** {plain(job.error.message)}"
                         + (f" (param: {plain(param)})" if param else ""))
            steps = [e.data for e in job_events if e.type == "metrics" and e.data]
            if steps and job.status in jobs.ACTIVE:
                last = steps[-1]
                st.progress(min(last["step"] / max(last.get("total_steps") or 1, 1), 1.0),
                            text=f"step {last['step']} of {last.get('total_steps', '?')}")
            numbers = st.columns(4)
            for column, name in zip(numbers, ("n_epochs", "batch_size", "learning_rate_multiplier")):
                column.metric(name, read(job, "hyperparameters", name, default="—"), help=HYPER_HELP[name])
            numbers[3].metric("Trained tokens", f"{job.trained_tokens:,}" if job.trained_tokens else "—")
            st.markdown(
                f"**Base model** `{job.model}` · **Fine-tuned model** `{job.fine_tuned_model or '—'}`  \n"
                f"**Training file** `{job.training_file}` · **Validation file** `{job.validation_file or '—'}` · "
                f"**Results** {', '.join(f'`{r}`' for r in job.result_files) or '—'}  \n"
                f"**Seed** {job.seed} · **Created** {when(job.created_at)} · **Finished** {when(job.finished_at)}"
            )
            buttons = st.columns(3)
            if job.status in jobs.ACTIVE and buttons[0].button("Cancel job", key=f"ft_cancel_{job_id}"):
                try:
                    jobs.cancel(client, job_id)
                except Exception as exc:
                    show_exception(exc)
                else:
                    st.rerun()
            if job.fine_tuned_model:
                if buttons[1].button("Try it in Completions", key=f"ft_try_completions_{job_id}"):
                    try_it(job.fine_tuned_model, "completions")
                if buttons[2].button("Try it in Chat", key=f"ft_try_chat_{job_id}"):
                    try_it(job.fine_tuned_model, "chat")
            if steps:
                try:
                    frame = jobs.metrics_frame(client, job, job_events)
                except (MetricsError, Exception) as exc:  # a broken result file must not hide the job
                    st.warning(f"The metrics could not be read: {exc}")
                else:
                    metrics_panel({job_id: frame}, key=f"ft_live_{job_id}")
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
                picked = st.selectbox("Try a checkpoint", [c.fine_tuned_model_checkpoint for c in checkpoints],
                                      key=f"ft_ckpt_{job_id}")
                if st.button("Try this checkpoint in Completions", key=f"ft_try_ckpt_{job_id}"):
                    try_it(picked, "completions")
            else:
                st.caption("None yet: a checkpoint is saved at the end of each of the last epochs.")

        job_view(selected, active)

# --------------------------------------------------------------------------- Metrics
with metrics_tab:
    with_metrics = [j for j in job_list if j.status in ("succeeded", "running", "cancelled", "failed")]
    if not with_metrics:
        st.info("No job has metrics yet.")
    else:
        labels = {j.id: f"{read(j, 'user_provided_suffix') or j.id} ({j.status})" for j in with_metrics}
        default = [st.session_state["ft_job"]] if st.session_state.get("ft_job") in labels else [with_metrics[0].id]
        chosen = st.multiselect("Jobs to compare", list(labels), default=default, key="ft_compare",
                                format_func=lambda i: labels[i])
        frames, boundaries = {}, {}
        for job in (j for j in with_metrics if j.id in chosen):
            try:
                frame = jobs.metrics_frame(client, job)
            except MetricsError as exc:
                st.warning(f"{job.id}: {exc}")
                continue
            except Exception as exc:
                show_exception(exc)
                continue
            frames[labels[job.id]] = frame
            epochs = read(job, "hyperparameters", "n_epochs")
            if job.status == "succeeded" and isinstance(epochs, int) and not frame.empty:
                boundaries[labels[job.id]] = epoch_boundaries(frame, round(frame["step"].max() / epochs))
        metrics_panel(frames, key="ft_compare_charts", boundaries=boundaries)

# --------------------------------------------------------------------------- Import results
with import_tab:
    st.caption("A results file from OpenAI (today's `step,train_loss,…` CSV, also base64-encoded as "
               "`files.content` returns it) or from the legacy fine-tunes API (with classification metrics).")
    results = st.file_uploader("Results file", type=["csv", "txt", "b64"], key="ft_import_file")
    pasted = st.text_area("…or paste its content", key="ft_import_text", height=100)
    per_epoch = st.number_input("Steps per epoch (0: no epoch lines)", min_value=0, value=0, key="ft_import_per_epoch")
    source = results.getvalue() if results is not None else pasted.strip()
    if source:
        try:
            imported = parse_results(source)
        except MetricsError as exc:
            st.error(f"{exc} Check that you exported the results file of a fine-tuning job.")
        else:
            name = results.name if results is not None else "pasted"
            st.caption(f"{len(imported):,} steps from {name}.")
            metrics_panel({name: imported}, key="ft_import_charts",
                          boundaries={name: epoch_boundaries(imported, per_epoch)} if per_epoch else None)
            with st.expander("The table"):
                st.dataframe(imported.dropna(axis=1, how="all"), hide_index=True)
