"""The request a text page sends: built from the controls, checked against the model.

Only what the user moved away from the API's default goes in the body (plus the prompt or
messages, the model and max tokens, which are always sent), so the JSON shown in "View code"
is exactly what the call needs. Parameters the selected model does not take are left out:
their controls are disabled with the reason beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from playground.catalog import ModelInfo

Endpoint = Literal["completions", "chat"]

MAX_STOP = 4
MAX_COMPLETION_LOGPROBS = 5
MAX_TOP_LOGPROBS = 20
MAX_BEST_OF = 20
MAX_N = 128
LOGIT_BIAS_RANGE = (-100, 100)

# The API's defaults: a value equal to these is not sent.
API_DEFAULTS: dict[str, Any] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
    "n": 1,
    "best_of": 1,
    "echo": False,
}


@dataclass
class Settings:
    """The values of the sampling controls, as the user set them."""

    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    n: int = 1
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    stream: bool = True
    logit_bias: dict[str, int] | None = None
    # completions
    suffix: str = ""
    echo: bool = False
    best_of: int = 1
    logprobs: int | None = 5  # completions: alternatives per token, None = off
    # chat
    chat_logprobs: bool = True
    top_logprobs: int = 5


@dataclass
class TextRequest:
    endpoint: Endpoint
    model: str
    params: dict[str, Any]  # everything but the model: prompt or messages, sampling parameters

    def body(self) -> dict[str, Any]:
        """The JSON body as the SDK sends it."""
        return {"model": self.model, **self.params}

    @property
    def streamed(self) -> bool:
        return bool(self.params.get("stream"))


@dataclass(frozen=True)
class ParamProblem:
    param: str
    message: str

    def __str__(self) -> str:
        return f"`{self.param}`: {self.message}"


def build_request(
    endpoint: Endpoint,
    info: ModelInfo,
    settings: Settings,
    *,
    prompt: str | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> TextRequest:
    """The request for these controls, without parameters the model does not take."""
    params: dict[str, Any] = {}
    if endpoint == "completions":
        params["prompt"] = prompt or ""
    else:
        params["messages"] = list(messages or [])
    params[info.max_tokens_param] = settings.max_tokens

    def put(name: str, value: Any) -> None:
        if info.supports(name) and value != API_DEFAULTS.get(name, None):
            params[name] = value

    put("temperature", settings.temperature)
    put("top_p", settings.top_p)
    put("frequency_penalty", settings.frequency_penalty)
    put("presence_penalty", settings.presence_penalty)
    put("n", settings.n)
    if settings.stop:
        put("stop", list(settings.stop))
    put("seed", settings.seed)
    if settings.logit_bias:
        put("logit_bias", dict(settings.logit_bias))
    if endpoint == "completions":
        put("suffix", settings.suffix or None)
        put("echo", settings.echo)
        put("best_of", settings.best_of)
        put("logprobs", settings.logprobs)
    elif settings.chat_logprobs and info.supports("logprobs"):
        params["logprobs"] = True
        if settings.top_logprobs:
            put("top_logprobs", settings.top_logprobs)
    if settings.stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    return TextRequest(endpoint, info.id, params)


def check_request(request: TextRequest, info: ModelInfo, *, prompt_tokens: int | None = None) -> list[ParamProblem]:
    """What the API would refuse in this request, each problem naming its parameter.

    `prompt_tokens` (the local count) lets the context window be checked before sending.
    """
    p = request.params
    problems: list[ParamProblem] = []

    def problem(param: str, message: str) -> None:
        problems.append(ParamProblem(param, message))

    if info.known and request.endpoint not in info.endpoints:
        served = " or ".join(info.endpoints) or "another endpoint"
        problem("model", f"{info.id} does not serve the {request.endpoint} endpoint (it serves {served}); pick another model.")
    for name in sorted(info.unsupported & set(p)):
        problem(name, info.why_unsupported(name) or f"{info.id} does not take {name}.")
    if info.reasoning and "max_tokens" in p:
        problem("max_tokens", f"{info.id} is a reasoning model: use max_completion_tokens instead of max_tokens.")

    for name, low, high in (
        ("temperature", 0, 2),
        ("top_p", 0, 1),
        ("frequency_penalty", -2, 2),
        ("presence_penalty", -2, 2),
    ):
        value = p.get(name)
        if value is not None and not low <= value <= high:
            problem(name, f"must be between {low} and {high} (got {value}).")

    n = p.get("n", 1)
    if not 1 <= n <= MAX_N:
        problem("n", f"must be between 1 and {MAX_N} (got {n}).")

    max_param = "max_completion_tokens" if "max_completion_tokens" in p else "max_tokens"
    max_tokens = p.get(max_param)
    if max_tokens is not None:
        if max_tokens < 1:
            problem(max_param, f"must be at least 1 (got {max_tokens}).")
        elif info.max_output and max_tokens > info.max_output:
            problem(max_param, f"{info.id} writes at most {info.max_output:,} tokens (asked for {max_tokens:,}).")
        elif info.context_window and prompt_tokens is not None and prompt_tokens + max_tokens > info.context_window:
            problem(
                max_param,
                f"the prompt ({prompt_tokens:,} tokens) plus {max_tokens:,} for the completion exceed the "
                f"{info.context_window:,}-token context window of {info.id}; lower it to "
                f"{max(info.context_window - prompt_tokens, 0):,} or shorten the prompt.",
            )

    stop = p.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else list(stop)
        if len(stops) > MAX_STOP:
            problem("stop", f"at most {MAX_STOP} stop sequences (got {len(stops)}).")
        if any(s == "" for s in stops):
            problem("stop", "a stop sequence cannot be empty.")

    bias = p.get("logit_bias")
    if bias:
        low, high = LOGIT_BIAS_RANGE
        for token, value in bias.items():
            if not str(token).isdigit():
                problem("logit_bias", f"keys must be token ids, {token!r} is not.")
            elif not low <= value <= high:
                problem("logit_bias", f"the bias of token {token} must be between {low} and {high} (got {value}).")

    if request.endpoint == "completions":
        logprobs = p.get("logprobs")
        if logprobs is not None and not 0 <= logprobs <= MAX_COMPLETION_LOGPROBS:
            problem("logprobs", f"must be between 0 and {MAX_COMPLETION_LOGPROBS} on the completions endpoint (got {logprobs}).")
        best_of = p.get("best_of")
        if best_of is not None:
            if not 1 <= best_of <= MAX_BEST_OF:
                problem("best_of", f"must be between 1 and {MAX_BEST_OF} (got {best_of}).")
            if best_of < n:
                problem("best_of", f"must be at least n (best_of={best_of}, n={n}).")
            if request.streamed and best_of > n:
                problem("best_of", "results cannot be streamed when best_of is greater than n: turn streaming off.")
    else:
        top = p.get("top_logprobs")
        if top is not None:
            if not 0 <= top <= MAX_TOP_LOGPROBS:
                problem("top_logprobs", f"must be between 0 and {MAX_TOP_LOGPROBS} (got {top}).")
            if not p.get("logprobs"):
                problem("top_logprobs", "needs logprobs turned on.")
        messages = p.get("messages") or []
        if not messages:
            problem("messages", "add a message first.")
    return problems


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def parse_stop_lines(text: str) -> list[str]:
    r"""Stop sequences typed one per line; \n, \t, \r and \\ stand for newline, tab, return
    and a backslash. Empty lines are skipped."""
    stops = []
    for line in text.splitlines():
        if not line:
            continue
        out, i = [], 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in _ESCAPES:
                out.append(_ESCAPES[line[i + 1]])
                i += 2
            else:
                out.append(line[i])
                i += 1
        stops.append("".join(out))
    return stops


def stop_lines(stops: list[str]) -> str:
    """The inverse of parse_stop_lines: one escaped sequence per line."""
    return "\n".join(s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") for s in stops)
