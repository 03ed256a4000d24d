"""The per-token table: both endpoints' logprobs shapes become the same TokenInfo list."""

from __future__ import annotations

import math

import pytest
from openai.types import Completion
from openai.types.chat import ChatCompletion

import tiktoken_offline
from playground.logprobs import from_chat_logprobs, from_completion_logprobs, rebuild_text, spans, summarize

ENC = tiktoken_offline.get_encoding("o200k_base")


def chat_item(raw: bytes, logprob: float, top: list[tuple[bytes, float]]) -> dict:
    def entry(b: bytes, lp: float) -> dict:
        return {"token": b.decode("utf-8", errors="replace"), "logprob": lp, "bytes": list(b)}

    return {**entry(raw, logprob), "top_logprobs": [entry(b, lp) for b, lp in top]}


def chat_logprobs_for(text: str) -> dict:
    """The chat `logprobs` the API sends for `text` tokenized by o200k_base, each token
    chosen with probability 1/2 against one alternative."""
    ids = ENC.encode(text)
    content = []
    for t in ids:
        raw = ENC.decode_single_token_bytes(t)
        content.append(chat_item(raw, math.log(0.5), [(raw, math.log(0.5)), (b" other", math.log(0.25))]))
    return {"content": content, "refusal": None}


def test_chat_multibyte_characters_rebuild_from_bytes() -> None:
    text = "Party 🎉 in 서울, naïve"
    lp = chat_logprobs_for(text)
    tokens = from_chat_logprobs(lp, encoding=ENC)
    assert any("\ufffd" in t.token for t in tokens), "the emoji must be split over tokens for this test"
    assert "".join(t.token for t in tokens) != text
    assert rebuild_text(tokens) == text
    emoji = next(piece for piece in spans(tokens) if "🎉" in piece[0])
    assert len(emoji[1]) >= 2  # one display unit covering the tokens that split it
    assert [t.token_id for t in tokens] == ENC.encode(text)


def test_chat_rank_entropy_and_sdk_objects_equal_dicts() -> None:
    lp = {
        "content": [
            chat_item(b"A", math.log(0.5), [(b"A", math.log(0.5)), (b"B", math.log(0.5))]),
            chat_item(b"C", math.log(0.01), [(b"D", math.log(0.6)), (b"E", math.log(0.3))]),
            chat_item(b"F", 0.0, [(b"F", 0.0)]),
        ]
    }
    tokens = from_chat_logprobs(lp)
    assert [t.rank for t in tokens] == [1, None, 1]
    assert tokens[0].entropy == pytest.approx(1.0)  # two equally likely alternatives: 1 bit
    assert tokens[2].entropy == pytest.approx(0.0)
    p, q = 0.6 / 0.9, 0.3 / 0.9  # renormalized over the alternatives shown
    assert tokens[1].entropy == pytest.approx(-(p * math.log2(p) + q * math.log2(q)))
    assert tokens[1].prob == pytest.approx(0.01)
    assert tokens[0].token_id is None  # no encoding given

    response = ChatCompletion.model_validate(
        {
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ACF"}, "logprobs": lp}],
        }
    )
    assert from_chat_logprobs(response.choices[0].logprobs) == tokens

    unsorted = {"content": [chat_item(b"A", math.log(0.2), [(b"A", math.log(0.2)), (b"B", math.log(0.7))])]}
    (token,) = from_chat_logprobs(unsorted)
    assert [a.token for a in token.top] == ["B", "A"] and token.rank == 2  # most likely first, whatever the order sent


def test_completion_echo_marks_prompt_tokens_and_summary_skips_them() -> None:
    lp = {
        "tokens": ["Hello", " world", "!", " Bye"],
        "token_logprobs": [None, -2.0, -0.5, -1.5],
        "top_logprobs": [None, {" world": -2.0, " there": -0.3}, {"!": -0.5, ".": -1.2}, {" Bye": -1.5, "\n": -0.7}],
        "text_offset": [0, 5, 11, 12],
    }
    tokens = from_completion_logprobs(lp, prompt_token_count=2, encoding=ENC)
    assert [t.is_prompt for t in tokens] == [True, True, False, False]
    assert tokens[0].logprob is None and tokens[0].top == () and tokens[0].rank is None
    assert [a.token for a in tokens[1].top] == [" there", " world"]  # most likely first
    assert tokens[1].rank == 2 and tokens[2].rank == 1
    assert tokens[1].token_id == ENC.encode(" world")[0]
    assert [t.text_offset for t in tokens] == [0, 5, 11, 12]
    summary = summarize(tokens, k=1)
    assert summary.count == 2
    assert summary.mean_logprob == pytest.approx(-1.0)
    assert summary.perplexity == pytest.approx(math.e)
    assert [t.token for t in summary.least_confident] == [" Bye"]
    assert rebuild_text(tokens) == "Hello world! Bye"

    # The SDK builds responses without validation (construct), so the nulls the API sends stay.
    sdk = Completion.construct(
        id="x", object="text_completion", created=0, model="m",
        choices=[{"index": 0, "finish_reason": "length", "text": "Hello world! Bye", "logprobs": lp}],
    )
    assert not isinstance(sdk.choices[0].logprobs, dict)
    assert from_completion_logprobs(sdk.choices[0].logprobs, prompt_token_count=2, encoding=ENC) == tokens


def test_completion_bytes_prefix_form_decodes() -> None:
    # OpenAI writes a token that is part of a character as "bytes:\\xNN..." on /v1/completions.
    lp = {
        "tokens": [" \u2014", "bytes:\\xf0\\x9f", "bytes:\\x8e\\x89"],
        "token_logprobs": [-1.0, -1.0, -0.1],
        "top_logprobs": [{" \u2014": -1.0}, {"bytes:\\xf0\\x9f": -1.0}, {"bytes:\\x8e\\x89": -0.1}],
        "text_offset": [0, 2, 2],
    }
    tokens = from_completion_logprobs(lp)
    assert tokens[1].bytes == b"\xf0\x9f" and tokens[1].rank == 1
    assert rebuild_text(tokens) == " \u2014🎉"
    assert spans(tokens) == [(" \u2014", [0]), ("🎉", [1, 2])]


def test_completion_replacement_tokens_recovered_from_text() -> None:
    # The local engine (like some compatible servers) sends "\ufffd" for split characters:
    # the bytes come back from the choice text, the offsets and the encoding.
    prompt = "Say: "
    text = "한국어 🎉 done"
    ids = ENC.encode(text)
    raws = [ENC.decode_single_token_bytes(t) for t in ids]
    strings = [r.decode("utf-8", errors="replace") for r in raws]
    assert any("\ufffd" in s for s in strings)
    offsets, pos, pending = [], len(prompt), b""
    for r in raws:  # character offsets, a split character counted once complete
        offsets.append(pos)
        pending += r
        try:
            pos += len(pending.decode("utf-8"))
            pending = b""
        except UnicodeDecodeError:
            pass
    lp = {"tokens": strings, "token_logprobs": [-1.0] * len(ids), "top_logprobs": [None] * len(ids), "text_offset": offsets}
    without = from_completion_logprobs(lp)
    assert "\ufffd" in rebuild_text(without)
    tokens = from_completion_logprobs(lp, encoding=ENC, text=text)
    assert rebuild_text(tokens) == text
    assert [t.token_id for t in tokens] == ids


def test_empty_and_missing_logprobs() -> None:
    assert from_chat_logprobs(None) == []
    assert from_completion_logprobs(None) == []
    assert summarize([]).count == 0 and summarize([]).perplexity is None
