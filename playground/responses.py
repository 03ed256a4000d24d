"""The Responses API, app side (no Streamlit): request bodies, a streamed run kept event by
event, and what a page shows of a response (text, function calls, token table)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import openai

from playground.errors import Problem, explain
from playground.logprobs import TokenInfo, from_chat_logprobs

LOGPROBS = "message.output_text.logprobs"


@dataclass
class Turn:
    """One request of a thread and what came back."""

    sent: dict[str, Any]  # the request body
    shown_input: str  # what the user typed (or the tool results sent), for the thread view
    response_format: dict[str, Any] | None = None  # chat-style, for the verdict beside the reply
    events: list[dict[str, Any]] = field(default_factory=list)  # every streamed event, raw
    response: dict[str, Any] | None = None
    error: Problem | None = None
    latency_s: float | None = None

    @property
    def id(self) -> str | None:
        return (self.response or {}).get("id")


def build_body(
    model: str,
    *,
    user_text: str = "",
    tool_outputs: dict[str, str] | None = None,
    instructions: str = "",
    developer: str = "",
    previous_response_id: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_output_tokens: int | None = None,
    reasoning_effort: str | None = None,
    top_logprobs: int | None = None,
    text_format: dict[str, Any] | None = None,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: Any = None,
    store: bool = True,
) -> dict[str, Any]:
    """A POST /v1/responses body: only what differs from the API's defaults."""
    items: list[dict[str, Any]] = []
    if developer:
        items.append({"role": "developer", "content": developer})
    for call_id, output in (tool_outputs or {}).items():
        items.append({"type": "function_call_output", "call_id": call_id, "output": output})
    if user_text:
        items.append({"role": "user", "content": user_text})
    body: dict[str, Any] = {"model": model, "input": user_text if items == [{"role": "user", "content": user_text}] else items}
    optional = {
        "instructions": instructions or None,
        "previous_response_id": previous_response_id,
        "temperature": temperature,
        "top_p": top_p,
        "max_output_tokens": max_output_tokens,
        "reasoning": {"effort": reasoning_effort} if reasoning_effort else None,
        "text": {"format": text_format} if text_format else None,
        "tools": [flat_tool(t) for t in tools] if tools else None,
        "tool_choice": flat_choice(tool_choice) if tools and tool_choice is not None else None,
        "store": None if store else False,
    }
    if top_logprobs is not None:
        optional.update(include=[LOGPROBS], top_logprobs=top_logprobs)
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def flat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A chat-style tool ({"type", "function": {...}}) in the Responses API's flat shape."""
    fn = tool.get("function")
    return {"type": "function", **fn} if isinstance(fn, dict) else tool


def flat_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "function", "name": choice["function"].get("name")}
    return choice


def flat_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chat's response_format as text.format (json_schema's fields one level up)."""
    if not response_format or response_format.get("type") == "text":
        return None
    if response_format.get("type") == "json_schema":
        return {"type": "json_schema", **(response_format.get("json_schema") or {})}
    return dict(response_format)


def run(client: openai.OpenAI, turn: Turn, on_event: Callable[[Turn, dict[str, Any]], None] | None = None) -> Turn:
    """Stream the turn's request, keeping every event; SDK errors become `turn.error`."""
    started = time.perf_counter()
    try:
        stream = client.responses.create(**turn.sent, stream=True)
        try:
            for event in stream:
                data = event.model_dump(mode="json", exclude_none=True)
                turn.events.append(data)
                if isinstance(data.get("response"), dict):
                    turn.response = data["response"]
                if on_event is not None:
                    on_event(turn, data)
        finally:
            stream.close()
    except openai.OpenAIError as exc:
        turn.error = explain(exc, secrets=[client.api_key], where=str(client.base_url))
    turn.latency_s = time.perf_counter() - started
    return turn


def output_text(response: dict[str, Any] | None) -> str:
    return "".join(
        part.get("text", "")
        for item in (response or {}).get("output", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        if part.get("type") == "output_text"
    )


def function_calls(response: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The response's calls as chat-style tool calls (id = call_id), for the tool-call cards."""
    return [
        {"id": item["call_id"], "type": "function", "function": {"name": item["name"], "arguments": item.get("arguments", "")}}
        for item in (response or {}).get("output", [])
        if item.get("type") == "function_call"
    ]


def token_infos(response: dict[str, Any] | None, encoding: Any = None) -> list[TokenInfo]:
    logprobs = [
        lp
        for item in (response or {}).get("output", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        for lp in part.get("logprobs") or []
    ]
    return from_chat_logprobs({"content": logprobs}, encoding=encoding) if logprobs else []


def streamed_text(turn: Turn) -> str:
    """The text so far of a turn still streaming (its output_text.delta events)."""
    return "".join(e.get("delta", "") for e in turn.events if e.get("type") == "response.output_text.delta")
