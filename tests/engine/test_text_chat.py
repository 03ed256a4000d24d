"""/v1/chat/completions on local-text, through the real openai SDK over HTTP."""

from __future__ import annotations

import math

import openai
import pytest

import tiktoken_offline
from local_engine import chat_template

MODEL = "local-text"
ENC = tiktoken_offline.get_encoding("o200k_base")
MESSAGES = [
    {"role": "system", "content": "You explain the Python standard library."},
    {"role": "user", "content": "What does the socket module do?"},
]


def test_chat_greedy_logprobs_and_usage(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, temperature=0, logprobs=True, top_logprobs=5, max_completion_tokens=20
    )
    choice = r.choices[0]
    assert r.id.startswith("chatcmpl-") and r.object == "chat.completion"
    assert choice.message.role == "assistant" and choice.message.content
    content = choice.logprobs.content
    assert "".join(t.token for t in content) == choice.message.content
    for t in content:
        assert len(t.top_logprobs) == 5
        assert t.top_logprobs[0].token == t.token and math.isclose(t.top_logprobs[0].logprob, t.logprob)
        assert bytes(t.bytes).decode() == t.token
    prompt_tokens = chat_template.count_prompt_tokens(ENC, MESSAGES)
    assert r.usage.prompt_tokens == prompt_tokens
    assert r.usage.completion_tokens in (len(content), len(content) + 1)  # +1: a final <|endoftext|>
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.completion_tokens_details.reasoning_tokens == 0


def test_chat_logprobs_bytes_rebuild_multibyte_text(client: openai.OpenAI) -> None:
    # Force a Korean word and an emoji that o200k_base splits into byte-level tokens.
    word = "한국어 🦜"
    ids = ENC.encode(word)
    bias = {str(i): 100 for i in ids}
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Say it."}],
        logit_bias=bias,
        max_completion_tokens=12,
        logprobs=True,
        top_logprobs=2,
        seed=1,
    )
    content = r.choices[0].logprobs.content
    rebuilt = b"".join(bytes(t.bytes) for t in content).decode("utf-8", errors="replace")
    assert rebuilt == r.choices[0].message.content
    assert any(ord(ch) > 0x1100 for ch in rebuilt)
    partial = [t for t in content if t.bytes and not _decodes(bytes(t.bytes))]
    assert partial, "expected a token holding part of a multibyte character"
    assert all("\ufffd" in t.token for t in partial)


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_chat_stream_matches_and_reports_usage(client: openai.OpenAI) -> None:
    kwargs = dict(model=MODEL, messages=MESSAGES, temperature=0.9, seed=4, max_completion_tokens=40, logprobs=True, top_logprobs=1)
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True}))
    first = chunks[0].choices[0]
    assert first.delta.role == "assistant" and first.delta.content == ""
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    tokens = [t.token for c in chunks if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.content]
    assert tokens == [t.token for t in whole.choices[0].logprobs.content]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_n_seed_stop_and_limits(client: openai.OpenAI) -> None:
    kwargs = dict(model=MODEL, messages=MESSAGES, temperature=1.0, max_completion_tokens=25, n=3, seed=9)
    a = client.chat.completions.create(**kwargs)
    b = client.chat.completions.create(**kwargs)
    assert [c.index for c in a.choices] == [0, 1, 2]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    assert len({c.message.content for c in a.choices}) > 1
    greedy = client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0, max_tokens=30)
    text = greedy.choices[0].message.content
    stop = text[5:9]
    cut = client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0, max_tokens=30, stop=stop)
    assert cut.choices[0].message.content == text[: text.index(stop)] and cut.choices[0].finish_reason == "stop"
    short = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_completion_tokens=2, logit_bias={str(ENC.eot_token): -100}
    )
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 2


def test_chat_content_parts_and_developer_role(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "developer", "content": "Answer briefly."},
            {"role": "user", "content": [{"type": "text", "text": "What is a tuple?"}]},
            {"role": "assistant", "content": "An immutable sequence."},
            {"role": "user", "content": "And a list?"},
        ],
        max_completion_tokens=5,
        response_format={"type": "text"},
    )
    assert r.choices[0].message.content is not None


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]}, "messages[0].content[0].type"),
        ({"tools": [{"type": "function", "function": {"name": "f", "strict": True, "parameters": {"type": "object"}}}]}, "tools[0].function.parameters"),
        ({"response_format": {"type": "json_object"}}, "messages"),  # the API wants the word "json" in them
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"temperature": -0.1}, "temperature"),
        ({"n": 0}, "n"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"max_completion_tokens": 9000}, "messages"),
    ],
)
def test_chat_bad_requests_name_the_param(client: openai.OpenAI, kwargs: dict, param: str) -> None:
    args = {"model": MODEL, "messages": MESSAGES, **kwargs}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(**args)
    assert err.value.status_code == 400
    assert err.value.param == param
    assert err.value.message
