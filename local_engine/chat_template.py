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

Not supported (400, with the offending param): tool and function messages, assistant
messages carrying tool_calls/function_call without text, and non-text content parts
(images, audio, files). The model reads text only.
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import invalid

ROLE_LABELS = {"system": "System", "developer": "System", "user": "User", "assistant": "Assistant"}
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
    if role in ("tool", "function"):
        raise invalid(
            f"Invalid value for '{where}.role': the local text model does not support tools, "
            f"so '{role}' messages cannot be used. Remove them or use a provider with tool calling.",
            f"{where}.role",
        )
    if role not in ROLE_LABELS:
        raise invalid(
            f"Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user', and 'assistant'.",
            f"{where}.role",
        )
    content = message.get("content")
    if content is None:
        if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            raise invalid(
                f"Invalid value for '{where}': the local text model does not support tool calls.",
                f"{where}.tool_calls",
            )
        if role == "assistant":
            return ""
        raise invalid(f"Missing required parameter: '{where}.content'.", f"{where}.content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for j, part in enumerate(content):
            pwhere = f"{where}.content[{j}]"
            if not isinstance(part, dict):
                raise invalid(f"Invalid type for '{pwhere}': expected an object.", pwhere)
            kind = part.get("type")
            if kind != "text":
                raise invalid(
                    f"Invalid value for '{pwhere}.type': the local text model reads text only, "
                    f"'{kind}' content parts are not supported.",
                    f"{pwhere}.type",
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise invalid(f"Invalid type for '{pwhere}.text': expected a string.", f"{pwhere}.text")
            texts.append(text)
        return "\n".join(texts)
    raise invalid(
        f"Invalid type for '{where}.content': expected a string or an array of content parts.",
        f"{where}.content",
    )


def render(messages: Sequence[Any]) -> str:
    """The prompt text for these messages (without the leading <|endoftext|>)."""
    parts = []
    for i, message in enumerate(messages):
        text = message_text(message, i)
        parts.append(f"{ROLE_LABELS[message['role']]}.\n\n{text}{SEPARATOR}")
    parts.append(REPLY_PREFIX)
    return "".join(parts)


def count_prompt_tokens(encoding, messages: Sequence[Any]) -> int:
    return len(encoding.encode(render(messages), disallowed_special=()))
