"""Fixtures shared by every kind of test: one real local engine per test session."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import httpx
import openai
import pytest

from tests.enginerunner import running_engine

TEST_KEY = "test-key"


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL ("http://127.0.0.1:PORT/v1") of the session's engine: key "test-key",
    request bodies recorded, fine-tuning without pauses."""
    data_dir = tmp_path_factory.mktemp("engine-data")
    with running_engine(
        "--api-key", TEST_KEY, "--record-requests", "--fine-tune-pace", "0", data_dir=data_dir
    ) as url:
        yield url


@pytest.fixture
def client(engine_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=engine_url, api_key=TEST_KEY, max_retries=0)


@pytest.fixture
def start_engine(tmp_path: Path) -> Callable[..., ContextManager[str]]:
    """Start another engine with extra arguments (--api-key, --rpm...): `with start_engine("--rpm", "2") as url:`."""

    @contextlib.contextmanager
    def start(*args: str) -> Iterator[str]:
        with running_engine(*args, data_dir=tmp_path) as url:
            yield url

    return start


def recorded_requests(engine_url: str, path_suffix: str = "") -> list[dict]:
    """The JSON bodies of the POST requests that reached the session's engine, oldest first."""
    root = engine_url.removesuffix("/v1")
    headers = {"Authorization": f"Bearer {TEST_KEY}"}
    data = httpx.get(f"{root}/local/requests", headers=headers, timeout=5).json()["data"]
    return [entry for entry in data if entry["path"].endswith(path_suffix)]
