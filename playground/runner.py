"""Run a TextRequest with the SDK, streamed or not, into one normalized RunResult.

The result is filled in place as chunks arrive, so a page can keep it (st.session_state)
and show it while it grows: if the run is interrupted (Stop, or any rerun), what arrived
stays, and `finish(result, stopped=True)` turns it into a result marked stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import openai

from playground.counting import count_completion
from playground.errors import Problem, explain, unreadable_chunk
from playground.logprobs import (
    TokenInfo,
    echo_prompt_token_count,
    from_chat_logprobs,
    from_completion_logprobs,
    mark_unreturned,
    token_string_bytes,
)
from playground.requests import TextRequest
from playground.structured import merge_tool_call_deltas
from playground.tokens import encoding_for_model
from playground.wire import Wire


@dataclass
class ChoiceResult:
    index: int
    text: str = ""
    tokens: list[TokenInfo] = field(default_factory=list)
    finish_reason: str | None = None
    # logprobs as they arrived (completions: the four parallel lists; chat: the content
    # list), turned into `tokens` by finish()
    raw_logprobs: dict[str, list[Any]] = field(default_factory=dict)
    # Azure: what its content filter said of this output (category -> {filtered, severity})
    content_filter_results: dict[str, Any] | None = None
    # chat: the function calls of the reply ({"id", "type", "function": {"name", "arguments"}})
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    # tokens built while the stream arrived (prebuild_tokens), which finish() reuses, and the
    # completions logprob lists they were built from
    prebuilt: list[TokenInfo] = field(default_factory=list)
    prebuilt_from: frozenset[str] = frozenset()


@dataclass
class RunResult:
    request: TextRequest
    choices: list[ChoiceResult] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    latency_s: float | None = None
    ttft_s: float | None = None  # streamed runs only: until the first text arrived
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    stopped: bool = False
    error: Problem | None = None
    done: bool = False  # False while chunks are still arriving (or the run was interrupted)
    started: float = field(default_factory=time.perf_counter)
    last_chunk: float | None = None  # when the last chunk arrived (a stopped run's latency ends there)
    prompt_tokens_echoed: int = 0  # with echo: how many leading tokens are the prompt's
    prompt_tokens_local: int | None = None  # the prompt counted here, before sending
    prompt_filter_results: list[dict[str, Any]] | None = None  # Azure: the prompt's filter results
    # Dollars, priced once when the run finishes from the model info the request was built
    # with (an Azure deployment by the model it serves); None when the price is unknown.
    cost: float | None = None
    history_id: str | None = None  # the run's id in the history, once saved
    # What was asked but silently not given (logprobs, choices, echo, usage): set by finish()
    dropped: list[str] = field(default_factory=list)
    wire: Wire | None = None  # the request and response as they crossed the wire

    def choice(self, index: int) -> ChoiceResult:
        while len(self.choices) <= index:
            self.choices.append(ChoiceResult(len(self.choices)))
        return self.choices[index]

    @property
    def text(self) -> str:
        return self.choices[0].text if self.choices else ""


def rate_limit_headers(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}


def run(
    client: openai.OpenAI,
    request: TextRequest,
    *,
    result: RunResult | None = None,
    on_update: Callable[[RunResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    prompt_tokens: int = 0,
) -> RunResult:
    """Send the request and fill `result` (a new one if not given) as the answer arrives.

    `on_update` is called after every chunk (streamed) or once (not streamed);
    `should_stop` is checked between chunks: when it returns True the stream is closed and
    the result keeps what arrived, marked stopped. `prompt_tokens` is the local count of the
    prompt, used to mark echoed prompt tokens when the prompt is not one string (ids, several).
    SDK errors do not raise: they become `result.error`.
    """
    result = result if result is not None else RunResult(request)
    result.started = time.perf_counter()
    if request.params.get("echo"):
        result.prompt_tokens_echoed = prompt_tokens
    api = client.completions if request.endpoint == "completions" else client.chat.completions
    try:
        result.wire = Wire(request.body())
        raw = api.with_raw_response.create(**request.body())
        result.rate_limit_headers = rate_limit_headers(raw.headers)
        if request.streamed:
            # Chunks as the JSON they came as (the SDK's SSE reading and error raising, no
            # model objects): building and dumping thousands of models costs seconds of CPU
            # that the engine and the browser drawing the stream need.
            stream = raw.parse(to=openai.Stream[object])
            try:
                for chunk in stream:
                    result.wire.add_chunk(chunk, time.perf_counter() - result.started)
                    try:
                        _take_chunk(result, request, chunk)
                    except (AttributeError, TypeError, ValueError):  # JSON, but not a chunk's shape
                        result.error = unreadable_chunk(chunk, secrets=[client.api_key], where=str(client.base_url))
                        break
                    if on_update is not None:
                        on_update(result)
                    if should_stop is not None and should_stop():
                        return finish(result, stopped=True)
            finally:
                stream.close()
        else:
            response = raw.parse().model_dump(exclude_unset=True)  # the fields the server sent
            result.wire.set_response(response)
            _take_response(result, request, response)
            if on_update is not None:
                on_update(result)
    except (openai.OpenAIError, httpx.TransportError) as exc:  # a cut stream may surface as either
        result.error = explain(exc, secrets=[client.api_key], where=str(client.base_url),
                               after_output=any(c.text for c in result.choices))
    return finish(result)


def finish(result: RunResult, *, stopped: bool = False) -> RunResult:
    """Mark the result complete and build each choice's token table from its logprobs."""
    if result.done:
        return result
    end = result.last_chunk if stopped and result.last_chunk is not None else time.perf_counter()
    # a failed run has no latency: the time until an error says nothing about the model
    result.latency_s = None if result.error is not None else end - result.started
    result.stopped = stopped
    result.done = True
    echoed_prompt = result.request.params.get("prompt") if result.request.params.get("echo") else None
    encoding = _encoding(result.request.model)
    for choice in result.choices:
        if not choice.raw_logprobs:
            continue
        if result.request.endpoint == "completions":
            if isinstance(echoed_prompt, str):
                # Exact, streamed or not: the echoed tokens are those that start inside the prompt.
                result.prompt_tokens_echoed = echo_prompt_token_count(choice.raw_logprobs, echoed_prompt)
            same_lists = choice.prebuilt_from == _present(choice.raw_logprobs)
            choice.tokens = from_completion_logprobs(
                choice.raw_logprobs,
                prompt_token_count=result.prompt_tokens_echoed,
                encoding=encoding,
                text=choice.text,
                top_n=result.request.params.get("logprobs"),
                reuse=choice.prebuilt if same_lists else (),
            )
        else:
            choice.tokens = from_chat_logprobs(choice.raw_logprobs, encoding=encoding,
                                               top_n=result.request.params.get("top_logprobs"), reuse=choice.prebuilt)
        choice.prebuilt = []
        if choice.finish_reason == "stop":  # the text ends before the stop sequence; logprobs may not
            choice.tokens = mark_unreturned(choice.tokens, choice.text)
    result.cost = _price(result)
    result.dropped = dropped(result)
    return result


def prebuild_tokens(result: RunResult) -> None:
    """Build the tokens of the logprobs arrived so far, for finish() to reuse: called as a
    stream arrives, it spares the end of a long run most of its tokens' building. Only what
    cannot change is kept: not with echo (which tokens are the prompt's is known at the end),
    and up to a token that splits a character (its bytes come from what follows)."""
    if result.done or result.request.params.get("echo"):
        return
    encoding = _encoding(result.request.model)
    for choice in result.choices:
        raw = choice.raw_logprobs
        if result.request.endpoint == "completions":
            present = _present(raw)
            if "tokens" not in present:
                continue
            if present != choice.prebuilt_from:
                choice.prebuilt, choice.prebuilt_from = [], present
            whole = min(len(raw[name]) for name in present)  # tokens every list has reached
            start = len(choice.prebuilt)
            split = next((i for i in range(start, whole) if token_string_bytes(raw["tokens"][i]) is None), whole)
            if split > start:
                choice.prebuilt = from_completion_logprobs({name: raw[name][:split] for name in present}, encoding=encoding,
                                                           top_n=result.request.params.get("logprobs"), reuse=choice.prebuilt)
        elif len(raw.get("content") or ()) > len(choice.prebuilt):
            choice.prebuilt = from_chat_logprobs(raw, encoding=encoding, top_n=result.request.params.get("top_logprobs"),
                                                 reuse=choice.prebuilt)


def _present(raw_logprobs: dict[str, list[Any]]) -> frozenset[str]:
    return frozenset(name for name, values in raw_logprobs.items() if values)


def dropped(result: RunResult) -> list[str]:
    """What the request asked for and the provider left out without an error, in plain words.
    Only for a run that ended normally: a stopped or failed one is missing things for that reason."""
    if result.stopped or result.error is not None or not result.choices:
        return []
    params, notes = result.request.params, []
    completions = result.request.endpoint == "completions"
    if (params.get("logprobs") is not None) if completions else bool(params.get("logprobs")):
        bare = [c.index for c in result.choices if c.text and not any(c.raw_logprobs.values())]
        if bare:
            which = "" if len(bare) == len(result.choices) else " for choice " + ", ".join(map(str, bare))
            notes.append(f"Logprobs were requested but the provider returned none{which}: "
                         "there are no token probabilities to show.")
    wanted = int(params.get("n") or 1)
    if len(result.choices) < wanted:
        notes.append(f"n={wanted} choices were requested but the provider returned {len(result.choices)}.")
    prompt = params.get("prompt")
    if completions and params.get("echo") and isinstance(prompt, str) and prompt:
        if not all(c.text.startswith(prompt) for c in result.choices):
            notes.append("echo was requested but the text does not start with the prompt: the provider ignored echo.")
    if result.request.streamed and (params.get("stream_options") or {}).get("include_usage") and result.usage is None:
        notes.append("The stream carried no usage although it was asked for (stream_options.include_usage): "
                     "token counts and cost are this app's own count.")
    return notes


def completion_tokens(result: RunResult) -> int:
    """Tokens generated, counted here: the token tables when there are, else the text re-encoded."""
    total = 0
    for choice in result.choices:
        generated = [t for t in choice.tokens if not t.is_prompt]
        total += len(generated) if generated else count_completion(choice.text, result.request.model)
    return total


def _price(result: RunResult) -> float | None:
    """What the run cost: the usage the API reported, or the local counts when it reported none."""
    usage = result.usage or {}
    prompt = usage.get("prompt_tokens", result.prompt_tokens_local or 0)
    completion = usage.get("completion_tokens")
    if completion is None:
        completion = completion_tokens(result)
    return result.request.capabilities().cost(prompt or 0, completion)


def _encoding(model: str) -> Any:
    try:
        return encoding_for_model(model)
    except Exception:  # an encoding that needs a download offline: token ids stay unknown
        return None


_COMPLETION_LISTS = ("tokens", "token_logprobs", "top_logprobs", "text_offset")


def _without_none(value: Any) -> Any:
    """A JSON value without null fields at any depth (as the SDK's exclude_none gave)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _add_logprobs(choice: ChoiceResult, endpoint: str, logprobs: dict[str, Any] | None) -> None:
    if not logprobs:
        return
    if endpoint == "completions":
        for name in _COMPLETION_LISTS:
            choice.raw_logprobs.setdefault(name, []).extend(logprobs.get(name) or [])
    else:
        choice.raw_logprobs.setdefault("content", []).extend(logprobs.get("content") or [])


def _take_filter_results(result: RunResult, choice: ChoiceResult | None, part: dict[str, Any]) -> None:
    """Azure adds content-filter results to responses and chunks."""
    if choice is None and part.get("prompt_filter_results"):
        result.prompt_filter_results = part["prompt_filter_results"]
    elif choice is not None and part.get("content_filter_results"):
        choice.content_filter_results = part["content_filter_results"]


def _take_chunk(result: RunResult, request: TextRequest, chunk: dict[str, Any]) -> None:
    """One streamed chunk, as the JSON it came as."""
    result.last_chunk = time.perf_counter()
    _take_filter_results(result, None, chunk)
    if chunk.get("usage") is not None:
        result.usage = _without_none(chunk["usage"])
    for part in chunk.get("choices") or []:
        choice = result.choice(part.get("index") or 0)
        if request.endpoint == "completions":
            text = part.get("text") or ""
        else:
            delta = part.get("delta") or {}
            text = delta.get("content") or ""
            if delta.get("tool_calls"):
                merge_tool_call_deltas(choice.tool_calls, delta["tool_calls"])
        if text and result.ttft_s is None:
            result.ttft_s = time.perf_counter() - result.started
        choice.text += text
        _take_filter_results(result, choice, part)
        _add_logprobs(choice, request.endpoint, part.get("logprobs"))
        if part.get("finish_reason"):
            choice.finish_reason = part["finish_reason"]


def _take_response(result: RunResult, request: TextRequest, response: dict[str, Any]) -> None:
    """A whole (not streamed) response, as the JSON it came as."""
    _take_filter_results(result, None, response)
    if response.get("usage") is not None:
        result.usage = _without_none(response["usage"])
    # best_of may return the choices in any order of index: keep the API's order
    for position, part in enumerate(response.get("choices") or []):
        choice = result.choice(position)
        choice.index = part.get("index") or 0
        if request.endpoint == "completions":
            choice.text = part.get("text") or ""
        else:
            message = part.get("message") or {}
            choice.text = message.get("content") or ""
            choice.tool_calls = [_without_none(call) for call in message.get("tool_calls") or []]
        _take_filter_results(result, choice, part)
        _add_logprobs(choice, request.endpoint, part.get("logprobs"))
        choice.finish_reason = part.get("finish_reason")
