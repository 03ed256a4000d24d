"""The engine the app starts itself: a key of its own that no other account can read, and
its data under the app's PLAYGROUND_DATA_DIR (two app instances share nothing)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import openai
import pytest

from playground import engine_process
from tests.enginerunner import ROOT


@pytest.fixture
def own_engine_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No external engine; the tests' model cache (via XDG_CACHE_HOME) so start-up is quick."""
    monkeypatch.delenv("PLAYGROUND_ENGINE_URL", raising=False)
    monkeypatch.delenv("PLAYGROUND_ENGINE_KEY", raising=False)
    cache_home = tmp_path / "cache-home"
    cache_home.mkdir()
    cache = Path(os.environ.get("PLAYGROUND_TEST_CACHE", ROOT / ".cache" / "engine")).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    (cache_home / "playground-engine").symlink_to(cache, target_is_directory=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + "server" * 6)
    engine_process.stop_local_engine()
    return tmp_path


def _process_file(pid: int, name: str) -> bytes:
    return Path(f"/proc/{pid}/{name}").read_bytes()


def test_auto_started_engine_refuses_callers_without_its_key(own_engine_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = {}
    for instance in ("first", "second"):
        data_dir = own_engine_env / instance
        monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(data_dir))
        engine = engine_process.local_engine()
        try:
            pid = engine_process._process.pid  # type: ignore[union-attr]
            root = engine.base_url.removesuffix("/v1")
            # Any other caller on this machine (another OS account) reaches the port, not the key.
            for path in ("/v1/models", "/v1/files", "/v1/fine_tuning/jobs", "/local/requests"):
                r = httpx.get(root + path)
                assert r.status_code == 401, path
            assert httpx.get(root + "/health").status_code == 200
            assert engine.api_key and len(engine.api_key) >= 32
            assert engine.api_key.encode() not in _process_file(pid, "cmdline")  # ps shows argv to everyone
            assert b"OPENAI_API_KEY" not in _process_file(pid, "environ")  # the app's key stays with the app

            # Its log and data live in this instance's data dir, for this account only.
            assert engine.log_path is not None and engine.log_path.is_relative_to(data_dir)
            assert stat.S_IMODE(engine.log_path.stat().st_mode) == 0o600
            assert stat.S_IMODE(engine.log_path.parent.stat().st_mode) == 0o700

            client = openai.OpenAI(base_url=engine.base_url, api_key=engine.api_key, max_retries=0)
            uploads[instance] = client.files.create(file=(f"{instance}.txt", b"hello"), purpose="user_data").id
            assert [f.id for f in client.files.list()] == [uploads[instance]]  # nothing of the other instance
            assert (data_dir / "engine" / "data" / "files" / uploads[instance]).exists()
        finally:
            engine_process.stop_local_engine()
    assert uploads["first"] != uploads["second"]
