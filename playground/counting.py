"""Token counts as the API counts them, the context-window gauge, and the cost estimate.

Chat requests cost more than their contents: each message is wrapped in the model's
chat format. Two formulas:

- OpenAI models (and unknown ones, as an estimate): the cookbook's
  `num_tokens_from_messages` ("How to count tokens with tiktoken",
  https://cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken): every value of
  every message is encoded, plus 3 tokens per message, plus 1 for a `name`, plus 3 that
  prime the reply.
- local-text (and its fine-tunes): the engine's own template, documented in
  local_engine/chat_template.py: each message is "Label.\\n\\n{content}\\n\\n" with Label
  System/User/Assistant, then "Assistant.\\n\\n"; prompt_tokens is the o200k_base count of
  that whole text (names are not shown to the model). Replicated here, not imported: the
  app speaks to the engine only over HTTP; tests check both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from playground.catalog import ModelInfo, base_model_of
from playground.tokens import encoding_for_model

LOCAL_MODEL = "local-text"
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3

_LOCAL_LABELS = {
    "system": "System", "developer": "System", "user": "User", "assistant": "Assistant", "tool": "Tool", "function": "Tool",
}


def uses_local_template(model: str) -> bool:
    return model == LOCAL_MODEL or base_model_of(model) == LOCAL_MODEL


def count_prompt(text: str, model: str) -> int:
    """Tokens of a completions prompt. Special-token text such as <|endoftext|> counts as
    the one special token, as the completions endpoint reads it."""
    return len(encoding_for_model(model).encode(text, allowed_special="all"))


def message_text(message: dict[str, Any]) -> str:
    """A message's text: a string, or the text parts of a content array joined by newlines."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


def local_chat_prompt(messages: Sequence[dict[str, Any]]) -> str:
    """The text local-text reads for these messages (see the module docstring)."""
    body = "".join(f"{_LOCAL_LABELS.get(m.get('role', 'user'), 'User')}.\n\n{_local_text(m)}\n\n" for m in messages)
    return body + "Assistant.\n\n"


def _local_text(message: dict[str, Any]) -> str:
    """A message as local-text reads it: its text, then each tool call on a line as the model writes it."""
    text = message_text(message)
    calls = [
        f'{{"name": "{(c.get("function") or {}).get("name", "")}", "arguments": {(c.get("function") or {}).get("arguments", "")}}}'
        for c in message.get("tool_calls") or []
    ]
    return "\n".join([text, *calls] if text else calls)


def count_chat(messages: Sequence[dict[str, Any]], model: str) -> int:
    """prompt_tokens of a chat request with these messages (exact for local-text; the
    cookbook's formula for OpenAI models)."""
    encoding = encoding_for_model(model)
    if uses_local_template(model):
        return len(encoding.encode(local_chat_prompt(messages), disallowed_special=()))
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for field, value in message.items():
            text = message_text(message) if field == "content" else value
            if not isinstance(text, str):
                continue
            total += len(encoding.encode(text, disallowed_special=()))
            if field == "name":
                total += TOKENS_PER_NAME
    return total


def chat_count_method(model: str) -> str:
    """One line for the UI on how the chat count is made."""
    if uses_local_template(model):
        return "Exact: the local engine's chat template, counted with o200k_base."
    return (
        f"Estimated with OpenAI's published formula: {TOKENS_PER_MESSAGE} tokens per message, "
        f"{TOKENS_PER_NAME} per name, {REPLY_PRIMING} to prime the reply."
    )


@dataclass(frozen=True)
class Gauge:
    prompt_tokens: int
    max_tokens: int
    context_window: int | None
    fraction: float  # (prompt + max) / window, clamped to 0..1 (0 when the window is unknown)
    fits: bool
    text: str


def context_gauge(prompt_tokens: int, max_tokens: int | None, model_info: ModelInfo) -> Gauge:
    """How much of the context window the prompt and the reserved reply take."""
    reserve = max_tokens or 0
    window = model_info.context_window
    used = prompt_tokens + reserve
    if not window:
        return Gauge(prompt_tokens, reserve, None, 0.0, True, f"{used:,} tokens (context window unknown for {model_info.id})")
    fits = used <= window
    text = f"{prompt_tokens:,} prompt + {reserve:,} max tokens = {used:,} of {window:,} ({100 * used / window:.1f}%)"
    if not fits:
        text += f": {used - window:,} over the window; shorten the prompt or lower max tokens"
    return Gauge(prompt_tokens, reserve, window, min(used / window, 1.0), fits, text)


def format_cost(dollars: float | None, *, free: bool = True) -> str:
    """'Free' for nothing to pay (the local models), '—' when unknown, else dollars to the
    precision that shows."""
    if dollars is None:
        return "—"
    if free and dollars == 0:
        return "Free"
    return f"${dollars:,.6f}" if dollars < 0.01 else f"${dollars:,.4f}"


def count_completion(text: str, model: str) -> int:
    """Tokens of generated text, re-encoded (an estimate when the model's output was not its
    own canonical tokenization; the token list of a logprobs response is exact)."""
    return len(encoding_for_model(model).encode(text, disallowed_special=()))


def reported_usage(usage: Any) -> tuple[int | None, int | None, int | None]:
    """(prompt, completion, total) from an SDK usage object or a dict; Nones when absent."""
    if usage is None:
        return None, None, None
    get = usage.get if isinstance(usage, dict) else lambda name: getattr(usage, name, None)
    return get("prompt_tokens"), get("completion_tokens"), get("total_tokens")
