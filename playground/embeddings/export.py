"""Exports: search results and embeddings with their texts, as CSV or Parquet; and saved
embeddings loaded back (checked) so a corpus is searched again without paying for it.

An embeddings file holds the documents' columns, `embedding` (a list of floats; a JSON array
in CSV) and `embedding_model` (the model that made them: queries must use the same one).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from playground.embeddings.corpus import TEXT, CorpusError, check_size
from playground.embeddings.search import Hit

EMBEDDING = "embedding"
MODEL = "embedding_model"
SAVED_FORMATS = ("csv", "parquet")


def duplicates_label(copies: int) -> str:
    return f"×{copies} duplicates" if copies > 1 else ""


def results_frame(
    documents: pd.DataFrame, queries: Sequence[str], hits: Sequence[Sequence[Hit]], copies: Sequence[Sequence[int]] | None = None
) -> pd.DataFrame:
    """One row per (query, match): query, rank, similarity, then the matched row's columns;
    with `copies` (how many rows of the corpus hold each match's text) a "duplicates" column."""
    rows = []
    for q, (query, matches) in enumerate(zip(queries, hits)):
        for rank, hit in enumerate(matches, start=1):
            row = {"query": query, "rank": rank, "similarity": round(hit.similarity, 6)}
            if copies is not None:
                row["duplicates"] = duplicates_label(copies[q][rank - 1])
            rows.append({**row, **documents.iloc[hit.position].to_dict()})
    extra = ["duplicates"] if copies is not None else []
    return pd.DataFrame(rows, columns=["query", "rank", "similarity", *extra, *documents.columns])


def embeddings_frame(documents: pd.DataFrame, matrix: np.ndarray, model: str) -> pd.DataFrame:
    if len(documents) != len(matrix):
        raise ValueError(f"{len(documents)} documents but {len(matrix)} vectors")
    out = documents.reset_index(drop=True).copy()
    out[EMBEDDING] = [row.astype(np.float32) for row in np.asarray(matrix, dtype=np.float32)]
    out[MODEL] = model
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    out = frame.copy()
    if EMBEDDING in out.columns:
        out[EMBEDDING] = [json.dumps([float(x) for x in v]) for v in out[EMBEDDING]]
    return out.to_csv(index=False).encode("utf-8")


def to_parquet(frame: pd.DataFrame) -> bytes:
    columns = {c: frame[c] for c in frame.columns if c != EMBEDDING}
    table = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)
    if EMBEDDING in frame.columns:
        values = [np.asarray(v, dtype=np.float32) for v in frame[EMBEDDING]]
        table = table.append_column(EMBEDDING, pa.array(values, type=pa.list_(pa.float32())))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@dataclass
class SavedEmbeddings:
    documents: pd.DataFrame  # without the embedding column
    matrix: np.ndarray  # float32 (rows, dimensions)
    model: str | None


def load_saved(filename: str, data: bytes) -> SavedEmbeddings:
    """An embeddings export read back, or a CorpusError saying what is wrong with it."""
    kind = Path(filename).suffix.lower().lstrip(".")
    if kind not in SAVED_FORMATS:
        raise CorpusError(f"“{filename}” is not an embeddings export: upload the .csv or .parquet file this page saved.")
    check_size(filename, len(data))
    if not data.strip():
        raise CorpusError(f"“{filename}” is empty.")
    try:
        if kind == "parquet":
            frame = pq.read_table(io.BytesIO(data)).to_pandas()
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype={TEXT: str}, keep_default_na=False)
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        raise CorpusError(f"“{filename}” could not be read as {kind.upper()}: {exc}") from None
    missing = [c for c in (TEXT, EMBEDDING) if c not in frame.columns]
    if missing:
        raise CorpusError(
            f"“{filename}” has no column {', '.join(map(repr, missing))}: it is not an embeddings export of this page. "
            "Upload it as a corpus instead, or export the embeddings again."
        )
    if frame.empty:
        raise CorpusError(f"“{filename}” has no rows.")
    try:
        vectors = [np.asarray(json.loads(v) if isinstance(v, str) else v, dtype=np.float32) for v in frame[EMBEDDING]]
    except (ValueError, TypeError) as exc:
        raise CorpusError(f"The embedding column of “{filename}” is not lists of numbers ({exc}).") from None
    lengths = {v.shape for v in vectors}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1 or next(iter(lengths))[0] == 0:
        raise CorpusError(f"The embeddings in “{filename}” do not all have the same number of dimensions.")
    matrix = np.vstack(vectors)
    if not np.isfinite(matrix).all():
        raise CorpusError(f"“{filename}” holds embeddings with missing or infinite values.")
    models = frame[MODEL].dropna().unique().tolist() if MODEL in frame.columns else []
    if len(models) > 1:
        raise CorpusError(f"“{filename}” mixes embeddings of several models ({', '.join(map(str, models))}); they cannot be searched together.")
    documents = frame.drop(columns=[c for c in (EMBEDDING, MODEL) if c in frame.columns])
    return SavedEmbeddings(documents.reset_index(drop=True), matrix, str(models[0]) if models else None)
