"""The request a text page sends: built from the controls, checked against the model.

Only what the user moved away from the API's default goes in the body (plus the prompt or
messages, the model and max tokens, which are always sent), so the JSON shown in "View code"
is exactly what the call needs. Parameters the selected model does not take are left out:
their controls are disabled with the reason beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from playground.catalog import ModelInfo, model_info
from playground.params import Endpoint, body_params, params_for


@dataclass
class TextRequest:
    endpoint: Endpoint
    model: str
    params: dict[str, Any]  # everything but the model: prompt or messages, sampling parameters
    # What the page knew of the model (on Azure: the deployment's model): prices the run.
    info: ModelInfo | None = field(default=None, compare=False, repr=False)

    def body(self) -> dict[str, Any]:
        """The JSON body as the SDK sends it."""
        return {"model": self.model, **self.params}

    def capabilities(self) -> ModelInfo:
        return self.info or model_info(self.model)

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
    controls: Mapping[str, Any],
    *,
    prompt: str | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> TextRequest:
    """The request for these controls (name -> value, see playground/params.py), without
    parameters the model does not take. A control left out takes its default."""
    values = dict(controls)
    if prompt is not None:
        values["prompt"] = prompt
    if messages is not None:
        values["messages"] = list(messages)
    return TextRequest(endpoint, info.id, body_params(endpoint, info, values), info)


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

    rows = params_for(request.endpoint)
    for name, value in p.items():
        row = rows.get(name) or (rows["max_tokens"] if name == "max_completion_tokens" else None)
        if row is not None and not row.on_page and row.widget != "model" and (found := row.problem(value)):
            problem(name, f"{found}.")
    n = p.get("n", 1)
    max_param = "max_completion_tokens" if "max_completion_tokens" in p else "max_tokens"
    max_tokens = p.get(max_param)
    if isinstance(max_tokens, int) and max_tokens >= 1:
        if info.max_output and max_tokens > info.max_output:
            problem(max_param, f"{info.id} writes at most {info.max_output:,} tokens (asked for {max_tokens:,}).")
        elif info.context_window and prompt_tokens is not None and prompt_tokens + max_tokens > info.context_window:
            room = info.context_window - prompt_tokens
            window = f"the {info.context_window:,}-token context window of {info.id}"
            if room < 1:
                problem("prompt", f"the prompt alone ({prompt_tokens:,} tokens) fills {window}, leaving no room "
                                  "for a completion: shorten the prompt.")
            else:
                problem(max_param, f"the prompt ({prompt_tokens:,} tokens) plus {max_tokens:,} for the completion "
                                   f"exceed {window}; lower it to {room:,} or shorten the prompt.")

    if request.endpoint == "completions":
        best_of = p.get("best_of")
        if best_of is not None:
            if best_of < n:
                problem("best_of", f"must be at least n (best_of={best_of}, n={n}).")
            if request.streamed and best_of > n:
                problem("best_of", "results cannot be streamed when best_of is greater than n: turn streaming off.")
    else:
        if p.get("top_logprobs") is not None and not p.get("logprobs"):
            problem("top_logprobs", "needs logprobs turned on.")
        messages = p.get("messages") or []
        if not messages:
            problem("messages", "add a message first.")
    return problems


def one_per_param(*problem_lists: list[ParamProblem]) -> list[ParamProblem]:
    """The problems of the controls and of the request check, the first for each parameter
    only: the same problem is said once (a control and the check both see a 5th stop sequence)."""
    seen: set[str] = set()
    out = []
    for problem in (p for problems in problem_lists for p in problems):
        if problem.param not in seen:
            seen.add(problem.param)
            out.append(problem)
    return out


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
