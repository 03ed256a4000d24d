"""The local embedding model: WordLlama (`wordllama` on PyPI, MIT), loaded from its wheel.

WordLlama's l2_supercat model is the token-embedding table of a large language model's
tokenizer (Llama 2's 32,000 SentencePiece tokens), distilled and trained with a
Matryoshka loss on sentence-similarity data. An embedding is the mean of the text's token
vectors (256 dimensions), L2-normalized; because of the Matryoshka training the first d
coordinates (64 <= d <= 256) are themselves a good embedding, so `dimensions=d` keeps them
and re-normalizes, as text-embedding-3 does.

Loading
-------
The wheel ships the weights (`wordllama/weights/l2_supercat_256.safetensors`, float16) and
the tokenizer (`wordllama/tokenizers/l2_supercat_tokenizer_config.json`, a `tokenizers`
JSON). The package's own loader looks for the tokenizer under `tokenizer/` and, not finding
it, downloads from the Hugging Face hub; importing the package also reconfigures logging.
So this module neither imports nor calls it: it finds the installed package's folder
(`importlib.util.find_spec`, which does not run the package) and reads the two files with
`safetensors` and `tokenizers` directly. Nothing is downloaded, ever.

A text with no token (cannot happen for non-empty text with this tokenizer's byte fallback,
but kept safe) gets a unit vector drawn from a generator seeded with the text's hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger("local_engine.embedder")

PACKAGE = "wordllama"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
DIMENSIONS = 256
MIN_MATRYOSHKA_DIMENSIONS = 64  # the smallest size the model was trained to be used at
_BATCH = 512  # texts tokenized per call


def package_dir() -> Path:
    """The installed wordllama package's folder, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the '{PACKAGE}' package is not installed: pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0])


class Embedder:
    """Text -> unit vector of `dimensions` floats (see the module docstring)."""

    def __init__(self, table: np.ndarray, tokenizer, fingerprint: str = "") -> None:
        self.table = np.ascontiguousarray(table, dtype=np.float32)  # (vocab, DIMENSIONS)
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.fingerprint = fingerprint

    @property
    def dimensions(self) -> int:
        return int(self.table.shape[1])

    @classmethod
    def load(cls, root: Path | None = None) -> Embedder:
        """The model from the files in the wordllama wheel (never a download)."""
        from safetensors import safe_open
        from tokenizers import Tokenizer

        root = root or package_dir()
        with safe_open(str(root / WEIGHTS), framework="np", device="cpu") as f:
            table = f.get_tensor("embedding.weight")
        tokenizer = Tokenizer.from_file(str(root / TOKENIZER))
        return cls(table, tokenizer, f"wordllama-l2_supercat-{table.shape[1]}")

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        out: list[list[int]] = []
        for a in range(0, len(texts), _BATCH):
            encoded = self.tokenizer.encode_batch(list(texts[a : a + _BATCH]), add_special_tokens=False)
            out.extend(e.ids for e in encoded)
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32, each row of unit length: the mean token vector."""
        if not texts:
            return np.zeros((0, self.dimensions), np.float32)
        ids = self.token_ids(texts)
        lengths = np.array([len(x) for x in ids])
        flat = np.fromiter((t for x in ids for t in x), dtype=np.int64, count=int(lengths.sum()))
        flat = np.clip(flat, 0, len(self.table) - 1)
        vectors = np.zeros((len(texts), self.dimensions), np.float32)
        has = lengths > 0
        if has.any():
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[has]
            sums = np.add.reduceat(self.table[flat], starts, axis=0)
            vectors[has] = sums / lengths[has, None]
        norms = np.linalg.norm(vectors, axis=1)
        for i in np.flatnonzero(norms < 1e-6):
            seed = int.from_bytes(hashlib.sha256(texts[i].encode("utf-8", "surrogatepass")).digest()[:8], "little")
            vectors[i] = np.random.default_rng(seed).standard_normal(self.dimensions)
            norms[i] = np.linalg.norm(vectors[i])
        return (vectors / norms[:, None]).astype(np.float32)


def shorten(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    """The first `dimensions` coordinates, re-normalized to unit length."""
    cut = vectors[:, :dimensions]
    norms = np.linalg.norm(cut, axis=1, keepdims=True)
    return (cut / np.where(norms > 0, norms, 1)).astype(np.float32)


_MODEL: Embedder | None = None


def base_embedder(cache_dir: Path | str | None = None) -> Embedder:
    """The process-wide embedding model (loaded once; `cache_dir` is unused: nothing to build)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = Embedder.load()
    return _MODEL
