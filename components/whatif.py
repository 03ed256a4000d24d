"""What-ifs under a finished run's token view: where another temperature and top_p would
have branched, and continuing the text from an alternative the model weighed.

Branches live in st.session_state under the run's key, as a small tree: the original run is
node 0; each continuation records its parent and the position it parts at.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.connection import get_client
from components.errors import show_problem
from components.lazy import lazy_expander
from components.plain import inert
from components.state import kept_until
from components.token_view import ShadedText, draw_shaded_text, render_token_view, shaded_text, token_label
from playground.catalog import ModelInfo
from playground.params import controls_from_request, params_for
from playground.requests import build_request
from playground.runner import RunResult, run
from playground.whatif import (
    Branch,
    branch_base,
    branch_points,
    branch_prompt,
    branch_tokens,
    most_likely_branches,
    transcript_prompt,
)

MARK_ABOVE = 0.5  # positions whose chance of a different token may exceed this are marked
OPEN_UP_TO = 1000  # tokens: a longer run's "other settings" view waits until opened


def render_whatif(result: RunResult, info: ModelInfo, *, key: str) -> None:
    """The what-if section of a run with token probabilities (its first choice)."""
    tokens = result.choices[0].tokens if result.choices else []
    if not any(t.top for t in tokens):
        return
    st.subheader("What if", divider="gray")
    # Expanders, not tabs: a branch run reruns the page, and tabs would fall back to the first.
    # A long run's second view of its text is drawn when opened: it doubles what the page sends.
    box, is_open = lazy_expander("Under other settings: where a sample would branch", key=f"{key}:wi_open",
                                 expanded=len(tokens) <= OPEN_UP_TO)
    if is_open:
        with box:
            _other_settings(tokens, key=key)
    with st.expander("Continue from an alternative", expanded=True):
        _continue(result, info, key=key)


def _other_settings(tokens: list, *, key: str) -> None:
    left, right = st.columns(2)
    temperature = left.slider("Temperature", 0.0, 2.0, 0.2, 0.05, key=f"{key}:wi_t")
    top_p = right.slider("Top P", 0.0, 1.0, 1.0, 0.01, key=f"{key}:wi_p")
    points, marks, likely, marked = _branches(tokens, temperature, top_p, key=key)
    st.caption(
        f"Marked: {len(marks)} of {len(points)} positions where a sample at these settings would more likely than not "
        "pick another token (or where the chosen token falls outside the new nucleus). Only the returned alternatives "
        "are known: where they do not settle it, the probability is a range that holds for any rest of the vocabulary. "
        "Penalties and logit bias are not modelled."
    )
    draw_shaded_text(marked, key=f"{key}:wi_text")  # the view above has the alternatives
    if likely:
        st.dataframe(
            pd.DataFrame({
                "#": [b.index for b in likely],
                "token": [token_label(b.token, None) for b in likely],
                "P(different) from": [b.p_different.low for b in likely],
                "to": [b.p_different.high for b in likely],
                "new nucleus": [b.nucleus for b in likely],
            }),
            hide_index=True,
            key=f"{key}:wi_table",
            column_config={
                "P(different) from": st.column_config.NumberColumn(format="percent"),
                "to": st.column_config.NumberColumn(format="percent"),
            },
        )


def _branches(tokens: list, temperature: float, top_p: float, *, key: str) -> tuple[list, dict[int, str], list, ShadedText]:
    """(branch points, marks by token index, the most likely branches, the marked text),
    kept for this token list and these settings: any rerun of the page would redo them."""

    def compute() -> tuple[list, dict[int, str], list, ShadedText]:
        points = branch_points(tokens, temperature=temperature, top_p=top_p)
        marks = {b.index: f"a sample at T={temperature:g}, top_p={top_p:g} differs here with p "
                 + (f"{b.p_different.low:.1%}" if b.p_different.exact else f"{b.p_different.low:.1%}–{b.p_different.high:.1%}")
                 for b in points if b.p_different.high > MARK_ABOVE or b.nucleus == "outside"}
        return points, marks, most_likely_branches(points), shaded_text(tokens, marks=marks, alternatives=False)

    return kept_until(f"{key}:wi_memo", (tokens, temperature, top_p), compute)  # the list itself: compared by identity first


def _tree(key: str, original: list, prompt: str) -> list[Branch]:
    tree_key = f"{key}:branches"
    tree: list[Branch] = st.session_state.get(tree_key) or []
    if not tree or tree[0].tokens is not original:
        tree = [Branch(0, None, None, original, prompt)]
        st.session_state[tree_key] = tree
    return tree


def _label(tree: list[Branch], branch: Branch) -> str:
    depth, node = 0, branch
    while node.parent is not None:
        depth, node = depth + 1, tree[node.parent]
    mean = "—" if branch.mean_logprob is None else f"{branch.mean_logprob:.3f}"
    if branch.parent is None:
        return f"original · mean logprob {mean}"
    first = token_label(branch.tokens[0].token, branch.tokens[0].bytes)
    return f"{'  ' * depth}└ at #{branch.position} of {branch.parent}: «{inert(first)}» · mean logprob {mean}"  # radio labels are Markdown


def _continue(result: RunResult, info: ModelInfo, *, key: str) -> None:
    request = result.request
    if request.endpoint == "chat":
        st.caption("The chat API has no assistant prefill, so a reply cannot be continued from a token there.")
        if "completions" not in info.endpoints:
            st.info(f"{inert(info.id)} does not serve the completions endpoint, which continuing needs.")
            return
        st.caption(f"{inert(info.id)} also serves completions: a branch continues there, from a plain transcript of the "
                   "conversation (`role: content` lines), which is not the model's own chat template.")
    prompt = request.params.get("prompt") if request.endpoint == "completions" else transcript_prompt(request.params.get("messages") or [])
    tree = _tree(key, result.choices[0].tokens, prompt if isinstance(prompt, str) else "")
    names = [_label(tree, b) for b in tree]
    chosen = st.radio("Branches", range(len(tree)), format_func=lambda i: names[i], key=f"{key}:branch_pick",
                      index=len(tree) - 1)
    node = tree[chosen]
    generated = [t for t in node.tokens if not t.is_prompt]
    if node.parent is not None:
        render_token_view(node.tokens, key=f"{key}:branch{node.id}")
    left, middle, right = st.columns([1, 2, 1], vertical_alignment="bottom")
    position = left.number_input("At token #", 0, max(len(generated) - 1, 0), 0, key=f"{key}:branch_at{node.id}")
    at = generated[int(position)] if generated else None
    options = [i for i, alt in enumerate(at.top) if not (alt.token == at.token and alt.bytes in (None, at.bytes))] if at else []
    if not options:
        middle.caption("No other alternative was returned at this position.")
        return
    alternative = middle.selectbox(
        "Alternative", options, key=f"{key}:branch_alt{node.id}",
        format_func=lambda i: f"«{token_label(at.top[i].token, at.top[i].bytes)}»  {at.top[i].prob:.1%}",
    )
    if not right.button("Continue", key=f"{key}:branch_go{node.id}", icon=":material/call_split:",
                        help="Run again with the prompt, the text up to this token and the alternative, same settings."):
        return
    new_prompt = branch_prompt(node.prompt, generated, int(position), alternative)
    # The same settings, as the completions endpoint takes them; one choice, not streamed.
    saved = controls_from_request(request.endpoint, request.body())
    controls = {name: saved[name] for name in params_for("completions") if name in saved and name != "logprobs"}
    alternatives = saved.get("logprobs") if request.endpoint == "completions" else saved.get("top_logprobs")
    controls.update(prompt=new_prompt, n=1, stream=False, logprobs=min(5, int(alternatives or 5)))
    branch_request = build_request("completions", info, controls)
    with st.spinner("Continuing…"):
        continued = run(get_client(), branch_request)
    if continued.error is not None:
        show_problem(continued.error)
        return
    new = Branch(len(tree), node.id, int(position),
                 branch_tokens(node.tokens, int(position), alternative, continued.choices[0].tokens if continued.choices else []),
                 branch_base(node.prompt, generated, int(position)))
    tree.append(new)
    st.session_state.pop(f"{key}:branch_pick", None)
    st.rerun()

