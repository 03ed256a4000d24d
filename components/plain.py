"""Text from a server or from user data, shown as plain text.

Streamlit renders Markdown (and its own `:color[...]`, `:icon:` and `$math$` extensions) in
st.markdown, st.caption, st.error and friends, and in widget labels: a model id such as
`![m](http://host/beacon.png)` would load a remote image, `[ok](http://host)` would be a
disguised link. `plain()` backslash-escapes every ASCII punctuation character (CommonMark
shows an escaped character as itself), so the text reads exactly as it came, inert.
"""

from __future__ import annotations

import re

_MARKDOWN_SIGNIFICANT = re.compile(r"([!-/:-@\[-`{-~])")  # all ASCII punctuation
# What can fetch, link, format or run inline: images, links, HTML, emphasis, code, math,
# Streamlit's :color[...] directives, tables, entities. Leaves ( ) . : - / readable in source.
_ACTIVE = re.compile(r"([\\`*_\[\]<>!$~|#&{}])")


def plain(text: object) -> str:
    """`text` for any Streamlit element that renders Markdown, shown exactly as it is."""
    return _MARKDOWN_SIGNIFICANT.sub(r"\\\1", str(text))


def inert(text: object) -> str:
    """One line of our own wording with a server's value in it (a host, a param name):
    nothing in it can load, link or format; the rest of its punctuation stays as typed."""
    return _ACTIVE.sub(r"\\\1", str(text))
