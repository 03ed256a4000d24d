"""POST /v1/completions and /v1/chat/completions, served by the local n-gram model.

(Azure OpenAI's /openai/deployments/... paths reach these routes through `local_engine.azure`.)

Wire format: the OpenAI spec's CreateCompletionRequest/Response and
CreateChatCompletionRequest/Response/StreamResponse. Semantics of the sampling parameters:
see `local_engine.sampling`; the chat template and token accounting: see
`local_engine.chat_template`.

Choices the local model makes where the API leaves room (all documented here):
- Context window: CONTEXT_WINDOW = 8192 tokens; prompt + max tokens beyond it is a 400
  (code context_length_exceeded). Chat without max_completion_tokens/max_tokens generates
  until <|endoftext|> or a stop, at most DEFAULT_CHAT_MAX_TOKENS = 256 (and the window).
- `suffix` (completions): the model reads left to right, so each choice draws several
  insertions and keeps the one that makes prompt + insertion + suffix most likely (see
  `local_engine.infill`); the text is the insertion only.
- Every request is answered by the model conditioned on it (`local_engine.retrieval`): a
  cache model of the corpus passages nearest the prompt is mixed in; logprobs are those of
  that conditioned distribution.
- `best_of`: best_of candidates per prompt, the n with the highest mean logprob per token are
  returned (best first); usage counts every candidate's tokens. Not with stream.
- Completions `logprobs: k` gives, per token, a dict of the k most likely tokens plus the
  sampled one (so up to k+1 entries, as the API says); k=0 gives just the sampled token.
- Chat logprobs are the exact model logprobs (the API's -9999.0 "not in the top 20" stand-in
  is never needed: the model knows every token's probability).
- `seed`: each choice has its own numpy Generator seeded with (seed, prompt index, choice
  index). Without a seed, fresh entropy.
- Chat `tools`, `tool_choice`, `parallel_tool_calls` and `response_format` (json_object,
  json_schema) are honoured by constrained decoding (`local_engine.structured`,
  `local_engine.tool_calls`, `local_engine.constrained`): tool calls come back as
  `message.tool_calls` (streamed as `delta.tool_calls` with index, id, name, then argument
  fragments) with finish_reason "tool_calls"; chat logprobs then cover the call's tokens too.
- Legacy `functions`, `audio` and `reasoning_effort` are 400s naming the param; other known
  request fields (metadata, store, user, service_tier, ...) are accepted and ignored; unknown
  fields are a 400 "Unrecognized request argument", as the API does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import string
import threading
import time
from typing import Any, Iterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import chat_template, constrained, infill, lm, retrieval, structured
from ..engine import Engine, ModelCard
from ..errors import APIError, invalid
from ..limits import check_generation_budget, check_logit_bias_size
from ..projects import of_request
from ..request_body import parse_json
from ..sampling import Generation, SamplingParams, rng_for, token_text
from ..sse import event_stream
from ..tool_calls import CallReader, new_call_id, read_calls

log = logging.getLogger("local_engine.text")
router = APIRouter()

MODEL_ID = "local-text"
CONTEXT_WINDOW = 8192
DEFAULT_COMPLETION_MAX_TOKENS = 16
DEFAULT_CHAT_MAX_TOKENS = 256
MAX_STOP = 4


# --------------------------------------------------------------------------- start-up


def setup(engine: Engine) -> None:
    t0 = time.perf_counter()
    model = lm.base_model(engine.config.cache_dir)
    retrieval.retriever(engine.config.cache_dir)
    engine.register(ModelCard(MODEL_ID, kind="text", served_by=model))
    log.info("local-text ready in %.2fs", time.perf_counter() - t0)
    # The grammar library's tokenizer takes a second or two to build: not on the first request.
    threading.Thread(target=constrained.vocab, args=(model,), daemon=True).start()


# --------------------------------------------------------------------------- requests


class StreamOptions(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class _Common(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    model: str
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: int | None = Field(None, ge=1, le=128)
    seed: int | None = None
    stop: Any = None
    logit_bias: dict[str, Any] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    user: str | None = None


class CompletionRequest(_Common):
    prompt: Any = None
    best_of: int | None = Field(None, ge=0, le=20)
    echo: bool | None = None
    logprobs: int | None = Field(None, ge=0, le=5)
    max_tokens: int | None = Field(None, ge=0)
    suffix: str | None = None


class ChatRequest(_Common):
    messages: list[Any] = Field(min_length=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    functions: list[Any] | None = None
    function_call: Any = None
    audio: Any = None
    modalities: list[str] | None = None
    reasoning_effort: str | None = None
    # accepted and ignored
    metadata: dict[str, Any] | None = None
    store: bool | None = None
    service_tier: str | None = None
    safety_identifier: str | None = Field(None, max_length=64)
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: Any = None
    verbosity: str | None = None
    web_search_options: Any = None
    prediction: Any = None
    moderation: Any = None


def _parse(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        raise RequestValidationError(errors) from None


async def _json(request: Request) -> Any:
    return parse_json(await request.body())


def _text_model(request: Request, model_id: str) -> lm.TextModel:
    return request.app.state.engine.card(model_id, kind="text", project=of_request(request)).served_by


# --------------------------------------------------------------------------- shared checks


def _sampling(body: Any, vocab_size: int, max_tokens: int, *, top_logprobs: int | None) -> SamplingParams:
    """The sampling controls completions and chat share, with the API's defaults."""
    return SamplingParams(
        temperature=1.0 if body.temperature is None else body.temperature,
        top_p=1.0 if body.top_p is None else body.top_p,
        frequency_penalty=body.frequency_penalty or 0.0,
        presence_penalty=body.presence_penalty or 0.0,
        logit_bias=_logit_bias(body.logit_bias, vocab_size),
        max_tokens=max_tokens,
        stop=_stops(body.stop),
        top_logprobs=top_logprobs,
    )


def _stops(stop: Any) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        if len(stop) > MAX_STOP:
            raise invalid(
                f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
                f"but got an array with length {len(stop)} instead.",
                "stop",
            )
        return list(stop)
    raise invalid("Invalid type for 'stop': expected a string or an array of up to 4 strings.", "stop")


def _logit_bias(bias: dict[str, Any] | None, vocab_size: int) -> dict[int, float]:
    check_logit_bias_size(bias)
    out: dict[int, float] = {}
    for key, value in (bias or {}).items():
        try:
            token = int(key)
        except ValueError:
            raise invalid(
                f"Invalid key in 'logit_bias': {key!r} is not a token id. Keys must be token ids "
                "(integers as strings).",
                "logit_bias",
            ) from None
        if token < 0 or token >= vocab_size:
            raise invalid(
                f"Invalid key in 'logit_bias': {token}. Token ids must be between 0 and {vocab_size - 1}.",
                "logit_bias",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(f"Invalid value in 'logit_bias' for token {token}: expected a number.", "logit_bias")
        if not -100 <= value <= 100:
            raise invalid(
                f"Invalid value in 'logit_bias' for token {token}: {value}. Values must be between -100 and 100.",
                "logit_bias",
            )
        out[token] = float(value)
    return out


def _context_check(prompt_tokens: int, max_tokens: int, param: str) -> None:
    if prompt_tokens + max_tokens > CONTEXT_WINDOW:
        raise APIError(
            400,
            f"This model's maximum context length is {CONTEXT_WINDOW} tokens, however you requested "
            f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in your prompt; {max_tokens} for the "
            "completion). Please reduce your prompt; or completion length.",
            param=param,
            code="context_length_exceeded",
        )


def _new_id(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(29))


def _fingerprint(model: lm.TextModel) -> str:
    return "fp_" + hashlib.sha256(model.signature.encode()).hexdigest()[:10]


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


_DONE = b"data: [DONE]\n\n"
def _round_robin(gens: list[tuple[int, Generation]]) -> Iterator[tuple[int, Generation, Any]]:
    """(index, generation, chunk or None when it finished), choices interleaved."""
    active = [(i, g, iter(g)) for i, g in gens]
    while active:
        still = []
        for i, g, it in active:
            chunk = next(it, None)
            yield i, g, chunk
            if chunk is not None:
                still.append((i, g, it))
        active = still


def _offsets(byte_list: list[bytes | None], start: int) -> list[int]:
    """Character offset of each token in the decoded text (partial characters count once complete)."""
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    out, pos = [], start
    for raw in byte_list:
        out.append(pos)
        pos += len(dec.decode(raw or b""))
    return out


# --------------------------------------------------------------------------- completions


def _prompts(prompt: Any, model: lm.TextModel) -> list[list[int]]:
    enc = model.encoding

    def ids(values: list[Any], where: str) -> list[int]:
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                raise invalid(f"Invalid type for '{where}': expected an array of integers.", "prompt")
            if v < 0 or v >= model.vocab_size or model.token_bytes(v) is None:
                raise invalid(f"Invalid token id in '{where}': {v} is not a token of the model's vocabulary.", "prompt")
        return list(values)

    def encode(text: str) -> list[int]:
        return enc.encode(text, allowed_special="all")

    if prompt is None:
        return [[]]
    if isinstance(prompt, str):
        return [encode(prompt)]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return [encode(p) for p in prompt]
        if all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
            return [ids(prompt, "prompt")]
        if all(isinstance(p, list) and p for p in prompt):
            return [ids(p, f"prompt[{i}]") for i, p in enumerate(prompt)]
    raise invalid(
        "Invalid type for 'prompt': expected a string, an array of strings, an array of token ids "
        "or an array of arrays of token ids (none empty).",
        "prompt",
    )


def _completion_logprobs(
    model: lm.TextModel, infos: list[Any], k: int, start: int
) -> dict[str, Any]:
    tokens, lps, tops, raws = [], [], [], []
    for info in infos:
        tokens.append(token_text(model, info.id))
        lps.append(info.logprob)
        top = {token_text(model, t): lp for t, lp in info.top[:k]}
        top.setdefault(tokens[-1], info.logprob)
        tops.append(top)
        raws.append(info.bytes)
    return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": _offsets(raws, start)}


def _echo_logprobs(model: lm.TextModel, prompt: list[int], k: int) -> dict[str, Any]:
    """The prompt's own tokens: logprob of each given the ones before (the first: null)."""
    tokens = [token_text(model, t) for t in prompt]
    lps: list[float | None] = []
    tops: list[dict[str, float] | None] = []
    ctx = [model.encoding.eot_token]
    for i, tok in enumerate(prompt):
        if i == 0:
            lps.append(None)
            tops.append(None)
        elif k > 0:
            dist = model.next_dist(ctx)
            lp = math.log(max(float(dist.probs[tok]), 1e-45))
            ids, tlps = model.top_k(dist, k)
            top = {token_text(model, t): float(v) for t, v in zip(ids.tolist(), tlps.tolist())}
            top.setdefault(tokens[i], lp)
            lps.append(lp)
            tops.append(top)
        else:
            lp = model.logprob_of(ctx, tok)
            lps.append(lp)
            tops.append({tokens[i]: lp})
        ctx.append(tok)
    raws = [model.token_bytes(t) for t in prompt]
    return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": _offsets(raws, 0)}


def _decode(model: lm.TextModel, ids: list[int]) -> str:
    return b"".join(model.token_bytes(t) or b"" for t in ids).decode("utf-8", errors="replace")


@router.post("/v1/completions")
async def create_completion(request: Request) -> Any:
    body: CompletionRequest = _parse(CompletionRequest, await _json(request))
    model = _text_model(request, body.model)
    prompts = _prompts(body.prompt, model)
    n = body.n or 1
    best_of = body.best_of if body.best_of is not None else n
    if best_of < n:
        raise invalid(f"best_of must be greater than or equal to n (got best_of={best_of}, n={n}).", "best_of")
    if body.stream and best_of > n:
        raise invalid("Cannot stream results with best_of greater than n.", "best_of")
    max_tokens = body.max_tokens if body.max_tokens is not None else DEFAULT_COMPLETION_MAX_TOKENS
    for p in prompts:
        _context_check(len(p), max_tokens, "max_tokens")
    check_generation_budget(len(prompts) * best_of, max_tokens, "best_of" if best_of > n else "n")
    params = _sampling(body, model.vocab_size, max_tokens, top_logprobs=body.logprobs)
    meta = {
        "id": _new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.model,
        "system_fingerprint": _fingerprint(model),
    }
    echo = bool(body.echo)
    prompt_tokens = sum(len(p) for p in prompts)
    suffix = model.encoding.encode(body.suffix, disallowed_special=()) if body.suffix else []
    conditioned = [retrieval.condition(model, p + suffix) for p in prompts]

    def generations(count: int) -> list[tuple[int, int, Generation]]:
        out = []
        for pi, p in enumerate(prompts):
            for j in range(count):
                ctx = [model.encoding.eot_token, *p]
                rng = rng_for(body.seed, pi, j)
                gen = (infill.Infilling(conditioned[pi], ctx, params, rng, suffix) if suffix
                       else Generation(conditioned[pi], ctx, params, rng))
                out.append((pi, j, gen))
        return out

    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        gens = generations(n)
        return event_stream(
            _stream_completion(conditioned, meta, prompts, gens, n, echo, body.logprobs, include_usage, prompt_tokens))

    def run() -> dict[str, Any]:
        gens = generations(best_of)
        choices = []
        completion_tokens = 0
        for pi, p in enumerate(prompts):
            cands = [(j, g) for qi, j, g in gens if qi == pi]
            collected = {}
            for j, g in cands:
                collected[j] = [c for c in g]
                completion_tokens += g.n_tokens
            if best_of > n:
                cands = sorted(cands, key=lambda jg: -jg[1].mean_logprob)[:n]
            for slot, (j, g) in enumerate(cands):
                prompt_text = _decode(model, p)
                infos = [t for c in collected[j] for t in c.tokens]
                logprobs = None
                if body.logprobs is not None:
                    logprobs = _completion_logprobs(model, infos, body.logprobs, len(prompt_text))
                    if echo:
                        head = _echo_logprobs(conditioned[pi], p, body.logprobs)
                        for key in logprobs:
                            logprobs[key] = head[key] + logprobs[key]
                choices.append(
                    {
                        "text": (prompt_text if echo else "") + g.text,
                        "index": pi * n + slot,
                        "logprobs": logprobs,
                        "finish_reason": g.finish_reason,
                    }
                )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        return {**meta, "choices": choices, "usage": usage}

    return JSONResponse(await run_in_threadpool(run))


def _stream_completion(
    models: list[lm.TextModel],
    meta: dict[str, Any],
    prompts: list[list[int]],
    gens: list[tuple[int, int, Generation]],
    n: int,
    echo: bool,
    k: int | None,
    include_usage: bool,
    prompt_tokens: int,
) -> Iterator[bytes]:
    # Unlike chat chunks, text_completion chunks leave `usage` out until the final usage chunk
    # (the spec's CreateCompletionResponse.usage is not nullable).

    def chunk(index: int, text: str, logprobs: Any, finish: str | None) -> bytes:
        return _sse({**meta, "choices": [{"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}]})

    model = models[0]  # the conditioned models share tokens and encoding
    offsets: dict[int, int] = {}
    by_index = {}
    for pi, j, g in gens:
        index = pi * n + j
        by_index[id(g)] = index
        prompt_text = _decode(model, prompts[pi])
        offsets[index] = len(prompt_text)
        if echo:
            lp = _echo_logprobs(models[pi], prompts[pi], k) if k is not None else None
            yield chunk(index, prompt_text, lp, None)
    completion_tokens = 0
    for _, g, c in _round_robin([(by_index[id(g)], g) for _, _, g in gens]):
        index = by_index[id(g)]
        if c is None:
            completion_tokens += g.n_tokens
            yield chunk(index, "", None, g.finish_reason)
            continue
        lp = None
        if k is not None:
            lp = _completion_logprobs(model, c.tokens, k, offsets[index])
        offsets[index] += len(c.text)
        yield chunk(index, c.text, lp, None)
    if include_usage:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        yield _sse({**meta, "choices": [], "usage": usage})
    yield _DONE


# --------------------------------------------------------------------------- chat


def _chat_unsupported(body: ChatRequest) -> None:
    if body.functions:
        raise invalid("The local text model does not support the deprecated 'functions'; use 'tools'.", "functions")
    if body.function_call not in (None, "none"):
        raise invalid("'function_call' is only allowed when 'functions' are specified.", "function_call")
    if body.audio is not None or (body.modalities and any(m != "text" for m in body.modalities)):
        raise invalid("The local text model only produces text; audio output is not supported.", "modalities")
    if body.reasoning_effort is not None:
        raise invalid(
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.", "reasoning_effort"
        )
    if body.top_logprobs is not None and not body.logprobs:
        raise invalid(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
            "top_logprobs",
        )


def _last_user_text(messages: list[Any]) -> str | None:
    """What the user asked last: the text the engine searches its corpus with."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and messages[i].get("role") == "user":
            return chat_template.message_text(messages[i], i)
    return None


def _token_logprob(model: lm.TextModel, token: int, logprob: float) -> dict[str, Any]:
    raw = model.token_bytes(token)
    return {"token": token_text(model, token), "logprob": logprob, "bytes": list(raw) if raw is not None else None}


def _chat_logprobs(model: lm.TextModel, infos: list[Any]) -> list[dict[str, Any]]:
    return [
        {**_token_logprob(model, i.id, i.logprob), "top_logprobs": [_token_logprob(model, t, lp) for t, lp in i.top]}
        for i in infos
    ]


def _chat_usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@router.post("/v1/chat/completions")
async def create_chat_completion(request: Request) -> Any:
    body: ChatRequest = _parse(ChatRequest, await _json(request))
    model = _text_model(request, body.model)
    _chat_unsupported(body)
    prompt_text = chat_template.render(body.messages)
    fmt = structured.output_format(body.response_format, "response_format", nested=True)
    prompt = model.encoding.encode(prompt_text, disallowed_special=())
    model = retrieval.condition(model, prompt, _last_user_text(body.messages))
    limit = body.max_completion_tokens if body.max_completion_tokens is not None else body.max_tokens
    if limit is not None:
        _context_check(len(prompt), limit, "messages")
        max_tokens = limit
    else:
        _context_check(len(prompt), 1, "messages")
        max_tokens = min(DEFAULT_CHAT_MAX_TOKENS, CONTEXT_WINDOW - len(prompt))
    want_top = (body.top_logprobs or 0) if body.logprobs else None
    params = _sampling(body, model.vocab_size, max_tokens, top_logprobs=want_top)
    n = body.n or 1
    check_generation_budget(n, max_tokens)
    meta = {
        "id": _new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "service_tier": "default",
        "system_fingerprint": _fingerprint(model),
    }
    ctx = [model.encoding.eot_token, *prompt]
    plan = structured.plan(
        model, fmt, body.tools, body.tool_choice, body.parallel_tool_calls,
        *structured.message_texts(body.messages), format_param="response_format",
    )
    gens = [
        (j, Generation(model, ctx, params, rng_for(body.seed, 0, j), plan.constraint(model, max_tokens)))
        for j in range(n)
    ]
    calls = plan.kind == "calls"

    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        meta["object"] = "chat.completion.chunk"
        return event_stream(_stream_chat(model, meta, gens, bool(body.logprobs), include_usage, len(prompt), calls))

    def run() -> dict[str, Any]:
        choices = []
        completion_tokens = 0
        for j, g in gens:
            chunks = list(g)
            completion_tokens += g.n_tokens
            logprobs = None
            if body.logprobs:
                logprobs = {"content": _chat_logprobs(model, [t for c in chunks for t in c.tokens]), "refusal": None}
            message: dict[str, Any] = {"role": "assistant", "content": g.text, "refusal": None, "annotations": []}
            if calls:
                message["content"] = None
                message["tool_calls"] = [
                    {"id": new_call_id(), "type": "function", "function": {"name": name, "arguments": args}}
                    for name, args in read_calls(g.text)
                ]
            choices.append(
                {"index": j, "message": message, "logprobs": logprobs, "finish_reason": _finish(g, calls)}
            )
        return {**meta, "choices": choices, "usage": _chat_usage(len(prompt), completion_tokens)}

    return JSONResponse(await run_in_threadpool(run))


def _finish(g: Generation, calls: bool) -> str | None:
    return "tool_calls" if calls and g.finish_reason == "stop" else g.finish_reason


def _call_deltas(reader: CallReader, text: str) -> list[dict[str, Any]]:
    """delta.tool_calls entries for new call text: a call's id and name once, then argument pieces."""
    out = []
    for event, index, value in reader.feed(text):
        if event == "call":
            fn = {"name": value, "arguments": ""}
            out.append({"index": index, "id": new_call_id(), "type": "function", "function": fn})
        else:
            out.append({"index": index, "function": {"arguments": value}})
    return out


def _stream_chat(
    model: lm.TextModel,
    meta: dict[str, Any],
    gens: list[tuple[int, Generation]],
    logprobs: bool,
    include_usage: bool,
    prompt_tokens: int,
    calls: bool = False,
) -> Iterator[bytes]:
    extra = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: dict[str, Any], lp: Any, finish: str | None) -> bytes:
        return _sse({**meta, "choices": [{"index": index, "delta": delta, "logprobs": lp, "finish_reason": finish}], **extra})

    for j, _ in gens:
        yield chunk(j, {"role": "assistant", "content": None if calls else "", "refusal": None}, None, None)
    readers = {j: CallReader() for j, _ in gens}
    held: dict[int, list[Any]] = {j: [] for j, _ in gens}  # logprobs waiting for a delta to carry them
    completion_tokens = 0
    for j, g, c in _round_robin(gens):
        if c is None:
            completion_tokens += g.n_tokens
            yield chunk(j, {}, None, _finish(g, calls))
            continue
        held[j].extend(c.tokens)
        deltas = _call_deltas(readers[j], c.text) if calls else [{"content": c.text}]
        for k, delta in enumerate(deltas):
            lp = None
            if logprobs and k == 0:
                lp = {"content": _chat_logprobs(model, held[j]), "refusal": None}
                held[j] = []
            yield chunk(j, {"tool_calls": [delta]} if calls else delta, lp, None)
    if include_usage:
        yield _sse({**meta, "choices": [], "usage": _chat_usage(prompt_tokens, completion_tokens)})
    yield _DONE
