"""Embedding many texts: requests within the API's per-request limits, the on-disk cache first,
rate limits retried with backoff (each wait reported), and a cancel that keeps finished batches.

The limits (OpenAI's, for every embedding model): at most 2,048 inputs a request, at most
8,192 tokens an input (8,191 for text-embedding-3/ada-002: the model's context window), at
most 300,000 tokens summed over a request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import openai

from playground.embeddings.cache import EmbeddingCache, digest
from playground.errors import retry_after_seconds

MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
MAX_INPUT_TOKENS = 8192
MAX_RETRIES = 6
MAX_BACKOFF = 60.0


class InputsTooLong(ValueError):
    """Texts over the per-input token limit, when truncation is off."""

    def __init__(self, positions: list[int], limit: int) -> None:
        shown = ", ".join(str(p + 1) for p in positions[:5]) + (" …" if len(positions) > 5 else "")
        super().__init__(
            f"{len(positions)} text{'s are' if len(positions) > 1 else ' is'} longer than the model's "
            f"{limit:,} tokens an input (text {shown}). Turn on chunking, or let the page truncate them."
        )
        self.positions = positions


@dataclass
class Inputs:
    """The texts as they will be sent, and their token counts."""

    texts: list[str]
    tokens: list[int]
    truncated: list[int] = field(default_factory=list)  # positions cut to the limit

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


def prepare_inputs(texts: Sequence[str], encoding, max_input_tokens: int = MAX_INPUT_TOKENS, truncate: bool = True) -> Inputs:  # noqa: ANN001
    """Count tokens (each distinct text once); cut texts over the limit (or refuse them with
    InputsTooLong). Special-token text is counted as plain text, as the API does.

    A plain loop over encode_ordinary: tiktoken's encode_ordinary_batch spends about four
    times the CPU in its thread pool, which on a busy 2-core machine is also the wall time."""
    texts = list(texts)
    counts: dict[str, int] = {}
    for text in texts:
        if text not in counts:
            counts[text] = len(encoding.encode_ordinary(text))
    tokens = [counts[t] for t in texts]
    over = [i for i, n in enumerate(tokens) if n > max_input_tokens]
    if over and not truncate:
        raise InputsTooLong(over, max_input_tokens)
    for i in over:
        texts[i] = encoding.decode(encoding.encode_ordinary(texts[i])[:max_input_tokens])
        while len(encoding.encode_ordinary(texts[i])) > max_input_tokens:  # a cut multi-byte character re-tokenizes
            texts[i] = texts[i][:-1]
        tokens[i] = max_input_tokens
    return Inputs(texts, tokens, over)


def plan_batches(tokens: Sequence[int], max_inputs: int = MAX_INPUTS, max_request_tokens: int = MAX_REQUEST_TOKENS) -> list[list[int]]:
    """Positions grouped into requests, in order, each within both limits."""
    batches: list[list[int]] = []
    current: list[int] = []
    current_tokens = 0
    for position, count in enumerate(tokens):
        if current and (len(current) >= max_inputs or current_tokens + count > max_request_tokens):
            batches.append(current)
            current, current_tokens = [], 0
        current.append(position)
        current_tokens += count
    if current:
        batches.append(current)
    return batches


def minimum_requests(n_texts: int, total_tokens: int) -> int:
    """The fewest requests any batching needs (what plan_batches reaches for short texts)."""
    return max(math.ceil(n_texts / MAX_INPUTS), math.ceil(total_tokens / MAX_REQUEST_TOKENS))


@dataclass
class Progress:
    done_texts: int
    total_texts: int
    requests: int
    waits: list[float]


@dataclass
class EmbedResult:
    rows: np.ndarray  # (texts, dimensions) float32, filled as batches finish; zeros where not done
    done: np.ndarray  # bool per text: its row is filled
    requests: int = 0
    from_cache: int = 0  # distinct texts found in the cache
    embedded: int = 0  # distinct texts embedded by this run
    tokens_sent: int = 0
    waits: list[float] = field(default_factory=list)  # seconds waited on each rate limit
    cancelled: bool = False

    @property
    def complete(self) -> bool:
        return bool(self.done.all())

    def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(vectors of the done texts as float32 rows, their positions)."""
        positions = np.flatnonzero(self.done)
        return self.rows[positions], positions

    def fill(self, positions: list[int], vector: np.ndarray) -> None:
        if self.rows.shape[1] == 0:  # nothing came from the cache: the first vector gives the width
            self.rows = np.zeros((len(self.rows), len(vector)), np.float32)
        self.rows[positions] = vector
        self.done[positions] = True


@dataclass
class Plan:
    """What embedding `inputs` will cost now: which texts the cache holds, what is left to send."""

    inputs: Inputs
    digests: list[bytes]
    cached: np.ndarray  # bool per text
    todo: dict[bytes, list[int]]  # each distinct text to send -> its positions, in corpus order

    @property
    def todo_tokens(self) -> list[int]:
        return [self.inputs.tokens[where[0]] for where in self.todo.values()]

    @property
    def tokens_to_send(self) -> int:
        return sum(self.todo_tokens)

    @property
    def requests(self) -> int:
        return len(plan_batches(self.todo_tokens))


def plan(inputs: Inputs, cache: EmbeddingCache | None, provider: str, model: str, dimensions: int | None) -> Plan:
    digests = [digest(t) for t in inputs.texts]
    cached = cache.cached(provider, model, dimensions, digests) if cache else np.zeros(len(digests), bool)
    todo: dict[bytes, list[int]] = {}
    for position in np.flatnonzero(~cached).tolist():
        todo.setdefault(digests[position], []).append(position)
    return Plan(inputs, digests, cached, todo)


def backoff_seconds(exc: openai.RateLimitError, attempt: int) -> float:
    """The server's retry-after when it gives one, else exponential: 1, 2, 4 ... 60 s."""
    headers = exc.response.headers if exc.response is not None else None
    told = retry_after_seconds(headers)
    return told if told is not None and told >= 0 else min(MAX_BACKOFF, 2.0**attempt)


def _is_quota(exc: openai.RateLimitError) -> bool:
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body) if isinstance(body, dict) else {}
    return isinstance(inner, dict) and inner.get("code") == "insufficient_quota"


def embed_texts(
    client: openai.OpenAI,
    model: str,
    inputs: Inputs,
    *,
    dimensions: int | None = None,
    cache: EmbeddingCache | None = None,
    provider: str = "",
    on_progress: Callable[[Progress], None] | None = None,
    on_wait: Callable[[float, int, openai.RateLimitError], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_retries: int = MAX_RETRIES,
) -> EmbedResult:
    """Embed every input: cached vectors first, the rest in batches. Each finished batch goes
    to the cache before anything else happens, so a cancel (or an interrupted page) keeps it.
    Errors other than rate limits propagate (finished batches are already cached)."""
    digests = [digest(t) for t in inputs.texts]
    if cache:
        rows, done = cache.get_matrix(provider, model, dimensions, digests)
    else:
        rows, done = np.zeros((len(digests), 0), np.float32), np.zeros(len(digests), bool)
    result = EmbedResult(rows, done, from_cache=len({digests[p] for p in np.flatnonzero(done).tolist()}))
    places: dict[bytes, list[int]] = {}  # each distinct missing text once, in corpus order
    for position in np.flatnonzero(~done).tolist():
        places.setdefault(digests[position], []).append(position)
    positions = [where[0] for where in places.values()]
    batches = plan_batches([inputs.tokens[p] for p in positions])

    def report() -> None:
        if on_progress:
            on_progress(Progress(int(result.done.sum()), len(inputs.texts), result.requests, result.waits))

    report()
    for batch in batches:
        if should_cancel and should_cancel():
            result.cancelled = True
            break
        chosen = [positions[i] for i in batch]
        kwargs = {"dimensions": dimensions} if dimensions else {}
        for attempt in range(max_retries + 1):
            try:
                response = client.embeddings.create(model=model, input=[inputs.texts[p] for p in chosen], **kwargs)
                break
            except openai.RateLimitError as exc:
                result.requests += 1
                if _is_quota(exc) or attempt == max_retries:
                    raise
                wait = backoff_seconds(exc, attempt)
                result.waits.append(wait)
                if on_wait:
                    on_wait(wait, attempt + 1, exc)
                sleep(wait)
        result.requests += 1
        data = sorted(response.data, key=lambda d: d.index)
        fresh = {digests[p]: np.asarray(d.embedding, dtype=np.float32) for p, d in zip(chosen, data)}
        if cache:
            cache.put_many(provider, model, dimensions, fresh)
        for key, vector in fresh.items():
            result.fill(places[key], vector)
        result.embedded += len(fresh)
        result.tokens_sent += sum(inputs.tokens[p] for p in chosen)
        report()
    return result
