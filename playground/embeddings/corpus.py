"""A corpus to embed: read from an upload (CSV, TSV, JSONL, TXT) or pasted text, the text
taken from one or more columns, long texts optionally split into overlapping token chunks.

Every refusal is a CorpusError whose message says what is wrong and what to do.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
FORMATS = ("csv", "tsv", "jsonl", "txt")
SAMPLE_CORPUS = Path(__file__).resolve().parent.parent / "data" / "sample_corpus.csv"

# Columns added to the documents table (the corpus' own columns keep their names).
TEXT = "embedded_text"
SOURCE_ROW = "source_row"
CHUNK = "chunk"


class CorpusError(ValueError):
    """A corpus the app cannot use; str(error) is the message for the user."""


@dataclass
class LoadedCorpus:
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)  # warnings worth showing (encoding fallback...)


def format_of(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    suffix = {"ndjson": "jsonl", "tab": "tsv", "text": "txt", "md": "txt"}.get(suffix, suffix)
    if suffix not in FORMATS:
        raise CorpusError(
            f"“{filename}” is not a file type this page reads. Upload a .csv, .tsv, .jsonl or .txt file."
        )
    return suffix


def check_size(filename: str, size: int) -> None:
    """Refuse an upload over the limit before reading it."""
    if size > MAX_UPLOAD_BYTES:
        raise CorpusError(
            f"“{filename}” is {size / 1024 / 1024:,.0f} MB; this page reads files up to {MAX_UPLOAD_MB} MB. "
            "Split it, or keep only the columns you want to embed."
        )


def decode(data: bytes, filename: str) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), else Windows-1252 with a note; else a CorpusError."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        position = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise CorpusError(
            f"“{filename}” is not UTF-8 text (first bad byte at position {position:,}), nor Windows-1252. "
            "Save it as UTF-8 and upload it again."
        ) from None
    return text, [
        f"“{filename}” is not UTF-8 (first bad byte at position {position:,}); it was read as Windows-1252. "
        "Check accented characters below; if they look wrong, save the file as UTF-8."
    ]


def read_upload(filename: str, data: bytes) -> LoadedCorpus:
    """The rows of an uploaded file, or a CorpusError."""
    kind = format_of(filename)
    check_size(filename, len(data))
    if not data.strip():
        raise CorpusError(f"“{filename}” is empty. Upload a file with at least one row of text.")
    text, notes = decode(data, filename)
    frame = _parse(text, kind, filename)
    if frame.empty or len(frame.columns) == 0:
        raise CorpusError(f"“{filename}” has no rows. Upload a file with at least one row of text.")
    return LoadedCorpus(frame, notes)


def read_pasted(text: str) -> LoadedCorpus:
    """Pasted text: one document per paragraph (blank-line separated), else per line."""
    if not text.strip():
        raise CorpusError("Nothing was pasted. Paste some text: one document per line or per paragraph.")
    return LoadedCorpus(_documents_of_text(text))


def read_sample() -> LoadedCorpus:
    return LoadedCorpus(pd.read_csv(SAMPLE_CORPUS, dtype=str, keep_default_na=False))


def _documents_of_text(text: str) -> pd.DataFrame:
    text = text.replace("\r\n", "\n")
    paragraphs = [p.strip() for p in text.split("\n\n")]
    docs = paragraphs if len([p for p in paragraphs if p]) > 1 else [line.strip() for line in text.split("\n")]
    return pd.DataFrame({"text": [d for d in docs if d]})


def _parse(text: str, kind: str, filename: str) -> pd.DataFrame:
    try:
        if kind == "txt":
            return _documents_of_text(text)
        if kind == "jsonl":
            rows = []
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(
                        f"Line {number} of “{filename}” is not valid JSON ({exc.msg}). "
                        "JSONL needs one JSON object per line."
                    ) from None
                if not isinstance(row, dict):
                    raise CorpusError(
                        f"Line {number} of “{filename}” is not a JSON object. Each line must be an object "
                        'such as {"text": "..."}.'
                    )
                rows.append(row)
            frame = pd.DataFrame(rows)
        else:
            frame = pd.read_csv(
                io.StringIO(text), sep="\t" if kind == "tsv" else ",", dtype=str, keep_default_na=False,
                quoting=csv.QUOTE_MINIMAL,
            )
    except CorpusError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        if isinstance(exc, pd.errors.EmptyDataError):
            raise CorpusError(f"“{filename}” has no columns. Upload a file with a header row.") from None
        raise CorpusError(f"“{filename}” could not be read as {kind.upper()}: {exc}") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _texts(values: pd.Series) -> pd.Series:
    """Each value as stripped text; None and NaN become "" (vectorized: a 100k-row corpus is common)."""
    if not len(values):
        return pd.Series([], dtype=object, index=values.index)
    if values.dtype == object or not pd.api.types.is_string_dtype(values):
        values = values.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    return values.fillna("").astype(str).str.strip()


def text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns holding text (some non-empty value that is not a number), most text first."""
    lengths: dict[str, float] = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object:  # JSONL: numbers and lists stay what they are, only strings count
            values = values[values.map(lambda v: isinstance(v, str))]
        strings = _texts(values)
        strings = strings[strings != ""]
        # Any word in the first thousand values decides it; only a column of numbers is read whole.
        if any(pd.to_numeric(part, errors="coerce").isna().any() for part in (strings.head(1000), strings.iloc[1000:])):
            lengths[column] = float(strings.str.len().sum())
    return sorted(lengths, key=lambda c: -lengths[c])


def default_text_columns(frame: pd.DataFrame, candidates: list[str] | None = None) -> list[str]:
    """A column named like text if there is one, else the column with the most text
    (`candidates`: text_columns(frame), when known: 100k rows take a fifth of a second)."""
    candidates = text_columns(frame) if candidates is None else candidates
    for name in ("text", "content", "body", "document", "abstract", "description"):
        for column in candidates:
            if column.lower() == name:
                return [column]
    return candidates[:1]


@dataclass
class Documents:
    frame: pd.DataFrame  # the corpus' columns + SOURCE_ROW, CHUNK, TEXT: one row per text to embed
    dropped_empty: int  # corpus rows whose chosen columns held no text


def build_documents(frame: pd.DataFrame, columns: Sequence[str], separator: str = "\n") -> Documents:
    """One text per corpus row: the chosen columns joined; rows with no text are dropped (counted)."""
    if not columns:
        raise CorpusError("Choose at least one column holding the text to embed.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CorpusError(f"The corpus has no column {', '.join(map(repr, missing))}. Choose another column.")
    if not text_columns(frame[list(columns)]):
        raise CorpusError(
            f"The column{'s' if len(columns) > 1 else ''} {', '.join(map(repr, columns))} hold"
            f"{'' if len(columns) > 1 else 's'} no text. Choose a column with text in it."
        )
    texts = pd.Series("", index=frame.index, dtype=object)
    for column in columns:  # joined with the separator, skipping empty parts
        part = _texts(frame[column])
        texts = texts.where(part == "", texts.where(texts == "", texts + separator) + part)
    keep = texts != ""
    out = frame.loc[keep].copy()
    out = out.rename(columns={c: f"{c} (original)" for c in (SOURCE_ROW, CHUNK, TEXT) if c in out.columns})
    out.insert(0, TEXT, texts[keep].astype(str))
    out.insert(0, CHUNK, 0)
    out.insert(0, SOURCE_ROW, frame.index[keep].to_numpy())
    return Documents(out.reset_index(drop=True), int((~keep).sum()))


def chunk_documents(documents: pd.DataFrame, encoding, max_tokens: int, overlap: int) -> pd.DataFrame:  # noqa: ANN001
    """Each text split into windows of at most `max_tokens` tokens, consecutive windows sharing
    `overlap` tokens; short texts stay whole. Other columns are repeated on every chunk."""
    if max_tokens < 1:
        raise CorpusError("A chunk must hold at least 1 token.")
    if not 0 <= overlap < max_tokens:
        raise CorpusError(f"The overlap must be at least 0 and less than the chunk size ({max_tokens} tokens).")
    step = max_tokens - overlap
    rows = []
    for record, ids in zip(
        documents.to_dict("records"),
        encoding.encode_batch(documents[TEXT].tolist(), disallowed_special=()),
    ):
        starts = range(0, max(len(ids) - overlap, 1), step) if len(ids) > max_tokens else [0]
        for number, start in enumerate(starts):
            piece = encoding.decode(ids[start : start + max_tokens]).strip()
            if piece:
                rows.append({**record, CHUNK: number, TEXT: piece})
    return pd.DataFrame(rows, columns=documents.columns)
