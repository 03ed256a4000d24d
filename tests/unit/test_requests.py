"""Requests built from the controls: tidy (only what differs from the API default) and
checked against the model, each problem naming its parameter."""

from __future__ import annotations

from playground.catalog import model_info
from playground.requests import build_request, check_request

LOCAL = model_info("local-text")
MESSAGES = [{"role": "user", "content": "hi"}]


def params(problems) -> set[str]:
    return {p.param for p in problems}


def test_defaults_send_only_the_prompt_max_tokens_and_the_views_logprobs():
    request = build_request("completions", LOCAL, dict(stream=False), prompt="Hello")
    assert request.body() == {"model": "local-text", "prompt": "Hello", "max_tokens": 256, "logprobs": 5}
    chat = build_request("chat", LOCAL, dict(stream=False, logprobs=False), messages=MESSAGES)
    assert chat.body() == {"model": "local-text", "messages": MESSAGES, "max_tokens": 256}


def test_changed_values_are_sent():
    settings = dict(
        temperature=0.3, top_p=0.5, frequency_penalty=1.5, presence_penalty=-0.5, n=2, stop=["\n"], seed=9,
        logit_bias={"42": 10}, suffix="END", echo=True, best_of=3, logprobs=0, stream=False,
    )
    body = build_request("completions", LOCAL, settings, prompt="x").body()
    assert body == {
        "model": "local-text", "prompt": "x", "max_tokens": 256, "temperature": 0.3, "top_p": 0.5,
        "frequency_penalty": 1.5, "presence_penalty": -0.5, "n": 2, "stop": ["\n"], "seed": 9,
        "logit_bias": {"42": 10}, "suffix": "END", "echo": True, "best_of": 3, "logprobs": 0,
    }
    assert check_request(build_request("completions", LOCAL, settings, prompt="x"), LOCAL, prompt_tokens=1) == []


def test_streaming_asks_for_usage():
    body = build_request("chat", LOCAL, dict(top_logprobs=20), messages=MESSAGES).body()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["logprobs"] is True and body["top_logprobs"] == 20


def test_a_reasoning_model_gets_max_completion_tokens_and_none_of_what_it_refuses():
    o3 = model_info("o3")
    settings = dict(temperature=0.2, top_p=0.5, presence_penalty=1, n=3, logit_bias={"1": 5}, top_logprobs=3, seed=1)
    body = build_request("chat", o3, settings, messages=MESSAGES).body()
    assert body["max_completion_tokens"] == 256 and "max_tokens" not in body
    for refused in ("temperature", "top_p", "presence_penalty", "n", "logit_bias", "logprobs", "top_logprobs"):
        assert refused not in body
    assert body["seed"] == 1
    assert check_request(build_request("chat", o3, settings, messages=MESSAGES), o3) == []


def test_a_hand_made_request_for_a_reasoning_model_is_refused_naming_each_param():
    o3 = model_info("o3")
    request = build_request("chat", o3, dict(), messages=MESSAGES)
    request.params.update(temperature=0.5, logprobs=True, max_tokens=10)
    problems = check_request(request, o3)
    assert {"temperature", "logprobs", "max_tokens"} <= params(problems)
    assert any("reasoning model" in p.message for p in problems)


def test_limits_are_checked_with_the_parameter_named():
    request = build_request("completions", LOCAL, dict(n=3, best_of=2, stop=["a", "b", "c", "d", "e"]), prompt="x")
    request.params["logprobs"] = 6
    assert params(check_request(request, LOCAL)) == {"logprobs", "best_of", "stop"}
    streamed_best_of = build_request("completions", LOCAL, dict(best_of=3, stream=True), prompt="x")
    [problem] = check_request(streamed_best_of, LOCAL)
    assert problem.param == "best_of" and "stream" in problem.message
    chat = build_request("chat", LOCAL, dict(stream=False), messages=MESSAGES)
    chat.params["top_logprobs"] = 21
    assert params(check_request(chat, LOCAL)) == {"top_logprobs"}
    chat.params.update(top_logprobs=2, logprobs=False)
    assert params(check_request(chat, LOCAL)) == {"top_logprobs"}
    empty = build_request("chat", LOCAL, dict(), messages=[])
    assert params(check_request(empty, LOCAL)) == {"messages"}


def test_max_tokens_within_the_context_window_and_the_models_output_limit():
    request = build_request("completions", LOCAL, dict(max_tokens=4000), prompt="x")
    [problem] = check_request(request, LOCAL, prompt_tokens=5000)
    assert problem.param == "max_tokens" and "8,192-token context window" in problem.message and "3,192" in problem.message
    assert check_request(request, LOCAL, prompt_tokens=4000) == []
    too_long = build_request("completions", LOCAL, dict(max_tokens=5000), prompt="x")
    assert "at most 4,096" in check_request(too_long, LOCAL)[0].message


def test_a_model_that_does_not_serve_the_endpoint_is_named():
    gpt4o = model_info("gpt-4o")
    request = build_request("completions", gpt4o, dict(), prompt="x")
    assert params(check_request(request, gpt4o)) == {"model"}


def test_logit_bias_out_of_range_is_refused():
    request = build_request("chat", LOCAL, dict(logit_bias={"12": 150, "x": 1}), messages=MESSAGES)
    problems = check_request(request, LOCAL)
    assert params(problems) == {"logit_bias"}
    assert "between -100 and 100" in str(check_request(build_request("chat", LOCAL, dict(logit_bias={"12": 150}), messages=MESSAGES), LOCAL)[0])


def test_stop_sequences_typed_one_per_line_with_escapes():
    from playground.requests import parse_stop_lines, stop_lines

    typed = "\\n\\n\nEND\n\nC:\\\\path\n\\tindent"
    stops = parse_stop_lines(typed)
    assert stops == ["\n\n", "END", "C:\\path", "\tindent"]
    assert parse_stop_lines(stop_lines(stops)) == stops
    assert parse_stop_lines("a\\x") == ["a\\x"]  # unknown escapes stay as typed
