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
# What can fetch, link or embed: image and link brackets (also Streamlit's :color[...]
# directives), HTML and autolink angle brackets, and a backslash that would escape one of
# them. Emphasis, underscores and the like stay as typed: our own wording uses them.
_ACTIVE = re.compile(r"([\[\]<>]|\\(?=[!-/:-@\[-`{-~]))")


def plain(text: object) -> str:
    """`text` for any Streamlit element that renders Markdown, shown exactly as it is."""
    return _MARKDOWN_SIGNIFICANT.sub(r"\\\1", str(text))


def inert(text: object) -> str:
    """Our own wording with a server's or user's value in it (a host, a param name, a model
    id): nothing in it can load, link or embed; the rest stays as typed (so `top_p` and
    `\\n` read as they do in the source)."""
    return _ACTIVE.sub(r"\\\1", str(text))
