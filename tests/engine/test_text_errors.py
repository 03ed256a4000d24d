"""Errors of the text endpoints arrive as the openai SDK's own exception classes."""

from __future__ import annotations

import httpx
import openai
import pytest

MODEL = "local-text"


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"temperature": 2.5}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"frequency_penalty": -3}, "frequency_penalty"),
        ({"presence_penalty": 2.1}, "presence_penalty"),
        ({"n": 129}, "n"),
        ({"logprobs": 6}, "logprobs"),
        ({"best_of": 21}, "best_of"),
        ({"stop": ["1", "2", "3", "4", "5"]}, "stop"),
        ({"logit_bias": {"200019": 1}}, "logit_bias"),
        ({"logit_bias": {"12": 101}}, "logit_bias"),
        ({"logit_bias": {"abc": 1}}, "logit_bias"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"prompt": [[1, 2], "x"]}, "prompt"),
        ({"prompt": [300000]}, "prompt"),
        ({"extra_body": {"temperature": "hot"}}, "temperature"),
        ({"extra_body": {"no_such_param": 1}}, "no_such_param"),
    ],
)
def test_completion_400s_carry_the_param(client: openai.OpenAI, kwargs: dict, param: str) -> None:
    args = {"model": MODEL, "prompt": "Return the", "max_tokens": 2, **kwargs}
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(**args)
    assert err.value.status_code == 400
    assert err.value.param == param
    assert err.value.type == "invalid_request_error"


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.completions.create(model="no-such-model", prompt="x")
    assert err.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])


def test_wrong_key_is_401(engine_url: str) -> None:
    bad = openai.OpenAI(base_url=engine_url, api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        bad.completions.create(model=MODEL, prompt="x", max_tokens=1)
    assert err.value.status_code == 401


def test_rate_limit_is_429_with_retry_after(start_engine) -> None:
    with start_engine("--rpm", "2") as url:
        limited = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
        for _ in range(2):
            limited.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}], max_completion_tokens=1
            )
        with pytest.raises(openai.RateLimitError) as err:
            limited.completions.create(model=MODEL, prompt="x", max_tokens=1)
        assert int(err.value.response.headers["retry-after"]) >= 1


def test_bad_json_is_400(engine_url: str) -> None:
    r = httpx.post(
        f"{engine_url}/completions",
        content=b"{not json",
        headers={"Authorization": "Bearer test-key", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "kwargs, param, words",
    [
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]},
         "messages[0].content[0].type", "'image_url' content parts are not supported"),
        ({"messages": [{"role": "user", "content": ["not an object"]}]},
         "messages[0].content[0]", "expected an object"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "only 'function' tools (got 'web_search')"),
    ],
)
def test_chat_parts_and_tools_of_another_type_are_refused_by_name(client: openai.OpenAI, kwargs: dict, param: str, words: str) -> None:
    args = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, **kwargs}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(**args)
    assert err.value.param == param and words in err.value.message


def test_a_safety_identifier_over_64_characters_is_refused(client: openai.OpenAI) -> None:
    args = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    assert client.chat.completions.create(**args, safety_identifier="u" * 64).choices
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(**args, safety_identifier="u" * 65)
    assert err.value.param == "safety_identifier"
