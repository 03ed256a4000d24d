"""The embeddings cache belongs to a workspace: whether a text is cached says someone embedded
it, so one user on a team server never reads (or reuses) another's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from playground.embeddings.cache import EmbeddingCache, default_path, digest


def test_a_text_one_workspace_embedded_is_not_cached_for_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    secret = [digest("ada's private corpus line")]
    EmbeddingCache(default_path("ada@example.com")).put_many("local", "local-embedding", None, {secret[0]: np.ones(8)})

    assert EmbeddingCache(default_path("ada@example.com")).cached("local", "local-embedding", None, secret).all()
    assert not EmbeddingCache(default_path("bob@example.com")).cached("local", "local-embedding", None, secret).any()
    assert not EmbeddingCache(default_path()).cached("local", "local-embedding", None, secret).any()  # the single-user app's own
    assert default_path() == tmp_path / "embeddings" / "vectors.sqlite"  # where a single-user app kept it before
    assert "ada" not in str(default_path("ada@example.com"))  # an email is not spelled out on disk
