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
    assert inert("Could not reach http://127.0.0.1:9 (404).") == "Could not reach http://127.0.0.1:9 (404)."
    escaped = inert(PAYLOAD)
    assert _unescape(escaped) == PAYLOAD
    assert not re.search(r"(?<!\\)[!\[\]<>`*_$#]", escaped)
