"""Chat messages -> the text the local model continues.

The template (one, fixed): each message is a paragraph headed by its role's label,
system/developer -> "System", user -> "User", assistant -> "Assistant":

    <|endoftext|>                 the document start (the model's conditioning; not counted)
    System.\\n\\n{content}\\n\\n      for each message, in order
    User.\\n\\n{content}\\n\\n
    Assistant.\\n\\n{content}\\n\\n
    Assistant.\\n\\n                the reply: the model continues from here

Why "Label.\\n\\n": the model learned from docstrings, where ".\\n\\n" (one token) is followed
by a new paragraph ("Return ...", "The ...", "If ..."), while ":\\n" is followed by an
indented block; so the reply starts like a paragraph, without leading spaces. The reply is the
generated text (ending at `<|endoftext|>`, a stop sequence or the token limit). Content may be
a string or an array of text parts (`{"type": "text", "text": ...}`, joined with "\\n"). A
message's `name` is not shown to the model.

Token accounting: `prompt_tokens` is exactly the number of o200k_base tokens of the rendered
text above without the leading <|endoftext|> (`count_prompt_tokens`). So each message costs its
content's tokens plus those of its label and separators (3 as a rule: "User", ".\\n\\n",
"\\n\\n"), and every request costs the final "Assistant.\\n\\n" (2 tokens). Because BPE
merges across the boundaries ("hi.\\n\\n" ends in the one token ".\\n\\n"), the split per
message is approximate; the total is exact.

Tool calls: an assistant message's `tool_calls` are rendered after its text, one per line,
in the form the model writes them (`local_engine.tool_calls.render_call`); a `tool` message
(or a legacy `function` one) is a paragraph headed "Tool". As with the API, a `tool` message
must answer a `tool_call_id` of the assistant message before it, and every call of an
assistant message must be answered before the conversation goes on.

Not supported (400, with the offending param): non-text content parts (images, audio,
files). The model reads text only.
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import invalid, typed_object
from .tool_calls import render_call

ROLE_LABELS = {
    "system": "System", "developer": "System", "user": "User", "assistant": "Assistant",
    "tool": "Tool", "function": "Tool",
}
REPLY_PREFIX = "Assistant.\n\n"
SEPARATOR = "\n\n"


def message_text(message: Any, index: int) -> str:
    """A message's text content, or a 400 naming the bad part."""
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise invalid(f"Invalid type for '{where}': expected an object.", where)
    role = message.get("role")
    if role is None:
        raise invalid(f"Missing required parameter: '{where}.role'.", f"{where}.role")
    if role not in ROLE_LABELS:
        raise invalid(
            f"Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user', 'assistant', "
            "'tool', and 'function'.",
            f"{where}.role",
        )
    content = message.get("content")
    if content is None:
        if role == "assistant":
            return ""
        raise invalid(f"Missing required parameter: '{where}.content'.", f"{where}.content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for j, part in enumerate(content):
            pwhere = f"{where}.content[{j}]"
            typed_object(part, pwhere, "text", "the local text model reads text only, '{kind}' content parts are not supported.")
            text = part.get("text")
            if not isinstance(text, str):
                raise invalid(f"Invalid type for '{pwhere}.text': expected a string.", f"{pwhere}.text")
            texts.append(text)
        return "\n".join(texts)
    raise invalid(
        f"Invalid type for '{where}.content': expected a string or an array of content parts.",
        f"{where}.content",
    )


def _calls_text(message: dict[str, Any], where: str) -> tuple[list[str], list[str]]:
    """The rendered lines of an assistant message's tool calls, and their ids."""
    calls = message.get("tool_calls") or []
    legacy = message.get("function_call")
    if legacy:
        calls = [*calls, {"id": None, "type": "function", "function": legacy}]
    if not isinstance(calls, list):
        raise invalid(f"Invalid type for '{where}.tool_calls': expected an array.", f"{where}.tool_calls")
    lines, ids = [], []
    for j, call in enumerate(calls):
        cwhere = f"{where}.tool_calls[{j}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not isinstance(fn.get("arguments"), str):
            raise invalid(
                f"Invalid value for '{cwhere}': expected {{\"id\", \"type\": \"function\", "
                "\"function\": {\"name\", \"arguments\"}} with string name and arguments.",
                cwhere,
            )
        lines.append(render_call(fn["name"], fn["arguments"]))
        if call.get("id") is not None:
            ids.append(call["id"])
    return lines, ids


def _unanswered(pending: list[str], param: str) -> Exception:
    return invalid(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
        param,
    )


def render(messages: Sequence[Any]) -> str:
    """The prompt text for these messages (without the leading <|endoftext|>)."""
    parts = []
    pending: list[str] = []  # tool_call_ids still to be answered
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        text = message_text(message, i)
        role = message["role"]
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise invalid(f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id")
            if call_id not in pending:
                raise invalid(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    f"{where}.role",
                )
            pending.remove(call_id)
        elif pending:
            raise _unanswered(pending, f"messages.[{i}].role")
        if role == "assistant":
            lines, pending = _calls_text(message, where)
            text = "\n".join([text, *lines] if text else lines)
        parts.append(f"{ROLE_LABELS[role]}.\n\n{text}{SEPARATOR}")
    if pending:
        raise _unanswered(pending, "messages")
    parts.append(REPLY_PREFIX)
    return "".join(parts)


def count_prompt_tokens(encoding, messages: Sequence[Any]) -> int:
    return len(encoding.encode(render(messages), disallowed_special=()))
