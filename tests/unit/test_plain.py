"""Server and user text is shown as plain text: nothing in it renders as Markdown."""

from __future__ import annotations

import re

from components.plain import inert, plain

PAYLOAD = '![m](http://payload.invalid/i.png) <img src="http://payload.invalid/h.png"> [ok](http://payload.invalid) :red[x] $x$ **b** # h'


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_plain_escapes_every_markdown_character_and_keeps_the_text() -> None:
    escaped = plain(PAYLOAD)
    assert _unescape(escaped) == PAYLOAD
    # No active character is left unescaped.
    assert not re.search(r"(?<!\\)[!\[\]<>()`*_$:#]", escaped)


def test_inert_neutralizes_links_images_and_html_but_keeps_plain_punctuation() -> None:
    for ours in ("Could not reach http://127.0.0.1:9 (404).", "T=2 · top_p=0.5", 'ends with "\\n\\n###\\n\\n"'):
        assert inert(ours) == ours
    escaped = inert(PAYLOAD + " \\[x](http://payload.invalid/escaped)")
    assert not re.search(r"(?<!\\)[\[\]<>]", escaped.replace("\\\\", ""))
