"""The Embeddings page under AppTest, on the session's real engine."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Callable

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from playground.embeddings import corpus, export, search
from playground.embeddings.corpus import TEXT
from tests.conftest import recorded_requests

PAGE = "app_pages/embeddings.py"


def texts_of(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


class _Listing(HTMLParser):
    """The text a browser shows of the matches' HTML: its paragraphs, and its tables' cells
    (entities decoded, tags gone: what a user reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._text: list[str] | None = None
        self._hidden = 0  # open divs of the hidden next listing

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "div" and (self._hidden or "playground-next" in (dict(attrs).get("class") or "")):
            self._hidden += 1  # the next search's listing: hidden until Search
        if self._hidden:
            return
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("p", "th", "td"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._hidden:
            self._hidden -= tag == "div"
            return
        if tag in ("th", "td"):
            self.tables[-1][-1].append("".join(self._text))
        elif tag == "p":
            self.paragraphs.append("".join(self._text))
        if tag in ("p", "th", "td"):
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def matches_listing(at: AppTest) -> _Listing:
    """The matches as drawn (one HTML element: every query's heading, then its table)."""
    listings = [h.proto.body for h in at.get("html") if 'class="playground-matches"' in h.proto.body]
    assert len(listings) <= 1
    parsed = _Listing()
    parsed.feed(listings[0] if listings else "")
    return parsed


def results_tables(at: AppTest) -> list[pd.DataFrame]:
    """The matches' tables as a user reads them, similarity as numbers."""
    tables = []
    for header, *rows in matches_listing(at).tables:
        table = pd.DataFrame(rows, columns=header)
        tables.append(table.assign(similarity=table["similarity"].astype(float)))
    return tables


def test_sample_corpus_embed_then_search_shows_rows(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app(PAGE)
    shown = metrics(at)
    assert shown["Texts"] == "290" and shown["Cost"] == "free" and shown["Requests"] == "1"
    before = len(recorded_requests(engine_url, "/embeddings"))
    at.button(key="emb_embed").click().run()
    assert not at.exception, [e.message for e in at.exception]
    sent = recorded_requests(engine_url, "/embeddings")[before:]
    assert len(sent) == 1 and sent[0]["body"]["model"] == "local-embedding"
    sample = corpus.read_sample().frame
    assert set(sent[0]["body"]["input"]) == set(sample["text"])
    assert any("Embedded 278 new text(s) in 1 request(s)" in s for s in texts_of(at, "success"))

    at.text_area(key="emb_queries").input("decode a JSON document\nconnect a socket to an address").run()
    at.button(key="emb_search").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert recorded_requests(engine_url, "/embeddings")[-1]["body"]["input"] == [
        "decode a JSON document", "connect a socket to an address"
    ]
    tables = results_tables(at)
    assert len(tables) == 2 and all(len(t) == 5 for t in tables)
    assert tables[0]["title"].str.startswith("json.").any()
    assert tables[1]["category"].iloc[0] == "networking"
    assert (tables[0]["similarity"].diff().dropna() <= 0).all()
    # The map follows once the browser has painted the matches (a signal AppTest cannot send):
    # the page's next run draws it with the queries on it.
    at.run()
    assert any("query 2: connect a socket" in chart.proto.spec for chart in at.get("plotly_chart"))

    # Running again costs nothing: everything is cached.
    at.run()
    assert metrics(at)["Already cached"] == "290" and metrics(at)["Requests"] == "0"
    before = len(recorded_requests(engine_url, "/embeddings"))
    at.button(key="emb_embed").click().run()
    assert len(recorded_requests(engine_url, "/embeddings")) == before
    assert any("0 new text(s) in 0 request(s); 278 came from the cache" in s for s in texts_of(at, "success"))


def test_threshold_hides_weak_matches(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    at.button(key="emb_embed").click().run()
    at.text_area(key="emb_queries").input("zebra giraffe savanna").run()
    at.slider(key="emb_threshold").set_value(0.9).run()
    at.button(key="emb_search").click().run()
    shown = matches_listing(at).paragraphs
    assert shown[0] == "zebra giraffe savanna — 0 matches" and not results_tables(at)
    assert "No row reaches the minimum similarity" in shown[1]


def test_pasted_text_with_dimensions(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app(PAGE)
    at.segmented_control(key="emb_source").set_value("Paste").run()
    at.text_area(key="emb_paste").input("The cat sat on the mat.\nStocks fell sharply today.\nA cat was sitting on a mat.").run()
    at.number_input(key="emb_dimensions").set_value(64).run()
    assert metrics(at)["Texts"] == "3"
    at.button(key="emb_embed").click().run()
    body = recorded_requests(engine_url, "/embeddings")[-1]["body"]
    assert body["dimensions"] == 64 and len(body["input"]) == 3
    at.text_area(key="emb_queries").input("a cat on a mat").run()
    at.button(key="emb_search").click().run()
    table = results_tables(at)[0]
    assert "Stocks fell sharply today." not in table.iloc[:2]["text"].tolist()


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.segmented_control(key="emb_source").set_value("Upload").run()
    at.file_uploader(key="emb_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_bad_uploads_show_a_message_and_keep_the_page(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    assert "is empty" in " ".join(texts_of(upload(at, "empty.csv", b""), "error"))
    assert "holds text" in " ".join(texts_of(upload(at, "numbers.csv", b"a,b\n1,2\n3,4\n"), "error"))
    assert "not UTF-8" in " ".join(texts_of(upload(at, "bad.csv", b"text\n\x81\x8d\x90\n"), "error"))
    assert "up to 50 MB" in " ".join(texts_of(upload(at, "big.csv", b"x" * (50 * 1024 * 1024 + 1)), "error"))
    assert not at.metric  # nothing to embed from a refused file

    at = upload(at, "win.csv", "title,text\nA,café crème\nB,\nC,naïve\n".encode("cp1252"))
    assert "Windows-1252" in " ".join(texts_of(at, "warning"))
    assert "1 row with no text" in " ".join(texts_of(at, "warning"))
    assert metrics(at)["Texts"] == "2"


def test_saved_embeddings_load_and_search_without_embedding_the_corpus(open_app: Callable[..., AppTest], engine_url: str) -> None:
    import openai

    from tests.conftest import TEST_KEY

    client = openai.OpenAI(base_url=engine_url, api_key=TEST_KEY, max_retries=0)
    texts = ["Open a file for reading.", "Sort a list in place.", "Send an email with SMTP."]
    vectors = np.array([d.embedding for d in client.embeddings.create(model="local-embedding", input=texts).data])
    frame = export.embeddings_frame(pd.DataFrame({TEXT: texts, "id": [1, 2, 3]}), search.normalize(vectors), "local-embedding")
    at = open_app(PAGE)
    at.segmented_control(key="emb_source").set_value("Saved embeddings").run()
    at.file_uploader(key="emb_saved").set_value(("saved.parquet", export.to_parquet(frame), "application/octet-stream")).run()
    assert any("Loaded 3 embeddings of 256 dimensions" in s for s in texts_of(at, "success"))
    before = len(recorded_requests(engine_url, "/embeddings"))
    at.text_area(key="emb_queries").input("read a file").run()
    at.button(key="emb_search").click().run()
    sent = recorded_requests(engine_url, "/embeddings")[before:]
    assert [r["body"]["input"] for r in sent] == [["read a file"]]
    table = results_tables(at)[0]
    assert table.iloc[0][TEXT] == "Open a file for reading."

    at.run()  # the search reran only its parts; AppTest's tree then holds just those, the browser keeps the rest
    at.file_uploader(key="emb_saved").set_value(("notes.csv", b"title,text\na,b\n", "text/csv")).run()
    assert "not an embeddings export" in " ".join(texts_of(at, "error"))


def test_inputs_and_the_index_survive_a_page_switch(open_app: Callable[..., AppTest]) -> None:
    at = upload(open_app(PAGE), "notes.csv", b"title,text\nA,The cat sat on the mat.\nB,Stocks fell sharply today.\nC,A dog slept.\n")
    at.multiselect(key="emb_columns").set_value(["text", "title"]).run()
    at.button(key="emb_embed").click().run()
    at.text_area(key="emb_queries").input("a cat on a mat").run()
    at.slider(key="emb_k").set_value(2).run()
    at.button(key="emb_search").click().run()

    at.switch_page("app_pages/tokenizer.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.segmented_control(key="emb_source").value == "Upload"
    assert any("“notes.csv”, uploaded earlier" in c for c in texts_of(at, "caption"))
    assert at.multiselect(key="emb_columns").value == ["text", "title"]
    assert metrics(at)["Texts"] == "3" and metrics(at)["Already cached"] == "3"
    assert at.text_area(key="emb_queries").value == "a cat on a mat" and at.slider(key="emb_k").value == 2
    table = results_tables(at)[0]
    assert len(table) == 2 and table.iloc[0]["text"] == "The cat sat on the mat."


def test_search_without_a_query_says_what_to_do(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app(PAGE)
    at.button(key="emb_embed").click().run()
    before = len(recorded_requests(engine_url, "/embeddings"))
    at.button(key="emb_search").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Type a query first" in e for e in texts_of(at, "error"))
    assert len(recorded_requests(engine_url, "/embeddings")) == before  # nothing sent


def test_matches_show_corpus_text_as_text(open_app: Callable[..., AppTest]) -> None:
    """Markup and Markdown in a corpus are shown as the characters they are, never drawn."""
    texts = ["<b>bold</b> & <script>alert(1)</script> tags", "**stars** and `ticks` and [a link](http://x)", "plain words"]
    at = open_app(PAGE)
    at.segmented_control(key="emb_source").set_value("Paste").run()
    at.text_area(key="emb_paste").input("\n".join(texts)).run()
    at.button(key="emb_embed").click().run()
    at.text_area(key="emb_queries").input("tags <i>\n**stars**").run()
    at.slider(key="emb_k").set_value(3).run()
    at.button(key="emb_search").click().run()
    assert not at.exception, [e.message for e in at.exception]
    listing = matches_listing(at)
    assert listing.paragraphs == ["tags <i> — 3 matches", "**stars** — 3 matches"]
    tables = results_tables(at)
    assert all(sorted(t["text"]) == sorted(texts) for t in tables)
    body = next(h.proto.body for h in at.get("html") if 'class="playground-matches"' in h.proto.body)
    assert "<script>" not in body and "<b>" not in body and "<i>" not in body
