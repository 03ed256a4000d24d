"""The Evals page's widgets: a configuration with its own connection, the graders, and the
views of a finished eval (summary, paired comparison, classification report, grid).

`open_eval` is the entry point other pages use (the Fine-tuning page's "Evaluate").
"""

from __future__ import annotations

import json
from typing import Any, Callable

import openai
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.connection import current_connection, local_engine_connection
from components.errors import show_exception
from components.models import model_picker, models_for
from components.plain import inert, plain
from components.sampling_controls import declare, draw_control
from components.state import keep, remember
from playground.catalog import ModelInfo, as_billed, model_info
from playground.errors import explain
from playground.evals import report
from playground.evals.config import EvalConfig, tunable
from playground.evals.fine_tune import classification_eval
from playground.evals.graders import KINDS, Grader
from playground.evals.runner import Eval, Key
from playground.providers import DEFAULT_AZURE_API_VERSION, PROVIDER_LABELS, Connection, list_models, make_client

EVAL_KEY = "evals_current"  # the eval on screen (with its cells) in this session
PENDING_KEY = "evals_open"  # an Eval another page asks the Evals page to open
PAGE = "app_pages/evals.py"
WHERE = ["sidebar", "local", "openai", "azure", "compatible"]
COLUMN_TEMPERATURES = [0.0, 1.0, 0.7, 0.3]  # columns start apart, so a first run shows a difference
_WHERE_LABELS = {"sidebar": "The sidebar's connection", **PROVIDER_LABELS}


def open_eval(ev: Eval) -> None:
    """Show `ev` on the Evals page (not yet run: its Run button starts it)."""
    st.session_state[PENDING_KEY] = ev
    st.switch_page(PAGE)


def evaluate_fine_tune(job: Any) -> None:
    """The Fine-tuning page's "Evaluate": the job's fine-tuned model against its base model,
    on its validation file, as a classification eval on the Evals page (not yet run)."""
    if not getattr(job, "fine_tuned_model", None) or not getattr(job, "validation_file", None):
        st.warning("Evaluate needs a finished job with a validation file.")
        return
    connection = current_connection()
    try:
        with make_client(connection) as client:
            content = client.files.content(job.validation_file).read()
        ev = classification_eval(content, job.fine_tuned_model, job.model, connection)
    except openai.OpenAIError as exc:
        show_exception(exc)
        return
    except ValueError as exc:  # a validation file that is not a classification set
        st.warning(f"The validation file cannot be evaluated: {exc}")
        return
    open_eval(ev)


def kept(widget: Callable[..., Any], label: str, *, key: str, **kwargs: Any) -> Any:
    """A widget whose value survives page switches. Its initial value goes through the
    session state (a widget given both a default and a state value warns in the log)."""
    keep(key)
    if "index" in kwargs:  # a selectbox's initial choice
        kwargs["value"] = list(kwargs["options"])[kwargs.pop("index")]
    initial = kwargs.pop("value", None) if "value" in kwargs else kwargs.pop("default", None)
    if initial is not None:
        st.session_state.setdefault(key, initial)
    widget(label, key=key, **kwargs)
    return remember(key)


def _own_connection(i: int, where: str, prefix: str) -> Connection | None:
    k = f"{prefix}_c{i}_{where}"
    if where == "local":
        return local_engine_connection()
    if where == "azure":
        endpoint = kept(st.text_input, "Endpoint", key=f"{k}_endpoint", placeholder="https://NAME.openai.azure.com")
        version = kept(st.text_input, "API version", key=f"{k}_version", value=DEFAULT_AZURE_API_VERSION)
        secret = st.text_input("API key", type="password", key=f"{k}_key", help="Kept only in this browser session.")
        if not endpoint:
            st.info("Enter the Azure resource endpoint.")
            return None
        return Connection("azure", api_key=secret or None, azure_endpoint=endpoint.strip().rstrip("/"), api_version=version or None)
    base = kept(st.text_input, "Base URL", key=f"{k}_base",
                placeholder="https://api.openai.com/v1" if where == "openai" else "http://localhost:11434/v1")
    secret = st.text_input("API key" + (" (optional)" if where == "compatible" else ""), type="password", key=f"{k}_key",
                           help="Kept only in this browser session.")
    if where == "compatible" and not base.strip():
        st.info("Enter the server's base URL.")
        return None
    return Connection(where, api_key=secret or None, base_url=base.strip() or None)  # type: ignore[arg-type]


def _listed_models(connection: Connection) -> list[str] | None:
    """The connection's models, listed once per connection; None when it cannot list them."""
    cache = st.session_state.setdefault("_ev_models", {})
    if connection not in cache:
        try:
            with make_client(connection) as client:
                cache[connection] = list_models(client)
        except openai.OpenAIError as exc:
            problem = explain(exc, secrets=connection.secrets, where=connection.where)
            st.caption(f"Could not list models: {inert(problem.title)}")
            cache[connection] = None
    return cache[connection]


def connection_and_model(i: int, endpoint: str, *, prefix: str = "ev",
                         sidebar_model_key: str | None = None) -> tuple[Connection, ModelInfo, bool] | None:
    """Configuration i's own provider connection (the sidebar's, or another with its own
    base URL and key, kept in this session only) and its model: (connection, the model's
    capabilities, whether it is the sidebar's); None, with a message, until it is usable.
    Evals and Compare columns use it; `prefix` keeps each page's widgets apart."""
    where = kept(st.selectbox, "Connection", key=f"{prefix}_where_{i}", options=WHERE, format_func=_WHERE_LABELS.get)
    if where == "sidebar":
        info = model_picker(endpoint, key=sidebar_model_key or f"{prefix}_model_{i}")
        return None if info is None else (current_connection(), info, True)
    connection = _own_connection(i, where, prefix)
    if connection is None:
        return None
    models = _listed_models(connection) if where != "azure" else None
    key = f"{prefix}_model_{i}_{where}"
    if models:
        choices = models_for(endpoint, models)
        if st.session_state.get(key) not in choices:
            st.session_state[key] = "local-text" if "local-text" in choices else choices[0]
        model = kept(st.selectbox, "Model" if where != "azure" else "Deployment", key=key, options=choices)
    else:
        model = kept(st.text_input, "Model" if where != "azure" else "Deployment", key=key).strip()
        if not model:
            return None
    return connection, as_billed(model_info(model), connection.provider), False  # its own provider's prices


def config_editor(i: int, endpoint: str) -> EvalConfig | None:
    """One configuration's column: its connection, model and parameters."""
    picked = connection_and_model(i, endpoint)
    if picked is None:
        return None
    connection, info, _ = picked
    model = info.id
    params: dict[str, Any] = {}
    prefix = f"evc{i}"
    declare(prefix, endpoint)
    st.session_state.setdefault(f"{prefix}_max_tokens", 16)
    st.session_state.setdefault(f"{prefix}_temperature", COLUMN_TEMPERATURES[i])
    rows = tunable(endpoint)
    first, sectioned = ("max_tokens", "temperature"), [n for n, row in rows.items() if row.section]
    for name in first:
        params[name], _ = draw_control(rows[name], prefix, info)
    with st.expander("More parameters"):
        for name, row in rows.items():
            if name not in first and name not in sectioned:
                params[name], _ = draw_control(row, prefix, info)
    for name in sectioned:  # drawn in their own expander
        params[name], problem = draw_control(rows[name], prefix, info)
        if problem:
            st.warning(f"{rows[name].label}: {problem}")
            return None
    name = kept(st.text_input, "Name", key=f"ev_name_{i}", value="", placeholder=f"{i + 1}. {model}")
    return EvalConfig(model, connection, params, name.strip() or f"{i + 1}. {model}", info=info)


def graders_editor(config_count: int) -> list[Grader]:
    kinds = kept(st.multiselect, "Graders", key="ev_graders", options=list(KINDS), default=["exact"], format_func=KINDS.get,
                 help="The first one is the main score: the summary's threshold and the paired comparison use it.")
    graders = []
    for kind in kinds:
        k = f"ev_g_{kind}"
        with st.expander(f"{KINDS[kind]}: settings", expanded=kind in ("regex", "json", "rubric")):
            grader = Grader(kind)
            if kind in ("exact", "contains", "regex", "label"):
                grader.case_sensitive = kept(st.checkbox, "Case sensitive", key=f"{k}_case", value=False)
            if kind == "regex":
                grader.pattern = kept(st.text_input, "Pattern", key=f"{k}_pattern", value="",
                                      help="Empty: the expected answer, taken literally.")
            if kind == "json":
                schema = kept(st.text_area, "JSON schema (optional)", key=f"{k}_schema", value="", height=100)
                if schema.strip():
                    try:
                        grader.schema = json.loads(schema)
                    except json.JSONDecodeError as exc:
                        st.warning(f"The schema is not JSON: {exc.msg} (line {exc.lineno}).")
            if kind == "numeric":
                grader.tolerance = kept(st.number_input, "Tolerance (absolute)", key=f"{k}_tol", value=0.0, min_value=0.0)
            if kind == "label":
                labels = kept(st.text_input, "Labels (comma-separated, optional)", key=f"{k}_labels", value="",
                              help="A first token that starts one of them counts as that label.")
                grader.labels = [x.strip() for x in labels.split(",") if x.strip()]
            if kind in ("embedding", "rubric"):
                grader.judge = kept(st.selectbox, "Through configuration" if kind == "embedding" else "Judge configuration",
                                    key=f"{k}_judge", options=list(range(config_count)), format_func=lambda j: f"{j + 1}")
                grader.threshold = kept(st.slider, "Passes from score", key=f"{k}_threshold",
                                        value=0.8 if kind == "embedding" else 0.5, min_value=0.0, max_value=1.0, step=0.05)
            if kind == "embedding":
                grader.embedding_model = kept(st.text_input, "Embedding model", key=f"{k}_model", value="text-embedding-3-small",
                                              help="The local engine answers to this name too.")
            if kind == "rubric":
                grader.rubric = kept(st.text_area, "Rubric", key=f"{k}_rubric", value="The answer is correct and concise.",
                                     height=80)
            graders.append(grader)
    return graders


# --- results -------------------------------------------------------------------------------


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "—" if value is None else pattern.format(value)


def summary_view(ev: Eval) -> None:
    rows = []
    for s in report.summarize(ev):
        row: dict[str, Any] = {"configuration": s.label, "cells": s.cells, "errors": s.errors}
        for grader, interval, rate in zip(ev.graders, s.scores, s.pass_rates):
            row[f"{grader.label}: mean"] = None if interval is None else round(interval.mean, 4)
            row[f"{grader.label}: 95% CI"] = "—" if interval is None else f"{interval.low:.3f} – {interval.high:.3f}"
            row[f"{grader.label}: pass"] = _fmt(rate, "{:.1%}")
        row.update({"latency p50 (s)": s.latency_p50, "latency p95 (s)": s.latency_p95, "first token p50 (s)": s.ttft_p50,
                    "prompt tokens": s.prompt_tokens, "completion tokens": s.completion_tokens,
                    "cost": "unknown" if s.cost is None else ("Free" if s.cost == 0 else f"${s.cost:,.6f}")})
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="ev_summary",
                 column_config={c: st.column_config.NumberColumn(c, format="%.3f") for c in
                                ("latency p50 (s)", "latency p95 (s)", "first token p50 (s)")})
    st.caption("Mean score per configuration with a 95% bootstrap interval (2,000 resamples of the graded cells).")


def comparison_view(ev: Eval) -> None:
    if len(ev.configs) < 2:
        return
    labels = [c.label for c in ev.configs]
    left, right, which = st.columns(3)
    a = left.selectbox("Compare", range(len(labels)), format_func=labels.__getitem__, key="ev_cmp_a")
    b = right.selectbox("against", range(len(labels)), index=1, format_func=labels.__getitem__, key="ev_cmp_b")
    g = which.selectbox("by grader", range(len(ev.graders)), format_func=lambda i: ev.graders[i].label, key="ev_cmp_g")
    if a == b:
        st.caption("Pick two different configurations.")
        return
    comparison, rows = report.compare(ev, a, b, g)
    if not rows:
        st.caption("No row has a score under both yet.")
        return
    parts = [f"Over {rows} rows: {labels[a]} won {comparison.won}, lost {comparison.lost}, tied {comparison.tied}."]
    if comparison.mcnemar_p is not None:
        parts.append(f"McNemar's exact test: p = {comparison.mcnemar_p:.4f}.")
    if comparison.bootstrap is not None:
        pb = comparison.bootstrap
        parts.append(f"Mean difference {pb.mean_difference:+.3f} (95% CI {pb.low:+.3f} to {pb.high:+.3f}, paired bootstrap p = {pb.p_value:.4f}).")
    st.text(" ".join(parts))


def classification_view(ev: Eval) -> None:
    index = next((i for i, g in enumerate(ev.graders) if g.kind == "label"), None)
    if index is None:
        return
    st.subheader("Classification")
    for config, column in enumerate(st.columns(len(ev.configs))):
        with column:
            found = report.classification(ev, config, index)
            st.markdown(f"**{plain(ev.configs[config].label)}**")
            if found is None:
                st.caption("No labels graded yet.")
                continue
            classes, cal = found
            st.metric("Accuracy", f"{classes.accuracy:.1%}")
            matrix = pd.DataFrame(classes.matrix, index=[f"expected {x}" for x in classes.labels],
                                  columns=[f"predicted {x}" for x in classes.labels])
            st.dataframe(matrix, key=f"ev_cm_{config}")
            per_class = pd.DataFrame({"precision": classes.precision, "recall": classes.recall, "support": classes.support})
            st.dataframe(per_class, key=f"ev_pr_{config}")
            shown = [b for b in cal.bins if b.count]
            if shown:
                fig = go.Figure([
                    go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "gray"}, name="calibrated"),
                    go.Scatter(x=[b.confidence for b in shown], y=[b.accuracy for b in shown], mode="lines+markers",
                               text=[f"{b.count} cells" for b in shown], name="observed"),
                ])
                fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                                  title="Calibration of the label probability", xaxis_title="label probability",
                                  yaxis_title="accuracy", xaxis_range=[0, 1], yaxis_range=[0, 1])
                st.plotly_chart(fig, key=f"ev_cal_{config}", config={"displayModeBar": False})
                st.caption(f"Expected calibration error {_fmt(cal.ece)} · Brier score {_fmt(cal.brier)}")


def _grade_text(cell: Any) -> str:
    if cell is None:
        return ""
    if cell.error is not None:
        return "error"
    if not cell.grades:
        return ""
    g = cell.grades[0]
    if g.score is None:
        return "?"
    mark = "✓" if g.passed else "✗"
    return mark if g.score in (0.0, 1.0) else f"{mark} {g.score:.2f}"


def grid_view(ev: Eval, repeat: int) -> Key | None:
    """Rows x configurations: each output and its (first) grade. Returns the cell clicked."""
    frame: dict[str, list[Any]] = {"#": list(range(1, len(ev.dataset.rows) + 1))}
    for variable in ev.template.variables()[:3]:
        frame[variable] = [r.get(variable, "") for r in ev.dataset.rows]
    if ev.template.expected:
        frame["expected"] = [ev.expected(r) for r in range(len(ev.dataset.rows))]
    output_columns = {}
    for c in range(len(ev.configs)):
        cells = [ev.cells.get((r, c, repeat)) for r in range(len(ev.dataset.rows))]
        name = f"{c + 1}: output"
        output_columns[name] = c
        frame[name] = [None if cell is None else (cell.text if cell.error is None else cell.error.title) for cell in cells]
        frame[f"{c + 1}: grade"] = [_grade_text(cell) for cell in cells]
    event = st.dataframe(pd.DataFrame(frame), hide_index=True, key="ev_grid", on_select="rerun",
                         selection_mode="single-cell", height=min(38 + 35 * len(ev.dataset.rows), 420))
    cells = getattr(event.selection, "cells", None) or []
    for row, column in cells:
        c = output_columns.get(column, output_columns.get(column.replace("grade", "output")))
        if c is not None:
            return (int(row), c, repeat)
    return None
