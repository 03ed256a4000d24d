"""The runner against the real engine: streamed and not, stop keeps what arrived, usage, TTFT."""

from __future__ import annotations

from playground.catalog import model_info
from playground.logprobs import rebuild_text
from playground.requests import build_request
from playground.runner import ChoiceResult, RunResult, finish, prebuild_tokens, run

LOCAL = model_info("local-text")
PROMPT = "Return the number of items in the"
NO_END = {"199999": -100}  # bans <|endoftext|> so greedy text runs to max_tokens


def completion(**changes) -> object:
    settings = dict(**{"max_tokens": 24, "seed": 7, "stream": False, **changes})
    return build_request("completions", LOCAL, settings, prompt=PROMPT)


def test_not_streamed_matches_a_direct_sdk_call(client):
    request = completion(logprobs=3, temperature=0.8)
    result = run(client, request)
    direct = client.completions.create(model="local-text", prompt=PROMPT, max_tokens=24, seed=7, temperature=0.8, logprobs=3)
    assert result.error is None and result.done and not result.stopped
    assert result.text == direct.choices[0].text
    tokens = result.choices[0].tokens
    assert [t.token for t in tokens] == direct.choices[0].logprobs.tokens
    assert [t.logprob for t in tokens] == direct.choices[0].logprobs.token_logprobs
    assert all(len(t.top) >= 3 for t in tokens)
    assert result.usage["completion_tokens"] == direct.usage.completion_tokens
    assert result.latency_s > 0 and result.ttft_s is None


def test_streamed_gives_the_same_text_tokens_usage_and_a_time_to_first_token(client):
    plain = run(client, completion(logprobs=2))
    streamed_updates: list[str] = []
    streamed = run(client, completion(logprobs=2, stream=True), on_update=lambda r: streamed_updates.append(r.text))
    assert streamed.error is None and streamed.done
    assert streamed.text == plain.text
    assert [t.token for t in streamed.choices[0].tokens] == [t.token for t in plain.choices[0].tokens]
    assert rebuild_text(streamed.choices[0].tokens) == streamed.text
    assert streamed.usage["completion_tokens"] == plain.usage["completion_tokens"]
    assert streamed.usage["prompt_tokens"] == plain.usage["prompt_tokens"]
    # text grew chunk by chunk and the first text came before the end
    assert len(streamed_updates) > 3 and streamed_updates[-1] == streamed.text
    assert 0 < streamed.ttft_s <= streamed.latency_s


def test_stop_mid_stream_keeps_what_arrived_and_marks_it_stopped(client):
    full = run(client, completion(max_tokens=200, temperature=0, logit_bias=NO_END, stream=True))
    seen = 0

    def stop_after_five() -> bool:
        nonlocal seen
        seen += 1
        return seen >= 5

    stopped = run(client, completion(max_tokens=200, temperature=0, logit_bias=NO_END, stream=True), should_stop=stop_after_five)
    assert stopped.stopped and stopped.done and stopped.error is None
    assert stopped.text and full.text.startswith(stopped.text) and len(stopped.text) < len(full.text)
    assert stopped.usage is None  # the final usage chunk never came


def test_an_interrupted_result_is_kept_as_it_was(client):
    """A rerun interrupts the page mid-stream: the partial result in session state stays."""
    request = completion(max_tokens=200, temperature=0, logit_bias=NO_END, stream=True)
    result = RunResult(request)

    class Interrupted(Exception):
        pass

    def interrupt_once_text_arrived(r: RunResult) -> None:
        if r.choices and len(r.choices[0].text) > 10:
            raise Interrupted

    try:
        run(client, request, result=result, on_update=interrupt_once_text_arrived)
    except Interrupted:
        pass
    assert not result.done and len(result.text) > 10
    finish(result, stopped=True)
    assert result.stopped and result.text
    # the tokens that came with the text are in the table
    assert result.text.startswith(rebuild_text(result.choices[0].tokens)) and result.choices[0].tokens


def test_chat_streamed_with_n_two_and_top_logprobs(client):
    settings = dict(max_tokens=20, n=2, seed=3, logprobs=True, top_logprobs=4, stream=True)
    messages = [{"role": "user", "content": "What does len() return?"}]
    result = run(client, build_request("chat", LOCAL, settings, messages=messages))
    assert result.error is None and len(result.choices) == 2
    direct = client.chat.completions.create(
        model="local-text", messages=messages, max_tokens=20, n=2, seed=3, logprobs=True, top_logprobs=4
    )
    for mine, theirs in zip(result.choices, direct.choices):
        assert mine.text == theirs.message.content
        assert [t.token for t in mine.tokens] == [c.token for c in theirs.logprobs.content]
        assert all(len(t.top) == 4 for t in mine.tokens)
        assert mine.finish_reason == theirs.finish_reason
    assert result.usage["prompt_tokens"] == direct.usage.prompt_tokens


def test_echo_marks_the_prompt_tokens(client):
    result = run(client, completion(echo=True, logprobs=1))
    tokens = result.choices[0].tokens
    prompt_count = result.usage["prompt_tokens"]
    assert result.text.startswith(PROMPT)
    assert all(t.is_prompt for t in tokens[:prompt_count]) and not any(t.is_prompt for t in tokens[prompt_count:])


def test_errors_become_problems_with_the_parameter_named(client):
    request = completion()
    request.params["logprobs"] = 9  # past the API's limit
    result = run(client, request)
    assert result.done and result.error is not None
    assert result.error.param == "logprobs"


def test_rate_limit_headers_are_read(start_engine):
    import openai

    with start_engine("--rpm", "5") as url:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        result = run(client, completion(max_tokens=4))
        assert result.rate_limit_headers["x-ratelimit-limit-requests"] == "5"
        assert result.rate_limit_headers["x-ratelimit-remaining-requests"] == "4"


def test_a_chunk_that_is_not_an_object_stops_the_stream_with_a_message_and_keeps_what_came():
    import openai

    from tests.stubserver import stub_server

    key = "sk-" + "streamkey" * 4
    with stub_server(quirks=("non_object_chunk",)) as (url, _):
        client = openai.OpenAI(base_url=url, api_key=key, max_retries=0)
        for endpoint, prompt in (("completions", PROMPT), ("chat", None)):
            request = build_request(endpoint, model_info("gpt-4o-mini"), {"stream": True, "max_tokens": 8},
                                    prompt=prompt, messages=[{"role": "user", "content": "hi"}] if prompt is None else None)
            result = run(client, request)
            assert result.done and result.error is not None, endpoint
            assert "cannot read" in result.error.title and "keep-alive" in result.error.detail
            assert key not in result.error.detail
            assert result.choices and result.choices[0].text  # the first chunk's text is kept


def _built_as_it_streams_and_at_once(client, request) -> tuple[RunResult, list[list], list[list], list[list]]:  # noqa: ANN001
    """The run's tokens with prebuild_tokens after every chunk (as the page does between
    redraws), what was prebuilt last, and the same logprobs built at the end only."""
    prebuilt: list[list] = []

    def prebuild(result: RunResult) -> None:
        prebuild_tokens(result)
        prebuilt[:] = [list(c.prebuilt) for c in result.choices]

    result = run(client, request, on_update=prebuild)
    assert result.error is None and result.done
    at_once = RunResult(request, choices=[ChoiceResult(c.index, c.text, raw_logprobs=c.raw_logprobs, finish_reason=c.finish_reason)
                                          for c in result.choices])
    finish(at_once)
    return result, [c.tokens for c in result.choices], prebuilt, [c.tokens for c in at_once.choices]


def _reused(tokens: list, prebuilt: list) -> int:
    return sum(1 for a, b in zip(tokens, prebuilt) if a is b)


def test_tokens_built_as_a_stream_arrives_are_those_built_at_its_end(client):
    # A completion whose text splits characters (" 🎉" forced: tokens whose string is U+FFFD,
    # their bytes recovered at the end from the text), and a chat reply with two choices.
    party = {"139786": 100, "231": 100, "199999": -100}
    request = completion(logprobs=3, stream=True, max_tokens=40, logit_bias=party, frequency_penalty=2.0, temperature=0)
    result, streamed, prebuilt, at_once = _built_as_it_streams_and_at_once(client, request)
    assert streamed == at_once and len(streamed[0]) == 40
    split = next(i for i, t in enumerate(streamed[0]) if t.token == "\ufffd")
    assert len(prebuilt[0]) == split and _reused(streamed[0], prebuilt[0]) == split  # kept up to the first split

    plain = completion(logprobs=3, stream=True, max_tokens=60, logit_bias=NO_END)
    result, streamed, prebuilt, at_once = _built_as_it_streams_and_at_once(client, plain)
    assert streamed == at_once and _reused(streamed[0], prebuilt[0]) >= 59  # all but the last chunk's, at most

    chat = build_request("chat", LOCAL, dict(max_tokens=30, seed=3, stream=True, logprobs=True, top_logprobs=4, n=2,
                                             logit_bias=NO_END), messages=[{"role": "user", "content": "Describe os.path.join."}])
    result, streamed, prebuilt, at_once = _built_as_it_streams_and_at_once(client, chat)
    assert streamed == at_once and [len(tokens) for tokens in streamed] == [30, 30]
    assert all(_reused(tokens, built) >= 29 for tokens, built in zip(streamed, prebuilt))

    # With echo, which tokens are the prompt's is known at the end: nothing is built before it.
    echoed = completion(logprobs=2, stream=True, echo=True)
    result, streamed, prebuilt, at_once = _built_as_it_streams_and_at_once(client, echoed)
    assert streamed == at_once and any(t.is_prompt for t in streamed[0]) and prebuilt == [[]]
