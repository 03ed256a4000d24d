"""A search's matches, every query's heading and table, as one static HTML element.

st.table renders each cell as Markdown through React (a parser and styled elements per
cell), and a heading and its table were two elements, often painted a frame apart. Here the
whole listing is one st.html element: one delta, set as HTML in the commit that brings it,
so the headings and tables are painted together. Every text is escaped: corpus text is
shown as text, never read as markup.

The listing can carry, hidden, the next one: the matches of the query as applied (found
while the user looked at the page), which Search shows at once on the click, in the browser
(`reveal_next_on_click`), when the boxes still hold what was searched; the click's run then
draws the same listing as the current one. A round trip and the page's redraws before it
took the browser 110-140 ms on a 100k-row corpus.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Sequence

import streamlit as st

# Looks like st.table and a Markdown heading; theme colours come in as --st-* properties.
_CSS = """
.playground-matches { font-family: var(--st-font); color: var(--st-text-color); }
.playground-matches p { margin: 0 0 0.5rem; line-height: 1.6; }
.playground-matches p.empty { font-size: 0.875rem; color: var(--st-secondary-text-color, inherit); }
.playground-matches .table { overflow-x: auto; margin-bottom: 1rem; }
.playground-matches table { width: 100%; border-collapse: collapse; font-size: 0.875rem; line-height: 1.5; }
.playground-matches th, .playground-matches td {
  border: 1px solid var(--st-dataframe-border-color, rgba(49, 51, 63, 0.1));
  padding: 0.25rem 0.375rem; text-align: left; vertical-align: top; overflow-wrap: break-word;
}
.playground-matches th { font-weight: 400; color: var(--st-secondary-text-color, inherit); white-space: nowrap; }
.playground-matches td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.playground-next, .playground-matches.playground-gone { display: none; }
.playground-next.playground-shown { display: block; }
"""


@dataclass(frozen=True)
class TextTable:
    """Cells as the user reads them (strings); `numbers[i]`: column i holds numbers (right-aligned)."""

    columns: list[str]
    rows: list[list[str]]
    numbers: list[bool]


@dataclass(frozen=True)
class MatchSection:
    """One query's part: "**title** — note", then its table, or `empty` when it has no rows."""

    title: str
    note: str
    table: TextTable | None
    empty: str = ""


def _cell(text: str, tag: str, number: bool) -> str:
    attributes = ' class="number"' if number else ' scope="col"' if tag == "th" else ""
    return f"<{tag}{attributes}>{html.escape(text)}</{tag}>"


def _table(table: TextTable) -> str:
    head = "".join(_cell(c, "th", False) for c in table.columns)
    body = "".join("<tr>" + "".join(_cell(v, "td", n) for v, n in zip(row, table.numbers)) + "</tr>" for row in table.rows)
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def matches_html(sections: Sequence[MatchSection], notes: Sequence[str] = ()) -> str:
    """The listing's HTML (built once per search; the page shows it with st.html): `notes`
    (about the whole search) first, then each query's heading and table."""
    parts = [f"<style>{_CSS}</style><div class=\"playground-matches\">"]
    parts += [f'<p class="empty">{html.escape(note)}</p>' for note in notes]
    for section in sections:
        parts.append(f"<p><strong>{html.escape(section.title)}</strong> — {html.escape(section.note)}</p>")
        parts.append(_table(section.table) if section.table else f'<p class="empty">{html.escape(section.empty)}</p>')
    parts.append("</div>")
    return "".join(parts)


def with_next(current: str, following: str | None, fields: Sequence[tuple[str, str]]) -> str:
    """The current listing (may be empty) and, hidden, the `following` one, which a Search
    click shows while every (CSS selector, value) of `fields` still matches the page's boxes."""
    if not following:
        return current
    held = html.escape(json.dumps([list(field) for field in fields]), quote=True)
    return f'{current}<div class="playground-next" data-fields="{held}">{following}</div>'


# On a click on the button: when a hidden next listing is there and every box still holds
# the text it was found for, hide the current listing and show it. One listener per tab.
_REVEAL_JS = """
export default function ({ data }) {
  const reveal = (window.__playgroundReveal ??= { data });
  reveal.data = data;
  if (reveal.listening) return;
  reveal.listening = true;
  document.addEventListener("click", (event) => {
    if (!event.target.closest?.(reveal.data.button)) return;
    const next = document.querySelector(".playground-next:not(.playground-shown)");
    if (!next) return;
    const fields = JSON.parse(next.dataset.fields || "[]");
    if (!fields.every(([selector, value]) => (document.querySelector(selector)?.value ?? "") === value)) return;
    for (const current of next.parentElement.querySelectorAll(":scope > .playground-matches")) current.classList.add("playground-gone");
    next.classList.add("playground-shown");
  }, true);
}
"""
_reveal = st.components.v2.component("playground_reveal_next", js=_REVEAL_JS)


def reveal_next_on_click(button: str, *, key: str) -> None:
    """Mount the listener that shows a hidden next listing when `button` (CSS selector) is clicked."""
    _reveal(key=key, data={"button": button}, height=0)


def load_matches_style() -> None:
    """The listing's CSS, drawn with the page before any search: the browser then loads its
    code for HTML elements with the page, not in the first search (which waited ~100 ms for
    it). The listing keeps its own copy: a search reruns only its part of the page."""
    st.html(f"<style>{_CSS}</style>")
