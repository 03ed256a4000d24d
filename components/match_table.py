"""A small table of text, drawn by a few lines of JS: a search's matches.

st.table renders each cell as Markdown through React (a parser and styled elements per
cell): for a search's few tables that was most of the browser's work between the press on
Search and the frame that shows the matches. This builds a plain <table> with the cells set
as text (textContent: corpus text is never read as markup), updated in place by each search.
"""

from __future__ import annotations

from typing import Sequence

import streamlit as st

# Looks like st.table; theme colours come in as --st-* properties.
_CSS = """
.playground-match-table { overflow-x: auto; }
.playground-match-table table {
  width: 100%; border-collapse: collapse; font-family: var(--st-font); font-size: 0.875rem;
  line-height: 1.5; color: var(--st-text-color);
}
.playground-match-table th, .playground-match-table td {
  border: 1px solid var(--st-dataframe-border-color, var(--st-border-color-light, rgba(49, 51, 63, 0.1)));
  padding: 0.25rem 0.375rem; text-align: left; vertical-align: top; overflow-wrap: anywhere;
}
.playground-match-table th { font-weight: 400; color: var(--st-secondary-text-color, inherit); white-space: nowrap; }
.playground-match-table td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
"""

# Called again with each run's data: the table is rebuilt in place (no listeners to clean up).
_JS = """
export default function ({ parentElement, data }) {
  let box = parentElement.querySelector(".playground-match-table");
  if (!box) {
    box = document.createElement("div");
    box.className = "playground-match-table";
    box.appendChild(document.createElement("table"));
    parentElement.appendChild(box);
  }
  const row = (cells, tag, numbers) => {
    const tr = document.createElement("tr");
    cells.forEach((text, i) => {
      const cell = document.createElement(tag);
      if (tag === "th") cell.scope = "col";
      else if (numbers[i]) cell.className = "number";
      cell.textContent = text;
      tr.appendChild(cell);
    });
    return tr;
  };
  const head = document.createElement("thead");
  head.appendChild(row(data.columns, "th", []));
  const body = document.createElement("tbody");
  for (const cells of data.rows) body.appendChild(row(cells, "td", data.numbers));
  box.firstChild.replaceChildren(head, body);
}
"""

_table = st.components.v2.component("playground_match_table", css=_CSS, js=_JS, isolate_styles=False)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[str]], numbers: Sequence[bool], *, key: str) -> None:
    """A table of `rows` (each cell a string, shown as text), `numbers[i]`: column i is
    right-aligned. `key` keeps the same element across runs, so a new search updates it."""
    _table(key=key, data={"columns": list(columns), "rows": [list(r) for r in rows], "numbers": list(numbers)})
