"""The Responses API on the local text model: POST /v1/responses, GET/DELETE /v1/responses/{id},
GET /v1/responses/{id}/input_items.

Wire format: the spec's CreateResponse, Response, ResponseItemList and ResponseStreamEvent.
A request becomes a chat conversation (`instructions` first as a system message, then the
stored conversation of `previous_response_id`, then `input`), rendered and sampled exactly as
/v1/chat/completions does (`local_engine.chat_template`, `local_engine.sampling`), with
`text.format`, `tools`, `tool_choice` and `parallel_tool_calls` honoured by constrained
decoding (`local_engine.structured`).

- input: a string (a user message) or items: messages ({"role", "content"} with a string or
  input_text/output_text parts; `type: "message"` optional), `function_call` and
  `function_call_output` items. Other item and content types are a 400.
- Output: one `message` item with one `output_text` part, or `function_call` items.
  `include: ["message.output_text.logprobs"]` fills each part's `logprobs` (with
  `top_logprobs` 0..20 alternatives); otherwise they are [].
- max_output_tokens (>= 16, as the API says): reaching it gives status "incomplete" with
  incomplete_details.reason "max_output_tokens". Default: 256 tokens (and the window).
- store (default true) keeps the response in this process (the newest MAX_STORED) for GET,
  input_items and previous_response_id; a chained request's instructions are not carried
  over, as the API documents. store=false responses cannot be chained or fetched (404).
- Streaming: response.created, response.in_progress, then per output item
  output_item.added, (content_part.added, output_text.delta..., output_text.done,
  content_part.done) or (function_call_arguments.delta..., .done), output_item.done, and
  response.completed (or response.incomplete); every event has a sequence_number.
- `reasoning.effort` is a 400 (local-text is not a reasoning model); background and
  conversation are 400s; other known fields are accepted and echoed or ignored.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import chat_template, structured
from ..errors import APIError, invalid
from ..projects import of_request, sees
from ..sampling import Generation, SamplingParams, rng_for
from ..sse import event_stream
from ..tool_calls import CallReader, new_call_id
from .text import (
    CONTEXT_WINDOW,
    DEFAULT_CHAT_MAX_TOKENS,
    _chat_logprobs,
    _context_check,
    _json,
    _new_id,
    _parse,
    _sse,
    _text_model,
)

router = APIRouter()
MAX_STORED = 1000
LOGPROBS_INCLUDE = "message.output_text.logprobs"
KNOWN_INCLUDES = {
    "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
    "message.input_image.image_url", "computer_call_output.output.image_url",
    "code_interpreter_call.outputs", "reasoning.encrypted_content", LOGPROBS_INCLUDE,
}


class ResponseRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    model: str
    input: Any = None
    instructions: str | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_output_tokens: int | None = Field(None, ge=16)
    text: dict[str, Any] | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    include: list[str] | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    background: bool | None = None
    conversation: Any = None
    metadata: dict[str, str] | None = None
    truncation: str | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    max_tool_calls: int | None = None
    prompt: Any = None
    context_management: Any = None


class Store:
    """Stored responses of this process: id -> (response object, input items, conversation,
    project). Each is seen only by its own project (`projects.sees`), as on OpenAI."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, response: dict[str, Any], input_items: list[dict[str, Any]], conversation: list[dict[str, Any]],
            project: str) -> None:
        with self._lock:
            self._items[response["id"]] = {"response": response, "input_items": input_items, "conversation": conversation,
                                           "project": project}
            while len(self._items) > MAX_STORED:
                self._items.popitem(last=False)

    def get(self, response_id: str, project: str, param: str | None = None) -> dict[str, Any]:
        with self._lock:
            entry = self._items.get(response_id)
        if entry is None or not sees(project, entry["project"]):
            raise APIError(404, f"Response with id '{response_id}' not found.", param=param, code=None)
        return entry

    def delete(self, response_id: str, project: str) -> None:
        self.get(response_id, project)
        with self._lock:
            self._items.pop(response_id, None)


def _store(request: Request) -> Store:
    state = request.app.state
    if not hasattr(state, "responses"):
        state.responses = Store()
    return state.responses


# --------------------------------------------------------------------------- input -> chat messages


def _text_parts(content: Any, where: str, allowed: tuple[str, ...]) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(f"Invalid type for '{where}': expected a string or an array of content parts.", where)
    texts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in allowed or not isinstance(part.get("text"), str):
            raise invalid(
                f"Invalid value for '{where}[{j}]': the local text model reads only "
                f"{' and '.join(allowed)} parts with a string 'text' (got {kind!r}).",
                f"{where}[{j}].type",
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _input_items(raw: Any) -> list[dict[str, Any]]:
    """The request's input as items with ids (what input_items lists)."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"id": _new_id("msg_"), "type": "message", "role": "user", "status": "completed",
                 "content": [{"type": "input_text", "text": raw}]}]
    if not isinstance(raw, list):
        raise invalid("Invalid type for 'input': expected a string or an array of input items.", "input")
    items = []
    for i, item in enumerate(raw):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise invalid(f"Invalid type for '{where}': expected an object.", where)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise invalid(
                    f"Invalid value: '{role}'. Supported values are: 'user', 'system', 'developer', and 'assistant'.",
                    f"{where}.role",
                )
            part = "output_text" if role == "assistant" else "input_text"
            text = _text_parts(item.get("content"), f"{where}.content", (part, "input_text", "output_text", "text"))
            items.append({"id": item.get("id") or _new_id("msg_"), "type": "message", "role": role, "status": "completed",
                          "content": [{"type": part, "text": text, **({"annotations": [], "logprobs": []} if role == "assistant" else {})}]})
        elif kind == "function_call":
            for key in ("call_id", "name", "arguments"):
                if not isinstance(item.get(key), str):
                    raise invalid(f"Missing required parameter: '{where}.{key}'.", f"{where}.{key}")
            items.append({"id": item.get("id") or _new_id("fc_"), "type": "function_call", "status": "completed",
                          "call_id": item["call_id"], "name": item["name"], "arguments": item["arguments"]})
        elif kind == "function_call_output":
            output = item.get("output")
            if not isinstance(item.get("call_id"), str):
                raise invalid(f"Missing required parameter: '{where}.call_id'.", f"{where}.call_id")
            output = _text_parts(output, f"{where}.output", ("input_text", "output_text", "text"))
            items.append({"id": item.get("id") or _new_id("fco_"), "type": "function_call_output", "status": "completed",
                          "call_id": item["call_id"], "output": output})
        else:
            raise invalid(
                f"Invalid value for '{where}.type': the local text model accepts 'message', 'function_call' and "
                f"'function_call_output' items (got {kind!r}).",
                f"{where}.type",
            )
    return items


def _as_messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items -> chat messages (consecutive function calls become one assistant message)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "message":
            out.append({"role": item["role"], "content": item["content"][0]["text"]})
        elif item["type"] == "function_call":
            call = {"id": item["call_id"], "type": "function", "function": {"name": item["name"], "arguments": item["arguments"]}}
            last = out[-1] if out else None
            if last and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            out.append({"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]})
    return out


# --------------------------------------------------------------------------- the response object


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def _message_item(item_id: str, text: str, logprobs: list[Any], status: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs}
    return {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": [part]}


def _call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call_id, "name": name, "arguments": arguments}


def _text_config(fmt: Any) -> dict[str, Any]:
    return {"format": fmt if fmt is not None else {"type": "text"}, "verbosity": "medium"}


# --------------------------------------------------------------------------- routes


@router.post("/v1/responses")
async def create_response(request: Request) -> Any:
    body: ResponseRequest = _parse(ResponseRequest, await _json(request))
    model = _text_model(request, body.model)
    if body.reasoning and body.reasoning.get("effort") is not None:
        raise invalid("Unsupported parameter: 'reasoning.effort' is not supported with this model.", "reasoning.effort")
    if body.background:
        raise invalid("The local engine does not run responses in the background; remove 'background'.", "background")
    if body.conversation is not None:
        raise invalid("The local engine does not keep conversations; use 'previous_response_id'.", "conversation")
    if body.previous_response_id and body.conversation is not None:
        raise invalid("'previous_response_id' cannot be used with 'conversation'.", "previous_response_id")
    for name in body.include or []:
        if name not in KNOWN_INCLUDES:
            raise invalid(f"Invalid value: '{name}'. Supported values are: {', '.join(sorted(KNOWN_INCLUDES))}.", "include")
    store, project = _store(request), of_request(request)
    history: list[dict[str, Any]] = []
    if body.previous_response_id:
        history = list(store.get(body.previous_response_id, project, "previous_response_id")["conversation"])
    items = _input_items(body.input)
    if not items and not history:
        raise invalid("Missing required parameter: 'input'.", "input")
    conversation = history + _as_messages(items)
    messages = ([{"role": "developer", "content": body.instructions}] if body.instructions else []) + conversation
    prompt = model.encoding.encode(chat_template.render(messages), disallowed_special=())
    fmt_spec = (body.text or {}).get("format")
    fmt = structured.output_format(fmt_spec, "text.format", nested=False)
    if body.max_output_tokens is not None:
        _context_check(len(prompt), body.max_output_tokens, "input")
        max_tokens = body.max_output_tokens
    else:
        _context_check(len(prompt), 1, "input")
        max_tokens = min(DEFAULT_CHAT_MAX_TOKENS, CONTEXT_WINDOW - len(prompt))
    plan = structured.plan(
        model, fmt, body.tools, body.tool_choice, body.parallel_tool_calls,
        *structured.message_texts(messages), format_param="text.format",
    )
    want_logprobs = LOGPROBS_INCLUDE in (body.include or [])
    params = SamplingParams(
        temperature=1.0 if body.temperature is None else body.temperature,
        top_p=1.0 if body.top_p is None else body.top_p,
        max_tokens=max_tokens,
        top_logprobs=(body.top_logprobs or 0) if want_logprobs else None,
    )
    gen = Generation(model, [model.encoding.eot_token, *prompt], params, rng_for(None), plan.constraint(model, max_tokens))
    response = {
        "id": _new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "model": body.model,
        "output": [],
        "parallel_tool_calls": body.parallel_tool_calls is not False,
        "previous_response_id": body.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "store": body.store is not False,
        "temperature": 1.0 if body.temperature is None else body.temperature,
        "text": _text_config(fmt_spec),
        "tool_choice": body.tool_choice if body.tool_choice is not None else ("auto" if body.tools else "none"),
        "tools": body.tools or [],
        "top_logprobs": body.top_logprobs or 0,
        "top_p": 1.0 if body.top_p is None else body.top_p,
        "truncation": "disabled",
        "metadata": body.metadata or {},
        "service_tier": "default",
        "background": False,
        **({"user": body.user} if body.user is not None else {}),
    }
    run = _Run(model, gen, plan.kind == "calls", want_logprobs, response, len(prompt))

    def keep(final: dict[str, Any]) -> None:
        if final["store"]:
            store.put(final, items, conversation + _as_messages(final["output"]), project)

    if body.stream:
        return event_stream(run.events(keep))

    def whole() -> dict[str, Any]:
        for _ in run.events(keep):
            pass
        return run.response

    return JSONResponse(await run_in_threadpool(whole))


class _Run:
    """One generation turned into output items and stream events (non-streamed: the same, unread)."""

    def __init__(self, model: Any, gen: Generation, calls: bool, logprobs: bool, response: dict[str, Any], input_tokens: int) -> None:
        self.model, self.gen, self.calls, self.logprobs = model, gen, calls, logprobs
        self.response, self.input_tokens = response, input_tokens
        self.seq = 0

    def _event(self, kind: str, **fields: Any) -> bytes:
        event = {"type": kind, **fields, "sequence_number": self.seq}
        self.seq += 1
        return _sse(event)

    def _snapshot(self) -> dict[str, Any]:
        return {**self.response, "output": list(self.response["output"])}

    def events(self, keep: Any) -> Iterator[bytes]:
        yield self._event("response.created", response=self._snapshot())
        yield self._event("response.in_progress", response=self._snapshot())
        yield from (self._call_events() if self.calls else self._text_events())
        status = "completed" if self.gen.finish_reason != "length" else "incomplete"
        self.response.update(
            status=status,
            completed_at=int(time.time()) if status == "completed" else None,
            incomplete_details=None if status == "completed" else {"reason": "max_output_tokens"},
            usage=_usage(self.input_tokens, self.gen.n_tokens),
        )
        keep(self.response)
        yield self._event(f"response.{status}", response=self._snapshot())

    def _text_events(self) -> Iterator[bytes]:
        item_id = _new_id("msg_")
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        yield self._event("response.output_item.added", output_index=0, item=_message_item(item_id, "", [], "in_progress"))
        empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        yield self._event("response.content_part.added", **where, part=empty)
        text, lps = "", []
        for chunk in self.gen:
            piece = _chat_logprobs(self.model, chunk.tokens) if self.logprobs else []
            text += chunk.text
            lps += piece
            yield self._event("response.output_text.delta", **where, delta=chunk.text, logprobs=piece)
        yield self._event("response.output_text.done", **where, text=text, logprobs=lps)
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": lps}
        yield self._event("response.content_part.done", **where, part=part)
        status = "completed" if self.gen.finish_reason != "length" else "incomplete"
        item = _message_item(item_id, text, lps, status)
        self.response["output"].append(item)
        yield self._event("response.output_item.done", output_index=0, item=item)

    def _call_events(self) -> Iterator[bytes]:
        reader = CallReader()
        open_items: dict[int, dict[str, Any]] = {}

        def close(index: int) -> Iterator[bytes]:
            item = {**open_items.pop(index), "status": "completed"}
            self.response["output"].append(item)
            yield self._event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                              name=item["name"], arguments=item["arguments"])
            yield self._event("response.output_item.done", output_index=index, item=item)

        for chunk in self.gen:
            for event, index, value in reader.feed(chunk.text):
                if event == "call":
                    for earlier in list(open_items):
                        yield from close(earlier)
                    item = _call_item(_new_id("fc_"), new_call_id(), value, "", "in_progress")
                    open_items[index] = item
                    yield self._event("response.output_item.added", output_index=index, item=item)
                else:
                    open_items[index]["arguments"] += value
                    yield self._event("response.function_call_arguments.delta", item_id=open_items[index]["id"],
                                      output_index=index, delta=value)
        for index in list(open_items):
            yield from close(index)


@router.get("/v1/responses/{response_id}")
async def get_response(request: Request, response_id: str) -> Any:
    return _store(request).get(response_id, of_request(request))["response"]


@router.delete("/v1/responses/{response_id}")
async def delete_response(request: Request, response_id: str) -> Any:
    _store(request).delete(response_id, of_request(request))
    return {"id": response_id, "object": "response", "deleted": True}


@router.get("/v1/responses/{response_id}/input_items")
async def list_input_items(request: Request, response_id: str, limit: int = 20, order: str = "desc", after: str | None = None) -> Any:
    if not 1 <= limit <= 100:
        raise invalid("Invalid 'limit': expected an integer between 1 and 100.", "limit")
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.", "order")
    items = list(_store(request).get(response_id, of_request(request))["input_items"])
    if order == "desc":
        items.reverse()
    if after is not None:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "has_more": len(items) > limit,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
