"""Share links and presets: controls round-trip, no secret ever in a link, bad links refused."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from playground.history import History
from playground.params import controls_from_request
from playground.presets import ShareLinkError, from_query_params, to_query_params
from playground.providers import Connection

KEY = "sk-live-0123456789abcdefABCDEF"

COMPLETIONS = {
    "model": "local-text",
    "temperature": 0.35,
    "top_p": 0.9,
    "frequency_penalty": -0.5,
    "presence_penalty": 1.25,
    "max_tokens": 48,
    "n": 2,
    "stop": ["\n\n", "END"],
    "seed": 1234,
    "stream": False,
    "prompt": "Def parse(text):\n    \"\"\"Return the tokens of 한국어 text 🙂",
    "suffix": "",
    "echo": True,
    "best_of": 3,
    "logprobs": 5,
}


def _link(params: dict[str, str]) -> str:
    return "http://localhost:8501/completions?" + urlencode(params)


def test_the_link_holds_no_key_from_the_connection() -> None:
    connection = Connection("openai", api_key=KEY, base_url=f"https://user:{KEY}@proxy.example/v1")
    controls = {**COMPLETIONS, "prompt": f"a prompt that mentions {KEY} by mistake", **connection.public(), "api_key": KEY}
    params = to_query_params(controls, page="completions", secrets=[connection.api_key])
    link = _link(params)
    assert KEY not in link and "proxy.example" not in link and "api_key" not in link and "base_url" not in link
    _, restored = from_query_params(dict(parse_qsl(urlsplit(link).query)))
    assert restored["prompt"] == "a prompt that mentions [key hidden] by mistake"


@pytest.mark.parametrize("prompt", [COMPLETIONS["prompt"], "x" * 5000 + "🙂"])
def test_completions_controls_round_trip_through_a_url(prompt: str) -> None:
    controls = {**COMPLETIONS, "prompt": prompt}
    link = _link(to_query_params(controls, page="completions"))
    page, restored = from_query_params(dict(parse_qsl(urlsplit(link).query)))
    assert page == "completions"
    assert restored == {**controls, "logit_bias": {}}  # every control of the page, those not set "not sent"
    if len(prompt) > 1000:
        assert len(link) < 600  # long text goes compressed


def test_chat_controls_round_trip() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Explain <b>HTML</b> & co " * 30}]
    controls = {"model": "gpt-4o-mini", "temperature": 1.5, "messages": messages, "logprobs": True, "top_logprobs": 20, "seed": None,
                "logit_bias": {"1234": -100, "99": 5}, "max_tokens": 64}
    params = to_query_params(controls, page="chat")
    assert "messages.z" in params and "seed" not in params
    page, restored = from_query_params(params)
    assert page == "chat" and restored == {
        "model": "gpt-4o-mini", "temperature": 1.5, "messages": messages, "logprobs": True, "top_logprobs": 20,
        "logit_bias": {"1234": -100, "99": 5}, "max_tokens": 64,
        # not in the link: restored as "not sent", so nothing from earlier work stays
        "seed": None, "stop": [], "top_p": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0, "n": 1, "stream": False,
        "tools": [], "tool_choice": None, "parallel_tool_calls": True, "response_format": None, "reasoning_effort": None,
        "safety_identifier": "",
    }


def test_an_older_link_with_chat_logprobs_still_restores() -> None:
    _, restored = from_query_params({"page": "chat", "model": "m", "max_tokens": "5", "chat_logprobs": "1"})
    assert restored["logprobs"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"temperature": "3"}, "temperature must be between 0 and 2"),
        ({"top_p": "abc"}, "top_p must be a number"),
        ({"max_tokens": "1.5"}, "max_tokens must be a whole number"),
        ({"temperature": "nan"}, "temperature must be a finite number"),
        ({"stop": '["a","b","c","d","e"]'}, "stop takes at most 4 sequences"),
        ({"stop": "[1"}, "stop is not valid JSON"),
        ({"prompt.z": "not-base64-zlib!!"}, "prompt is not readable compressed text"),
        ({"echo": "maybe"}, "echo must be 0 or 1"),
        ({"logprobs": "6"}, "logprobs must be between 0 and 5"),
        ({"top_logprobs": "3"}, "top_logprobs does not apply to the completions page"),
    ],
)
def test_bad_links_are_refused_with_what_is_wrong(params: dict[str, str], expected: str) -> None:
    with pytest.raises(ShareLinkError) as refused:
        from_query_params({"page": "completions", "model": "local-text", **params})
    assert any(p.startswith(expected) for p in refused.value.problems), refused.value.problems


def test_a_link_to_no_page_and_a_zip_bomb_are_refused() -> None:
    with pytest.raises(ShareLinkError, match="names no page"):
        from_query_params({"model": "x"})
    import base64
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(b"a" * 5_000_000)).decode().rstrip("=")
    with pytest.raises(ShareLinkError, match="longer than a link may restore"):
        from_query_params({"page": "completions", "prompt.z": bomb})


def test_controls_of_a_saved_request() -> None:
    request = {"model": "o3-mini", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 100,
               "stop": "END", "logprobs": True, "top_logprobs": 3, "stream": True, "stream_options": {"include_usage": True}}
    assert controls_from_request("chat", request) == {
        "model": "o3-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100, "stop": ["END"],
        "logprobs": True, "top_logprobs": 3, "stream": True,
        # what the run did not send comes back as "not sent"
        "temperature": 1.0, "top_p": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0, "n": 1, "seed": None,
        "logit_bias": {}, "tools": [], "tool_choice": None, "parallel_tool_calls": True, "response_format": None,
        "reasoning_effort": None, "safety_identifier": "",
    }


def test_presets_are_saved_by_page_and_name(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    history.save_preset("completions", "cold", {"temperature": 0.1})
    history.save_preset("completions", "cold", {"temperature": 0.2}, overwrite=True)  # same name: replaced when asked
    history.save_preset("chat", "cold", {"temperature": 1.9})
    assert history.presets("completions") == ["cold"]
    assert history.load_preset("completions", "cold") == {"temperature": 0.2}
    assert history.load_preset("chat", "cold") == {"temperature": 1.9}
    with pytest.raises(ValueError):
        history.save_preset("chat", "  ", {})
    history.delete_preset("chat", "cold")
    assert history.presets("chat") == [] and History(tmp_path / "h.sqlite3").presets("completions") == ["cold"]
