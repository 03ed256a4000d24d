"""The token probability view: the text shaded by each token's probability, its top
alternatives on hover and as a chart for a chosen token, a per-token table and a summary.

Model output is untrusted: every token string is escaped before it enters HTML (st.html
sanitizes too, but we do not rely on it); a long run's units are set as text by the
browser, never as HTML.
"""

from __future__ import annotations

import bisect
import functools
import html
import json
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pandas as pd
import streamlit as st

from components.lazy import lazy_expander
from components.plain import inert
from playground.logprobs import Alternative, Summary, TokenInfo, spans, summarize

TOOLTIP_ALTERNATIVES = 5  # per token in the hover tooltip; the chart shows them all
# Above this many units the tooltips are plain text (no bars): a dozen hidden elements per
# token cost the browser seconds at 4,000 tokens (bench_browser's stream figure).
RICH_TOOLTIPS_UP_TO = 1000
NOT_RETURNED = "not returned: the text stops before this token (stop sequence)"
BINS = 10  # colour classes p0..p9 by probability decile
_WHITESPACE = str.maketrans({" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"})

# Red (unlikely) to green (likely), translucent so text stays readable on light and dark themes.
_BIN_COLOURS = [f"hsla({round(120 * i / (BINS - 1))}, 85%, 45%, 0.38)" for i in range(BINS)]
_CSS_RULES = (
    ".tv{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:0.9rem;line-height:1.9;"
    "white-space:pre-wrap;word-break:break-word}"
    # Positioned (for its tooltip) only while hovered: 4,000 positioned spans are 4,000 paint
    # layers, which the browser walks on every pointer event and frame (a hit test took 20 ms).
    ".tv .t{border-radius:3px;padding:1px 0;cursor:help}"
    ".tv .t:hover{position:relative;outline:2px solid #1c83e1}"
    + "".join(f".tv .p{i}{{background:{c}}}" for i, c in enumerate(_BIN_COLOURS))
    + ".tv .na{background:rgba(128,128,128,.18)}"
    ".tv .nr{background:none;opacity:.55;text-decoration:line-through dashed}"
    ".tv .pr{border-bottom:2px dashed rgba(128,128,128,.9);font-style:italic}"
    ".tv .mk{outline:2px solid #e8590c;outline-offset:-1px}"
    # The tooltip box: elements (.tip) up to RICH_TOOLTIPS_UP_TO units, an attribute's text beyond.
    ".tv .tip,.tv .t[data-tip]:hover::after{position:absolute;left:0;top:1.7em;z-index:1000;min-width:15em;"
    "padding:6px 8px;border-radius:6px;background:#262730;color:#fafafa;font-size:0.78rem;"
    "line-height:1.35;white-space:pre;font-style:normal;box-shadow:0 2px 8px rgba(0,0,0,.35)}"
    ".tv .tip{display:none}.tv .t:hover>.tip{display:block}"
    # Where the browser can anchor it: under the token, or flipped to stay on screen (a
    # token at a line's right end had its tooltip cut off by the window's edge).
    "@supports (anchor-name:--t){.tv .t:hover{anchor-name:--tv-token}"
    ".tv .t:hover>.tip,.tv .t[data-tip]:hover::after{position:fixed;position-anchor:--tv-token;top:anchor(bottom);"
    "left:anchor(left);margin-top:2px;position-try-fallbacks:flip-inline,flip-block,flip-block flip-inline}}"
    ".tv .t[data-tip]:hover::after{content:attr(data-tip)}"
    # (Skipped off screen; the hovered one not, as that would also clip its tooltip.)
    ".tv .tvb{content-visibility:auto}.tv .tvb:hover{content-visibility:visible}"
    ".tv .tip .g,.tv .tip .h,.tv .tip .m,.tv .tip .a{display:block}"
    ".tv .tip .g+.g{margin-top:6px;padding-top:4px;border-top:1px solid #555}"
    ".tv .tip .h{margin-bottom:2px;font-weight:600}.tv .tip .m{opacity:.75;margin-top:2px}"
    ".tv .tip .a{position:relative;padding:0 3px}"
    ".tv .tip .a::before{content:'';position:absolute;left:0;top:0;bottom:0;width:var(--w);"
    "background:rgba(28,131,225,.45);z-index:-1}"
    ".tv .tip .c{font-weight:700;color:#7defa1}"
    ".tvl{display:flex;gap:2px;align-items:center;font-size:0.75rem;margin:0 0 6px 0;flex-wrap:wrap}"
    ".tvl span{padding:0 5px;border-radius:3px}"
)
_CSS = f"<style>{_CSS_RULES}</style>"


def visible(token: str) -> str:
    """A token with its whitespace made visible: ' hello\\n' -> '␣hello↵'."""
    return token.translate(_WHITESPACE)


def token_label(token: str, raw: bytes | None) -> str:
    """A token for a table, tooltip or chart: whitespace visible, and a token holding only
    part of a character shown by its bytes (' \\xf0\\x9f\\x8e') rather than as U+FFFD."""
    if raw is not None and "\ufffd" in token:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return visible(raw.decode("utf-8", errors="backslashreplace"))
    return visible(token)


def _bin(prob: float) -> int:
    return min(int(prob * BINS), BINS - 1)


def legend_html(has_prompt: bool, has_unreturned: bool = False) -> str:
    cells = "".join(
        f'<span style="background:{c}">{100 * i // BINS}–{100 * (i + 1) // BINS}%</span>'
        for i, c in enumerate(_BIN_COLOURS)
    )
    prompt = '<span class="pr" style="border-bottom:2px dashed gray;font-style:italic">prompt (echo)</span>' if has_prompt else ""
    unreturned = '<span style="text-decoration:line-through dashed;opacity:.55">not returned (stop)</span>' if has_unreturned else ""
    return f'<div class="tvl"><span>probability:</span>{cells}{prompt}{unreturned}</div>'


def _same(alt: Alternative, t: TokenInfo) -> bool:
    return alt.token == t.token and (alt.bytes is None or t.bytes is None or alt.bytes == t.bytes)


def alternative_rows(t: TokenInfo, limit: int | None = None) -> list[tuple[Alternative, bool, str]]:
    """The token's alternatives as (alternative, is it the chosen one, note): the top N asked
    for (at most `limit`), then the chosen token when it is not among them, noted "not among
    the top N" (or its rank, when it is but beyond `limit`). The tooltip and the chart both
    show these, on both endpoints."""
    listed = t.top if t.top_n is None else t.top[: t.top_n]
    rows = [(a, _same(a, t), "") for a in listed[:limit]]
    if t.logprob is not None and not any(chosen for _, chosen, _ in rows):
        alt = t.top[t.rank - 1] if t.rank is not None else Alternative(t.token, t.logprob, t.bytes)
        rows.append((alt, True, f"rank {t.rank}" if t.among_top else t.rank_text))
    return rows


def _shown_and_more(t: TokenInfo) -> tuple[list[tuple[Alternative, bool, str]], int]:
    """The tooltip's alternatives (alternative_rows, at most TOOLTIP_ALTERNATIVES) and how many
    of those listed it leaves out."""
    shown = alternative_rows(t, TOOLTIP_ALTERNATIVES)
    listed = len(t.top) if t.top_n is None else min(len(t.top), t.top_n)
    return shown, listed - sum(1 for _, chosen, note in shown if not (chosen and note.startswith("not")))


def _tooltip_lines(t: TokenInfo) -> list[tuple[str, str, float | None]]:
    """The tooltip of one token as (class, text, bar width in %): its head, a note when it
    was not returned, its alternatives (the chosen one marked) and how many more there are.
    A long view's tooltips say the same, written by the browser (_TIP_JS) from _tip_fields."""
    prob = "n/a (first token)" if t.logprob is None else f"{100 * math.exp(t.logprob):.2f}%"
    head = f"#{t.index} {token_label(t.token, t.bytes)}  {prob}"
    if t.token_id is not None:
        head += f"  id {t.token_id}"
    lines: list[tuple[str, str, float | None]] = [("h", head, None)]
    if not t.returned:
        lines.append(("m", NOT_RETURNED, None))
    shown, more = _shown_and_more(t)
    for alt, chosen, note in shown:
        p = math.exp(alt.logprob)
        text = f'{"✓ " if chosen else "  "}{100 * p:5.1f}%  {token_label(alt.token, alt.bytes)}{f"  ({note})" if note else ""}'
        lines.append(("a c" if chosen else "a", text, 100 * p))
    if more > 0:
        lines.append(("m", f"+{more} more: choose #{t.index} below", None))
    return lines


def _tooltip(t: TokenInfo) -> str:
    rows = "".join(
        f'<span class="{cls}"{_bar(width)}>{html.escape(text, quote=False)}</span>' for cls, text, width in _tooltip_lines(t)
    )
    return f'<span class="g">{rows}</span>'


def _bar(width: float | None) -> str:
    return "" if width is None else f' style="--w:{width:.0f}%"'


@functools.lru_cache(maxsize=20_000)  # by value: the same token has the same tooltip
def _tip_fields(t: TokenInfo) -> tuple:
    """One token's tooltip as data, for the browser to write out when it is hovered (_TIP_JS):
    (index, label, % to 2 places or None, token id, returned, how many more, then per
    alternative shown: label, % to 1 place, 0 or 1 (chosen) or the chosen one's note).
    Percentages are rounded here, so both views print the same digits. A 4,000-token view
    sent its tooltips as text: two thirds of a megabyte, which held the browser."""
    shown, more = _shown_and_more(t)
    fields: list = [t.index, token_label(t.token, t.bytes), None if t.logprob is None else round(100 * math.exp(t.logprob), 2),
                    t.token_id, int(t.returned), max(more, 0)]
    for alt, chosen, note in shown:
        fields += [token_label(alt.token, alt.bytes), round(100 * math.exp(alt.logprob), 1), (note or 1) if chosen else 0]
    return tuple(fields)


def _tip_data(t: TokenInfo, labels: dict[str, int]) -> list:
    """_tip_fields with each label as its number in the view's `labels` (tokens repeat)."""
    fields = list(_tip_fields(t))
    fields[1] = labels.setdefault(fields[1], len(labels))
    for k in range(6, len(fields), 3):
        fields[k] = labels.setdefault(fields[k], len(labels))
    return fields


_DUMP = functools.partial(json.dumps, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ShadedText:
    """The shaded text as drawn. Up to RICH_TOOLTIPS_UP_TO units: HTML with rich tooltips.
    Beyond: the legend, and each unit as [text, classes, first token index, its marks' note,
    its tokens' tooltip data (_tip_data: labels by their number in `labels`)], which the
    browser makes into the same elements (parsing and sanitizing the HTML of a 4,000-token
    run, most of a megabyte, held the browser for a third of a second). `unit_json`: each
    unit already written as JSON (by a GrowingView, while the run arrived)."""

    html: str = ""
    legend: str = ""
    units: list[list] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    unit_json: list[str] | None = None

    @functools.cached_property
    def payload(self) -> bytes:
        """The long form as the browser reads it: compact JSON bytes, passed on untouched (as a
        dict, Streamlit writes it with spaces, and a second time, keys sorted, to hash it)."""
        units = ",".join(self.unit_json) if self.unit_json is not None else _DUMP(self.units)[1:-1]
        return f'{{"legend":{_DUMP(self.legend)},"labels":{_DUMP(self.labels)},"units":[{units}]}}'.encode()


def _unit_class(members: Sequence[TokenInfo], noted: bool) -> str:
    """A unit's classes: shaded by its least likely token; prompt, not returned, marked."""
    lps = [m.logprob for m in members if m.logprob is not None]
    cls = f"p{_bin(math.exp(min(lps)))}" if lps else "na"
    if members[0].is_prompt:
        cls += " pr"
    if not members[-1].returned:
        cls += " nr"
    if noted:
        cls += " mk"
    return cls


def _unit_row(text: str, members: Sequence[TokenInfo], notes: list[str], labels: dict[str, int], *, alternatives: bool) -> list:
    """One unit of the long form (see ShadedText); adds the labels it uses to `labels`."""
    return [text, _unit_class(members, bool(notes)), members[0].index, " · ".join(notes),
            [_tip_data(m, labels) for m in members] if alternatives else []]


def _legend(tokens: Sequence[TokenInfo]) -> str:
    return legend_html(any(t.is_prompt for t in tokens), not all(t.returned for t in tokens))


def shaded_text(tokens: Sequence[TokenInfo], marks: Mapping[int, str] | None = None, *, alternatives: bool = True) -> ShadedText:
    """The shaded text: one element per display unit (tokens that split a character are
    one unit), coloured by probability (the lowest of the unit's tokens). `marks` outlines
    the units of these token indexes, with the note shown first in their tooltip. Without
    `alternatives`, only marked units have a tooltip (their note): a second view of the
    same text stays a tenth of the size (hidden tooltips are most of it)."""
    by_index = {t.index: t for t in tokens}
    units = spans(tokens)
    if len(units) > RICH_TOOLTIPS_UP_TO:  # the same words, written by the browser as one attribute when hovered
        labels: dict[str, int] = {}
        rows = [_unit_row(text, [by_index[i] for i in indexes], [marks[i] for i in indexes if marks and i in marks], labels,
                          alternatives=alternatives) for text, indexes in units]
        return ShadedText(legend=_legend(tokens), units=rows, labels=list(labels))
    parts = [_CSS, _legend(tokens), '<div class="tv">']
    for text, indexes in units:
        members = [by_index[i] for i in indexes]
        notes = [marks[i] for i in indexes if marks and i in marks]
        tip = "".join(_tooltip(m) for m in members) if alternatives else ""
        if notes:
            tip = f'<span class="g"><span class="h">{html.escape(" · ".join(notes), quote=False)}</span></span>' + tip
        parts.append(f'<span class="t {_unit_class(members, bool(notes))}" data-i="{indexes[0]}">{html.escape(text, quote=False)}'
                     + (f'<span class="tip">{tip}</span>' if tip else "") + "</span>")
    parts.append("</div>")
    return ShadedText(html="".join(parts))


class GrowingView:
    """A long run's shaded text (the long form, no marks), made while its tokens arrive: each
    unit once, with its JSON, so the run's end makes only the last few. Made at the end, the
    4,000 units of a long run took a tenth of a second, and writing them out a thirtieth,
    with the page waiting. The same as shaded_text(tokens), byte for byte."""

    def __init__(self) -> None:
        self.tokens: list[TokenInfo] = []  # those made into units, in order
        self.ends: list[int] = []  # after each unit, how many tokens it and those before hold
        self.rows: list[list] = []
        self.row_json: list[str] = []
        self.labels: dict[str, int] = {}

    def extend(self, tokens: Sequence[TokenInfo], *, final: bool = False) -> None:
        """Make the units of `tokens` (the run's so far) not made yet; all but the last unless
        `final` (the next token may complete its character). Units whose tokens are no longer
        the same objects (the run's end marks a tail not returned) are made again."""
        same = 0
        for made, new in zip(self.tokens, tokens):
            if made is not new:
                break
            same += 1
        kept = bisect.bisect_right(self.ends, same)
        if kept == 0:  # another run's, or all changed: its labels' numbers too
            self.labels.clear()
        del self.ends[kept:], self.rows[kept:], self.row_json[kept:]
        start = self.ends[-1] if self.ends else 0
        rest = tokens[start:]
        by_index = {t.index: t for t in rest}
        units = spans(rest)
        end = start
        for text, indexes in units if final else units[:-1]:
            row = _unit_row(text, [by_index[i] for i in indexes], [], self.labels, alternatives=True)
            end += len(indexes)
            self.ends.append(end)
            self.rows.append(row)
            self.row_json.append(_DUMP(row))
        self.tokens = list(tokens[:end])

    def finish(self, tokens: Sequence[TokenInfo]) -> ShadedText:
        """The view of the whole run (shaded_text's, rich or not)."""
        self.extend(tokens, final=True)
        if len(self.rows) <= RICH_TOOLTIPS_UP_TO or len(self.tokens) != len(tokens):
            return shaded_text(tokens)
        return ShadedText(legend=_legend(tokens), units=self.rows, labels=list(self.labels), unit_json=self.row_json)


def grow_view(tokens: Sequence[TokenInfo], *, key: str) -> None:
    """While a long run arrives: make what its view (render_token_view's with this key) can."""
    if len(tokens) > RICH_TOOLTIPS_UP_TO:
        growing = st.session_state.get(f"{key}:growing")
        if growing is None:
            growing = st.session_state[f"{key}:growing"] = GrowingView()
        growing.extend(tokens)


def choice_key(key: str, index: int) -> str:
    """The key of one choice's view in render_choices(..., key=key)."""
    return f"{key}:{index}"


# Makes a long run's units into the elements shaded_text's HTML has (the CSS is the same):
# text as text, the tooltip as the data-tip attribute the CSS shows on hover. The units go
# in blocks that end where the text breaks a line (so the text flows as one), which the
# browser skips drawing while they are off screen (content-visibility): most of a 4,000-token
# view is, and styling and laying it all out held the browser for a third of a second.
#
# A unit's tooltip is written when the pointer first comes over it, from its data (as
# the rich view's tooltip reads, line for line): [marks' note, tokens' data], each token's as _tip_fields says.
_TIP_JS = f"\nconst NOT_RETURNED = {json.dumps(NOT_RETURNED)};" + """
function tipText([note, members], labels) {
  const parts = note ? [note] : [];
  for (const [index, label, percent, id, returned, more, ...shown] of members) {
    let head = `#${index} ${labels[label]}  ${percent === null ? "n/a (first token)" : percent.toFixed(2) + "%"}`;
    if (id !== null) head += `  id ${id}`;
    const lines = [head];
    if (!returned) lines.push(NOT_RETURNED);
    for (let k = 0; k < shown.length; k += 3) {
      const mark = shown[k + 2], noted = typeof mark === "string" ? `  (${mark})` : "";
      lines.push(`${mark ? "✓ " : "  "}${shown[k + 1].toFixed(1).padStart(5)}%  ${labels[shown[k]]}${noted}`);
    }
    if (more > 0) lines.push(`+${more} more: choose #${index} below`);
    parts.push(lines.join("\\n"));
  }
  return parts.join("\\n\\n");
}
"""
_UNITS_JS = _TIP_JS + """
const UNITS_PER_BLOCK = 150, CHARS_PER_LINE = 80;
export default function ({ parentElement, data: payload }) {
  const data = JSON.parse(new TextDecoder().decode(payload));
  const view = document.createElement("div");
  view.className = "tv";
  const tips = new Map();  // unit -> [note, members], until first hovered
  view.addEventListener("pointerover", (event) => {
    const unit = event.target.closest?.(".t");
    const tip = unit && tips.get(unit);
    if (!tip) return;
    tips.delete(unit);
    const text = tipText(tip, data.labels);
    if (text) unit.dataset.tip = text;
  });
  let block = null, units = 0, lines = 0, lineBreakLast = false;
  const sizeBlock = () => {  // until first drawn: a guess at its height, then its own
    if (block) block.style.containIntrinsicBlockSize = `auto ${(Math.ceil(lines) * 1.9).toFixed(1)}em`;
  };
  for (const [text, classes, index, note, members] of data.units) {
    if (!block || (units >= UNITS_PER_BLOCK && lineBreakLast)) {
      sizeBlock();
      block = view.appendChild(document.createElement("div"));
      block.className = "tvb";
      units = 0;
      lines = 0;
    }
    const unit = document.createElement("span");
    unit.className = "t " + classes;
    unit.dataset.i = index;
    if (note || members.length) tips.set(unit, [note, members]);
    unit.textContent = text;
    block.appendChild(unit);
    units += 1;
    const pieces = text.split("\\n");
    lines += pieces.length - 1 + pieces.reduce((wrapped, piece) => wrapped + piece.length / CHARS_PER_LINE, 0);
    lineBreakLast = text.endsWith("\\n");
  }
  sizeBlock();
  const legend = document.createElement("template");
  legend.innerHTML = data.legend;  // ours: percentages and labels, no model text
  // A box of its own: the parent also holds the component's stylesheet.
  let box = parentElement.querySelector(":scope > .playground-shaded");
  if (!box) {
    box = document.createElement("div");
    box.className = "playground-shaded";
    parentElement.appendChild(box);
  }
  box.replaceChildren(legend.content, view);
}
"""
# (The comment's line break: one line holding "[" would be taken for a file's path.)
_long_text = st.components.v2.component("playground_shaded_text", css="/* the token view */\n" + _CSS_RULES,
                                        js=_UNITS_JS, isolate_styles=False)


def draw_shaded_text(text: ShadedText, *, key: str) -> None:
    if text.html:
        st.html(text.html)
    else:
        _long_text(key=key, data=text.payload)


def token_table(tokens: Sequence[TokenInfo]) -> pd.DataFrame:
    """One row per token: position, token (whitespace visible), id, probability, logprob,
    rank among the alternatives ("not among the top N" outside them), entropy of the
    alternatives shown (bits); a "prompt" and a "returned" column when some are not."""
    columns: dict[str, list] = {
        "position": [], "token": [], "id": [], "probability": [], "logprob": [], "rank": [], "entropy (bits)": [],
    }
    for t in tokens:
        columns["position"].append(t.index)
        columns["token"].append(token_label(t.token, t.bytes))
        columns["id"].append(t.token_id)
        columns["probability"].append(None if t.logprob is None else math.exp(t.logprob))
        columns["logprob"].append(t.logprob)
        columns["rank"].append(t.rank_text)
        columns["entropy (bits)"].append(t.entropy)
    frame = pd.DataFrame(columns)
    frame["id"] = frame["id"].astype("Int64")
    if any(t.is_prompt for t in tokens):
        frame.insert(2, "prompt", [t.is_prompt for t in tokens])
    if not all(t.returned for t in tokens):
        frame.insert(2, "returned", [t.returned for t in tokens])
    return frame


_BARS_CSS = (
    "<style>.tvbars{font-size:0.85rem;margin:0.25rem 0 0.5rem}.tvbars .title{font-weight:600;margin-bottom:6px}"
    ".tvbars .rows{display:grid;grid-template-columns:fit-content(45%) 1fr;gap:4px 10px;align-items:center}"
    ".tvbars .label{text-align:right;white-space:pre-wrap;word-break:break-word}"
    ".tvbars .tok{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}.tvbars .note{display:block;opacity:.7;font-size:0.75rem}"
    ".tvbars .track{display:flex;align-items:center;gap:6px}.tvbars .bar{height:1.1rem;border-radius:2px;"
    "background:#1c83e1;min-width:1px}.tvbars .chosen .bar{background:#21c354}.tvbars .chosen .tok{font-weight:700}"
    ".tvbars .pct{font-variant-numeric:tabular-nums;white-space:nowrap}</style>"
)


def alternatives_bars_html(t: TokenInfo) -> str:
    """Bars of the token's top alternatives, most likely first, the chosen one marked (a
    chosen token outside the alternatives gets its own bar, with its rank). HTML, not a
    plotly figure: drawing one held the browser a fifth of a second after every run."""
    rows = []
    for alt, chosen, note in alternative_rows(t):
        p = 100 * math.exp(alt.logprob)
        mark = " chosen" if chosen else ""
        label = html.escape(("✓ " if chosen else "") + token_label(alt.token, alt.bytes), quote=False)
        note_html = f'<span class="note">({html.escape(note, quote=False)})</span>' if note else ""
        rows.append(f'<div class="label{mark}"><span class="tok">{label}</span>{note_html}</div>'
                    f'<div class="track{mark}"><span class="bar" style="width:{p * 0.85:.2f}%"></span>'
                    f'<span class="pct">{p:.2f}%</span></div>')
    title = f"Alternatives for #{t.index} {html.escape(token_label(t.token, t.bytes), quote=False)}"
    return f'{_BARS_CSS}<div class="tvbars"><div class="title">{title}</div><div class="rows">{"".join(rows)}</div></div>'


def _code(text: str) -> str:
    """Inline markdown code for untrusted text (a backtick would end the span early),
    isolated so a right-to-left token does not reorder the sentence around it."""
    return "\u2068`" + text.replace("`", "ˋ") + "`\u2069"


def _pick_row(table_key: str, chooser_key: str, positions: list[int]) -> None:
    """A row chosen in the table becomes the token shown in the chart."""
    rows = st.session_state[table_key].selection.rows
    if rows:
        st.session_state[chooser_key] = positions[rows[0]]


@dataclass
class _Built:
    tokens: list[TokenInfo]
    count: int
    text: ShadedText
    summary: Summary
    _table: pd.DataFrame | None = None

    @property
    def table(self) -> pd.DataFrame:
        """Built the first time its (closed by default) expander is opened: a long run's
        table costs a fifth of a second that most runs never need."""
        if self._table is None:
            self._table = token_table(self.tokens)
        return self._table


def _built(tokens: list[TokenInfo], key: str) -> _Built:
    """The HTML, table and summary, rebuilt only when the page passes another token list
    (or the same list grown, as while streaming). The entry keeps the list alive, so an
    identity match cannot be a new list at a reused address."""
    memo = st.session_state.get(f"{key}:built")
    growing: GrowingView | None = st.session_state.pop(f"{key}:growing", None)  # made while the run arrived
    if memo is None or memo.tokens is not tokens or memo.count != len(tokens):
        text = growing.finish(tokens) if growing is not None else shaded_text(tokens)
        memo = _Built(tokens, len(tokens), text, summarize(tokens))
        st.session_state[f"{key}:built"] = memo
    return memo


def render_token_view(tokens: list[TokenInfo], *, key: str, title: str | None = None, text: str | None = None) -> None:
    """The view of one choice: shaded text with hover alternatives, a chart of the chosen
    token's alternatives, the summary and the per-token table. `text`: the choice's text,
    when known (an empty one has no tokens to show, whatever was asked)."""
    if title:
        st.markdown(f"**{inert(title)}**")  # titles hold model ids
    if not tokens:
        st.info("This choice is empty: the model ended before its first token." if text == ""
                else "No token probabilities in this response. Turn on logprobs and run again.")
        return
    built = _built(tokens, key)
    draw_shaded_text(built.text, key=f"{key}:text")

    summary = built.summary
    row = st.container(horizontal=True, wrap=True, gap="medium")  # wraps, never cuts a label, in a narrow column
    row.metric("Generated tokens", summary.count, width="content")
    row.metric("Mean logprob", "—" if summary.mean_logprob is None else f"{summary.mean_logprob:.3f}", width="content")
    row.metric(
        "Perplexity", "—" if summary.perplexity is None else f"{summary.perplexity:.2f}",
        help="exp(−mean logprob) over the generated tokens: 1 means every token was certain.", width="content",
    )
    if summary.least_confident:
        st.caption(
            "Least confident: "
            + ", ".join(f"#{t.index} {_code(token_label(t.token, t.bytes))} {100 * math.exp(t.logprob):.1f}%" for t in summary.least_confident)  # type: ignore[arg-type]
        )

    positions = [t.index for t in tokens]
    chooser_key, table_key = f"{key}:token", f"{key}:table"
    if st.session_state.get(chooser_key) not in positions:
        st.session_state[chooser_key] = summary.least_confident[0].index if summary.least_confident else positions[0]
    chosen = st.number_input(
        "Token # to inspect", min_value=positions[0], max_value=positions[-1], step=1, key=chooser_key,
        help="Or select a row in the table below. Hover a token in the text for its top alternatives.",
    )
    token = tokens[positions.index(int(chosen))]
    if token.top or token.logprob is not None:
        st.html(alternatives_bars_html(token))
    else:
        st.caption(f"#{token.index} has no probability (the first token of an echoed prompt has no context).")

    box, is_open = lazy_expander("Per-token table", key=f"{key}:table_open", expanded=len(tokens) <= 64)
    if not is_open:
        return
    with box:
        st.dataframe(
            built.table,
            key=table_key,
            on_select=lambda: _pick_row(table_key, chooser_key, positions),
            selection_mode="single-row",
            hide_index=True,
            column_config={
                "probability": st.column_config.ProgressColumn("probability", format="percent", min_value=0.0, max_value=1.0),
                "logprob": st.column_config.NumberColumn("logprob", format="%.4f"),
                "entropy (bits)": st.column_config.NumberColumn("entropy (bits)", format="%.3f"),
            },
        )


def render_choices(choices: list[list[TokenInfo]], *, key: str, texts: list[str] | None = None) -> None:
    """Every returned choice (with its text, when known): side by side up to 3, in tabs beyond."""
    def text(i: int) -> str | None:
        return texts[i] if texts is not None and i < len(texts) else None

    if len(choices) == 1:
        render_token_view(choices[0], key=choice_key(key, 0), text=text(0))
        return
    if len(choices) <= 3:
        for i, column in enumerate(st.columns(len(choices))):
            with column:
                render_token_view(choices[i], key=choice_key(key, i), title=f"Choice {i}", text=text(i))
        return
    for i, tab in enumerate(st.tabs([f"Choice {i}" for i in range(len(choices))])):
        with tab:
            render_token_view(choices[i], key=choice_key(key, i), text=text(i))


_PALETTE = ["rgba(107,64,216,.28)", "rgba(104,222,122,.38)", "rgba(244,172,54,.38)", "rgba(239,65,70,.28)", "rgba(39,181,234,.32)"]
_PLAIN_CSS = (
    "<style>.tk{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:0.92rem;line-height:2;"
    "white-space:pre-wrap;word-break:break-word}.tk span{border-radius:3px;padding:1px 0}"
    ".tk sub{font-size:0.62rem;opacity:.75;margin:0 2px 0 1px}"
    + "".join(f".tk .c{i}{{background:{c}}}" for i, c in enumerate(_PALETTE))
    + "</style>"
)


def plain_tokens_html(tokens: Sequence[TokenInfo], *, show_ids: bool = False) -> str:
    """Tokens as coloured spans without probabilities (the Tokenizer page): each display
    unit in the next colour, its id(s) on hover, or written after it with `show_ids`."""
    by_index = {t.index: t for t in tokens}
    parts = [_PLAIN_CSS, '<div class="tk">']
    for n, (text, indexes) in enumerate(spans(tokens)):
        ids = " ".join(str(by_index[i].token_id) for i in indexes)
        label = html.escape(text, quote=False)
        if show_ids:
            label += f"<sub>{ids}</sub>"
        parts.append(f'<span class="c{n % len(_PALETTE)}" title="{html.escape(ids)}">{label}</span>')
    parts.append("</div>")
    return "".join(parts)

