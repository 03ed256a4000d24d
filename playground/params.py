"""The parameter table: one row per request parameter of the text endpoints.

Everything else is generated from it: the widgets (components/sampling_controls.py), the
request body and its range checks (playground/requests.py), presets and share links
(playground/presets.py), restoring a saved run ("Open in ..."), Compare's controls and
"View code". A new parameter is one row here (plus its engine support).

A row's value is the control's value as Python holds it (the "controls" dict, name ->
value): `stop` a list of strings, `logit_bias` a dict, `seed` an int or None. `unset` is the
value that sends nothing (the API's own default): a value equal to it stays out of the body,
and restoring a run that did not send the parameter sets it back to `unset`, so the page
sends exactly the saved request again.

A JSON-valued parameter (tools, response_format...) is a row of kind "json" with a `check`
(its validator: a problem sentence, or None) and `widget="json"` (a JSON text editor, see
components/sampling_controls.py) or the name of a widget registered there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Mapping

from playground import structured
from playground.catalog import ModelInfo
from playground.logit_bias import MAX_BIAS, MIN_BIAS

Endpoint = Literal["completions", "chat"]
Kind = Literal["float", "int", "bool", "str", "text", "list", "json"]
TEXT_ENDPOINTS: tuple[Endpoint, ...] = ("completions", "chat")
ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass(frozen=True)
class Param:
    """One request parameter as the app knows it."""

    name: str  # the control's name: in presets, links and session keys ({page}_{name}); the wire name too
    kind: Kind
    label: str
    help: str = ""
    endpoints: tuple[Endpoint, ...] = TEXT_ENDPOINTS
    default: Any = None  # the control's starting value
    unset: Any = None  # the value that sends nothing (the API default); see the module docstring
    required: bool = False  # always sent (the prompt, the messages, max tokens)
    low: float | None = None  # inclusive range of a number (or of each value of a dict, for logit_bias)
    high: float | None = None
    check: Callable[[Any], str | None] | None = None  # extra validator: a problem sentence, or None
    needs: str | None = None  # another control that must be on for this one to be sent
    # How the control is drawn: "slider", "number", "toggle", "checkbox", "text", "textarea",
    # "lines" (one string per line), "optional_slider" (a toggle and a slider: None when off),
    # "json" (a JSON editor), "logit_bias", "model" (the model picker), "conversation" (Chat's).
    widget: str = "slider"
    step: float | None = None
    shown_range: tuple[float | None, float | None] | None = None  # a slider's bounds, when narrower than the API's
    on_page: bool = False  # drawn by the page beside its content (the prompt), not among the controls
    placeholder: str = ""
    section: str = ""  # drawn inside an expander of this title ("" : in the column)
    aliases: tuple[str, ...] = ()  # older control names presets and links may still carry
    # How the value goes on the wire, when not as {name: value}: (value, model) -> body fragment.
    to_wire: Callable[[Any, ModelInfo], dict[str, Any]] | None = None
    # How a saved body gives the value back, when not as body[name]: body -> value.
    from_wire: Callable[[Mapping[str, Any]], Any] | None = None
    # The row as shown for a model (a reasoning model's max tokens has another name and help).
    for_model: Callable[[Param, ModelInfo], Param] | None = None

    def shown_for(self, info: ModelInfo) -> Param:
        return self.for_model(self, info) if self.for_model else self

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this parameter (type, range, its own check), or None."""
        if value is None or (not self.required and value == self.unset):
            return None
        if self.kind in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"must be a number, not {value!r}"
            if self.kind == "int" and not float(value).is_integer():
                return "must be a whole number"
            if isinstance(value, float) and not math.isfinite(value):
                return "must be a finite number"
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                return f"must be between {_number(self.low)} and {_number(self.high)} (got {_number(value)})"
        elif self.kind == "bool" and not isinstance(value, bool):
            return "must be true or false"
        elif self.kind in ("str", "text") and not isinstance(value, str):
            return "must be text"
        return self.check(value) if self.check else None


def _number(x: float | None) -> str:
    """1000000 -> '1,000,000' (not '1e+06'); 0.5 -> '0.5'."""
    if x is None:
        return "any"
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


# --- validators and wire formats of the rows below ------------------------------------


def _safety_identifier_problem(value: str) -> str | None:
    return f"is at most 64 characters (got {len(value)})" if len(value) > 64 else None


MAX_STOP = 4


def _stop_problem(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        return "must be a list of strings"
    if len(value) > MAX_STOP:
        return f"takes at most {MAX_STOP} sequences (got {len(value)})"
    if any(s == "" for s in value):
        return "a stop sequence cannot be empty"
    return None


def _messages_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list of messages"
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return "each message needs a role: system, user or assistant"
        if not isinstance(message.get("content", ""), (str, type(None))):
            return "each message's content must be text"
    return None


def _logit_bias_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be an object of token ids to biases"
    low, high = MIN_BIAS, MAX_BIAS
    for token, bias in value.items():
        if not str(token).isdigit():
            return f"keys must be token ids, {token!r} is not"
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not low <= bias <= high:
            return f"the bias of token {token} must be between {low} and {high} (got {bias!r})"
    return None


def _max_tokens_for(row: Param, info: ModelInfo) -> Param:
    help = f"Sent as `{info.max_tokens_param}`" + (
        ": a reasoning model counts its hidden reasoning tokens in it." if info.reasoning else "."
    )
    if info.max_output:
        help += f" {info.id} writes at most {info.max_output:,}."
    return replace(row, label="Max completion tokens" if info.reasoning else row.label, help=help)


def _stop_from_wire(body: Mapping[str, Any]) -> list[str]:
    stop = body.get("stop")
    return [stop] if isinstance(stop, str) else list(stop or [])


# --- the table ---------------------------------------------------------------------------

PARAMS: tuple[Param, ...] = (
    Param("model", "str", "Model", widget="model", required=True, to_wire=lambda v, info: {}),
    Param("prompt", "text", "Prompt", endpoints=("completions",), widget="textarea", on_page=True, required=True,
          default='def median(values):\n    """', unset="", placeholder="Write the beginning of a text; the model continues it."),
    Param("messages", "json", "Messages", endpoints=("chat",), widget="conversation", on_page=True, required=True,
          default=[], unset=[], check=_messages_problem),
    Param("max_tokens", "int", "Max tokens", "How many tokens the model may write.", widget="number", required=True,
          default=256, low=1, high=1_000_000, step=16,
          to_wire=lambda v, info: {info.max_tokens_param: v},
          from_wire=lambda body: body.get("max_tokens", body.get("max_completion_tokens")),
          for_model=_max_tokens_for),
    Param("temperature", "float", "Temperature", "Higher: more varied text. 0: always the most likely token.",
          default=1.0, unset=1.0, low=0, high=2, step=0.01),
    Param("top_p", "float", "Top P", "Sample only from the most likely tokens whose probabilities add up to this.",
          default=1.0, unset=1.0, low=0, high=1, step=0.01),
    Param("frequency_penalty", "float", "Frequency penalty", "Lowers a token's chance by how often it already appeared.",
          default=0.0, unset=0.0, low=-2, high=2, step=0.01),
    Param("presence_penalty", "float", "Presence penalty", "Lowers a token's chance once it has appeared at all.",
          default=0.0, unset=0.0, low=-2, high=2, step=0.01),
    Param("n", "int", "Choices (n)", "How many completions to generate for the prompt.", widget="number",
          default=1, unset=1, low=1, high=128, step=1),
    Param("stop", "list", "Stop sequences", "Up to 4, one per line. Type \\n for a newline, \\t for a tab.",
          widget="lines", default=[], unset=[], check=_stop_problem, placeholder="one per line, e.g. \\n\\n",
          from_wire=_stop_from_wire),
    Param("seed", "int", "Seed (optional)", "The same seed and parameters give the same text (best effort on OpenAI).",
          widget="number", default=None, unset=None, low=-(2**63), high=2**63 - 1, step=1,
          placeholder="none: different text each run"),
    Param("stream", "bool", "Stream", "Show tokens as they arrive; Stop keeps what came.", widget="toggle",
          default=True, unset=False,
          to_wire=lambda v, info: {"stream": True, "stream_options": {"include_usage": True}} if v else {},
          from_wire=lambda body: bool(body.get("stream"))),
    # completions
    Param("suffix", "text", "Suffix", "Text that comes after the completion (insert mode).", endpoints=("completions",),
          widget="text", default="", unset=""),
    Param("echo", "bool", "Echo the prompt", "Return the prompt too, with its own tokens' probabilities.",
          endpoints=("completions",), widget="checkbox", default=False, unset=False),
    Param("best_of", "int", "Best of", "Generate this many and return the n with the highest mean logprob. Not with streaming.",
          endpoints=("completions",), widget="number", default=1, unset=1, low=1, high=20, step=1),
    Param("logprobs", "int", "Token probabilities (logprobs)",
          "`logprobs`: the most likely tokens returned at each position (0: only the chosen one).",
          endpoints=("completions",), widget="optional_slider", default=5, unset=None, low=0, high=5),
    # chat
    Param("logprobs", "bool", "Token probabilities (logprobs)", endpoints=("chat",), widget="toggle",
          default=True, unset=False, aliases=("chat_logprobs",), from_wire=lambda body: bool(body.get("logprobs"))),
    Param("top_logprobs", "int", "Alternatives per token (top_logprobs)", endpoints=("chat",),
          default=5, unset=0, low=0, high=20, needs="logprobs"),
    Param("logit_bias", "json", "Logit bias", widget="logit_bias", section="Logit bias", default={}, unset={},
          check=_logit_bias_problem),
    # chat: tools and structured outputs (widgets in components/structured_controls.py)
    Param("tools", "json", "Functions (tools)", "Function definitions the model may call, as JSON.",
          endpoints=("chat",), widget="tools", section="Tools", default=[], unset=[], check=structured.tools_problem),
    Param("tool_choice", "json", "Tool choice", "auto: the model decides; required: at least one call; a name: that function.",
          endpoints=("chat",), widget="tool_choice", default=None, unset=None, needs="tools",
          check=structured.tool_choice_problem),
    Param("parallel_tool_calls", "bool", "Parallel tool calls", "Allow several calls in one reply.",
          endpoints=("chat",), widget="toggle", default=True, unset=True, needs="tools"),
    Param("response_format", "json", "Response format", "text, any JSON object, or JSON that matches a schema.",
          endpoints=("chat",), widget="response_format", section="Response format", default=None, unset=None,
          check=structured.response_format_problem),
    Param("reasoning_effort", "str", "Reasoning effort", "How much a reasoning model thinks before it answers.",
          endpoints=("chat",), widget="reasoning_effort", default=None, unset=None),
    Param("safety_identifier", "str", "Safety identifier", "A stable id of your end user, up to 64 characters "
          "(hash their name or email): OpenAI can then tell which of your users misused it.",
          endpoints=("chat",), widget="text", default="", unset="", check=_safety_identifier_problem),
)


def params_for(endpoint: str) -> dict[str, Param]:
    """The rows of one endpoint, by name, in table order."""
    return {p.name: p for p in PARAMS if endpoint in p.endpoints}


def defaults(endpoint: str) -> dict[str, Any]:
    """A fresh page's controls."""
    return {name: _copy(p.default) for name, p in params_for(endpoint).items()}


def _copy(value: Any) -> Any:
    return type(value)(value) if isinstance(value, (list, dict)) else value


def body_params(endpoint: str, info: ModelInfo, controls: Mapping[str, Any]) -> dict[str, Any]:
    """The request body for these controls, without the model and without what the model
    does not take. A control left out of `controls` takes its default."""
    rows = params_for(endpoint)
    values = {**defaults(endpoint), **controls}
    body: dict[str, Any] = {}
    for row in rows.values():
        value = values[row.name]
        if row.needs and values.get(row.needs) in (None, False, rows[row.needs].unset):
            continue
        if not row.required and (value is None or value == row.unset):
            continue
        if not info.supports(row.name):
            continue
        body.update(row.to_wire(value, info) if row.to_wire else {row.name: _copy(value)})
    return body


def controls_from_request(endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Every control of the page from a saved request body: a parameter the run did not
    send gets its `unset` value, so Run sends exactly that body again."""
    controls: dict[str, Any] = {}
    for row in params_for(endpoint).values():
        value = row.from_wire(body) if row.from_wire else body.get(row.name, row.unset)
        if value is None and row.required:
            value = row.default
        controls[row.name] = _copy(value)
    return controls


def complete(endpoint: str, controls: Mapping[str, Any]) -> dict[str, Any]:
    """`controls` with every control of the page: what is missing is `unset` (a link or preset
    names only what it sets), older names read as their row's."""
    out: dict[str, Any] = {}
    for row in params_for(endpoint).values():
        names = (row.name, *row.aliases)
        found = next((n for n in names if n in controls), None)
        out[row.name] = _copy(controls[found]) if found else (row.default if row.required else _copy(row.unset))
    return out
