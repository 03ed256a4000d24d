import gzip
import hashlib

import pytest

import tiktoken_offline


def test_bundled_files_give_the_real_encodings_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tiktoken_offline.get_encoding.cache_clear()
    o200k = tiktoken_offline.get_encoding("o200k_base")
    cl100k = tiktoken_offline.get_encoding("cl100k_base")
    assert o200k.n_vocab == 200019 and cl100k.n_vocab == 100277
    # Known ids from OpenAI's tokenizer: " hello" and " world".
    assert o200k.encode(" hello world") == [40617, 2375]
    assert cl100k.encode(" hello world") == [24748, 1917]
    # The file tiktoken caches is the one whose hash tiktoken checks.
    cached = list(tmp_path.iterdir())
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in cached} == set(tiktoken_offline.EXPECTED_SHA256.values())
    tiktoken_offline.get_encoding.cache_clear()


def test_a_tampered_bundled_file_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    fake_pkg = tmp_path / "fakepkg"
    (fake_pkg / "data").mkdir(parents=True)
    (fake_pkg / "data" / "cl100k_base.tiktoken.gz").write_bytes(gzip.compress(b"IQ== 0\n"))

    class FakeFiles:
        def joinpath(self, name):
            return fake_pkg / name

    monkeypatch.setattr(tiktoken_offline.resources, "files", lambda _: FakeFiles())
    tiktoken_offline.get_encoding.cache_clear()
    with pytest.raises(tiktoken_offline.BPEFileError, match="not the one OpenAI published"):
        tiktoken_offline.get_encoding("cl100k_base")
    tiktoken_offline.get_encoding.cache_clear()
