"""Embeddings: load a corpus, embed it (batched, cached, cancellable), search it, map it, export it.

Built for 100k-row corpora: each step is kept per session under a key made of its inputs
(no hashing of the corpus on every run), so a rerun that changes nothing recomputes nothing.
The search (queries and matches), the map and the exports are fragments: editing a query or
clicking Search reruns only the search part, then the map and exports rerun once the browser
has painted the matches. An embed runs on its own thread: it goes on while the user is on another page.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from components.after_paint import after_paint
from components.connection import current_connection, get_client
from components.embedding_map import corpus_map
from components.errors import show_exception
from components.history import record_run
from components.match_table import MatchSection, TextTable, load_matches_style, matches_html, reveal_next_on_click, with_next
from components.models import model_picker
from components.plain import inert, plain
from components.state import kept_until, owned
from components.workspace import current_workspace, unidentified_session
from playground.embeddings import batching, corpus, export, projection, search
from playground.embeddings.background import EmbedJob
from playground.embeddings.cache import EmbeddingCache, default_path, provider_key
from playground.embeddings.corpus import TEXT, CorpusError
from playground.tokens import encoding_name_for_model, get_encoding

st.title("Embeddings")
st.caption(
    "Search a corpus by meaning: embed its texts, then find the rows closest to a query. "
    "Embeddings are cached on this machine, so running again pays only for new texts."
)


KEYS = owned(
    "emb", "embeddings", source="Sample", paste="", columns=None, chunking=False, chunk_tokens=256, overlap=32,
    dimensions=None, truncate=True, queries="", k=5, threshold=0.0, map_method=projection.PCA,
    colour_by="k-means cluster", clusters=8, filter_column=None, filter_values=[], filter_contains="",
)
NO_FILTER = "(no filter)"
MATCH_CHARS = 400  # of a cell in the matches' tables
CATEGORIES_UP_TO = 200  # a column with at most this many values is filtered by picking them, else by "contains"
NEXT_WAIT_S = 1.0  # for the applied query's matches, in the run that applied it (locally: tens of ms)


def memo(name: str, key: Any, compute: Callable[[], Any]) -> Any:
    return kept_until(f"_emb_memo:{name}", key, compute)


@st.cache_resource(show_spinner=False)
def _cache(path: str) -> EmbeddingCache:
    return EmbeddingCache(Path(path))


def _embedding_cache() -> EmbeddingCache:
    """One cache per workspace and data directory (tests give each app its own); a request
    the identity header should name but does not gets a cache of its own session."""
    return _cache(str(default_path(current_workspace() or unidentified_session())))


def _uploaded(label: str, types: list[str], key: str) -> tuple[str, Any, Callable[[], bytes]] | None:
    """(name, identity, read) of the upload, or of the one kept from before a page switch.
    An oversized file is refused before it is read."""
    fresh = key not in st.session_state  # the widget was not drawn last run: a page switch
    upload = st.file_uploader(label, type=types, key=key, help=f"Up to {corpus.MAX_UPLOAD_MB} MB.")
    held = f"{key}:kept"
    if upload is None:
        if not fresh:  # the user removed the file
            st.session_state.pop(held, None)
        if st.session_state.get(held):
            name, identity = st.session_state[held]
            st.caption(f"Using “{name}”, uploaded earlier. Upload another file to replace it.")
            return name, identity, lambda: b""
        return None
    try:
        corpus.check_size(upload.name, upload.size)
    except CorpusError as exc:
        st.error(inert(exc), icon=":material/block:")
        return None
    identity = (upload.name, upload.file_id, upload.size)
    st.session_state[held] = (upload.name, identity)
    return upload.name, identity, upload.getvalue


# ---------------------------------------------------------------------------- 1. the corpus
st.subheader("1. Corpus")


def _keep_a_source() -> None:
    """A click on the selected segment unselects it: keep the last choice instead."""
    chosen = st.session_state.get(KEYS.key("source"))
    if chosen is None:
        st.session_state[KEYS.key("source")] = st.session_state.get("_emb_source_last", "Sample")
    else:  # noted here too: a click may come before the run it started has drawn anything
        st.session_state["_emb_source_last"] = chosen


source = KEYS.widget(
    st.segmented_control, "Corpus", "source", options=["Sample", "Upload", "Paste", "Saved embeddings"],
    label_visibility="collapsed", on_change=_keep_a_source,
) or st.session_state.get("_emb_source_last", "Sample")
st.session_state["_emb_source_last"] = source
loaded: corpus.LoadedCorpus | None = None
saved: export.SavedEmbeddings | None = None
corpus_key: Any = None
try:
    if source == "Sample":
        corpus_key = ("sample",)
        loaded = memo("corpus:sample", corpus_key, corpus.read_sample)
        st.caption(f"{len(loaded.frame)} short descriptions of Python standard-library functions (PSF license).")
    elif source == "Upload":
        upload = _uploaded("CSV, TSV, JSONL or TXT", list(corpus.FORMATS) + ["ndjson"], "emb_upload")
        if upload:
            name, corpus_key, read = upload
            loaded = memo("corpus:upload", corpus_key, lambda: corpus.read_upload(name, read()))
    elif source == "Paste":
        pasted = KEYS.widget(st.text_area, "One document per line, or per paragraph", "paste", height=150)
        if pasted.strip():
            corpus_key = ("paste", pasted)
            loaded = memo("corpus:paste", corpus_key, lambda: corpus.read_pasted(pasted))
    elif source == "Saved embeddings":
        upload = _uploaded("An embeddings export of this page (CSV or Parquet)", list(export.SAVED_FORMATS), "emb_saved")
        if upload:
            name, corpus_key, read = upload
            saved = memo("corpus:saved", corpus_key, lambda: export.load_saved(name, read()))
except CorpusError as exc:
    st.error(inert(exc), icon=":material/block:")
    loaded = saved = None

for note in loaded.notes if loaded else []:
    st.warning(inert(note))

connection = current_connection()
provider = provider_key(connection)


def set_index(signature: Any, documents: pd.DataFrame, matrix: np.ndarray, model: str | None, dimensions: int | None, partial: bool) -> dict:
    index = {
        "signature": signature, "documents": documents.reset_index(drop=True), "matrix": search.normalize(matrix),
        "model": model, "dimensions": dimensions, "provider": provider, "partial": partial,
    }
    st.session_state["emb_index"] = index
    st.session_state.pop("emb_results", None)
    return index


if saved is not None:
    signature = ("saved", corpus_key)
    index = st.session_state.get("emb_index")
    if index is None or index["signature"] != signature:
        set_index(signature, saved.documents, saved.matrix, saved.model, None, False)
    st.success(
        f"Loaded {len(saved.matrix):,} embeddings of {saved.matrix.shape[1]} dimensions"
        + (f" made with **{plain(saved.model)}**" if saved.model else "")
        + ". Nothing is sent to embed them again; each search embeds only its queries."
    )

documents: pd.DataFrame | None = None
documents_key: Any = None
if loaded is not None:
    st.dataframe(loaded.frame.head(200), height=200, hide_index=True)
    def text_columns() -> tuple[list[str], list[str]]:
        found = corpus.text_columns(loaded.frame)
        return found, corpus.default_text_columns(loaded.frame, found)

    candidates, defaults = memo("columns", corpus_key, text_columns)
    if not candidates:
        st.error("No column of this corpus holds text. Upload a file with a column of text (a header row, then one text per row).")
    else:
        chosen = KEYS.get("columns")
        if chosen is None or not set(chosen) <= set(candidates):
            KEYS.put("columns", defaults)
        columns = KEYS.widget(st.multiselect, "Text to embed: column(s), joined in this order", "columns", options=candidates)
        c1, c2, c3 = st.columns([2, 1, 1])
        chunking = KEYS.widget(c1.toggle, "Split long texts into chunks", "chunking")
        chunk_tokens = KEYS.widget(c2.number_input, "Tokens a chunk", "chunk_tokens", min_value=16, max_value=8192, step=16, disabled=not chunking)
        overlap = KEYS.widget(c3.number_input, "Overlap (tokens)", "overlap", min_value=0, max_value=4096, step=8, disabled=not chunking)
        documents_key = (corpus_key, tuple(columns), bool(chunking), int(chunk_tokens), int(overlap))

        def build() -> tuple[pd.DataFrame, int, int]:
            built = corpus.build_documents(loaded.frame, columns)
            frame = built.frame
            if chunking:
                frame = corpus.chunk_documents(frame, get_encoding("o200k_base"), int(chunk_tokens), int(overlap))
            return frame, built.dropped_empty, len(built.frame)

        try:
            documents, dropped, texts_before_chunking = memo("documents", documents_key, build)
            if dropped:
                st.warning(f"{dropped:,} row{'s' if dropped > 1 else ''} with no text in the chosen column(s) will not be embedded.")
            if chunking:
                st.caption(f"{texts_before_chunking:,} texts → {len(documents):,} chunks of at most {int(chunk_tokens)} tokens (o200k_base).")
        except CorpusError as exc:
            st.error(inert(exc), icon=":material/block:")
            documents = None


# ---------------------------------------------------------------------------- 2. embed
def follow(job: EmbedJob) -> None:
    """Show the job's progress until it ends (a page switch interrupts this, not the job)."""
    bar = st.progress(0.0, text="Starting…")
    waits = st.empty()
    while True:
        p = job.progress
        bar.progress(p.done_texts / max(p.total_texts, 1), text=f"{p.done_texts:,} / {p.total_texts:,} texts · {p.requests} request(s)")
        if job.waiting:
            seconds, attempt = job.waiting
            waits.warning(f"Rate limited (429): waiting {seconds:.1f} s before retry {attempt} of {batching.MAX_RETRIES}.", icon=":material/hourglass:")
        else:
            waits.empty()
        if job.wait(0.15):
            break
    bar.empty()
    waits.empty()


def report(job: EmbedJob, *, away: bool) -> None:
    """How the job ended, and the index made of what it embedded."""
    about, result = job.about, job.result
    if not job.reported:
        job.reported = True
        st.session_state["emb_cache_generation"] = st.session_state.get("emb_cache_generation", 0) + 1
        if result is not None and result.done.any():
            matrix, done = result.matrix()
            set_index(about["signature"], about["documents"].iloc[done], matrix, about["model"], about["dimensions"], not result.complete)
    where = " while this page was not showing it" if away else ""
    if job.error is not None:
        show_exception(job.error)
        st.info(
            f"The embedding stopped{where}: {job.progress.done_texts:,} of {job.progress.total_texts:,} texts "
            "were embedded and are kept in the cache. Embed again to send only the rest.",
            icon=":material/save:",
        )
    elif result is not None and result.cancelled:
        st.info(
            f"Cancelled. {int(result.done.sum()):,} of {len(result.done):,} texts are embedded and kept in the cache; "
            "Embed again to send only the rest.",
            icon=":material/stop:",
        )
    elif result is not None:
        waited = f", waited {sum(result.waits):.1f} s on {len(result.waits)} rate limit(s)" if result.waits else ""
        st.success(
            (f"Finished{where}. " if away else "")
            + f"Embedded {result.embedded:,} new text(s) in {result.requests:,} request(s); "
            f"{result.from_cache:,} came from the cache{waited}."
        )


if documents is not None and len(documents):
    st.subheader("2. Embed")
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        info = model_picker("embeddings", key="emb_model")
    dimensions = None
    if info is not None and info.dimensions and not info.fixed_dimensions:
        if KEYS.get("dimensions") is not None and KEYS.get("dimensions") > info.dimensions:
            KEYS.put("dimensions", None)  # another model's, too many for this one
        dimensions = KEYS.widget(
            c2.number_input, "Dimensions", "dimensions", min_value=1, max_value=info.dimensions, placeholder=f"{info.dimensions} (model's)",
            help="Shorter vectors (text-embedding-3 and the local model): cheaper to store and search.",
        )
    truncate = KEYS.widget(c3.toggle, "Truncate over-long texts", "truncate", help="Else they are refused with a message.")
    if info is not None:
        limit = min(info.context_window or batching.MAX_INPUT_TOKENS, batching.MAX_INPUT_TOKENS)
        signature = (documents_key, provider, info.id, dimensions, bool(truncate))
        cache = _embedding_cache()
        try:
            inputs = memo("inputs", (documents_key, info.encoding, limit, bool(truncate)),
                          lambda: batching.prepare_inputs(documents[TEXT].tolist(), get_encoding(info.encoding), limit, truncate))
        except batching.InputsTooLong as exc:
            st.error(inert(exc), icon=":material/block:")
            inputs = None
        if inputs is not None:
            plan = memo("plan", (signature, st.session_state.get("emb_cache_generation", 0)),
                        lambda: batching.plan(inputs, cache, provider, info.id, dimensions))
            cost = info.cost(plan.tokens_to_send)
            m = st.columns(5)
            m[0].metric("Texts", f"{len(inputs.texts):,}")
            m[1].metric("Tokens", f"{inputs.total_tokens:,}")
            m[2].metric("Already cached", f"{int(plan.cached.sum()):,}")
            m[3].metric("Requests", f"{plan.requests:,}")
            m[4].metric("Cost", "free" if info.input_price == 0 else ("unknown" if cost is None else f"${cost:,.4f}"))
            if inputs.truncated:
                st.warning(f"{len(inputs.truncated):,} text(s) are longer than {limit:,} tokens and will be cut to that length. Turn on chunking to keep all of their text.")
            st.caption(
                f"{len(plan.todo):,} distinct text(s) to send, {info.encoding} tokens, in requests of at most "
                f"{batching.MAX_INPUTS:,} inputs and {batching.MAX_REQUEST_TOKENS:,} tokens."
            )

            job: EmbedJob | None = st.session_state.get("emb_job")
            b1, b2, _ = st.columns([1, 1, 4])
            embed_clicked = b1.button("Embed", type="primary", key="emb_embed", icon=":material/play_arrow:",
                                      disabled=job is not None and job.running)
            if b2.button("Cancel", key="emb_cancel", icon=":material/stop:", help="Stops after the request in flight; what is done is kept.") and job is not None:
                job.cancel()
            if embed_clicked:
                client, model = get_client(), info.id
                job = EmbedJob(
                    lambda cancelled, progress, wait: batching.embed_texts(
                        client, model, inputs, dimensions=dimensions, cache=cache, provider=provider,
                        should_cancel=cancelled, on_progress=progress, on_wait=wait,
                    ),
                    len(inputs.texts), signature=signature, documents=documents, model=model, dimensions=dimensions,
                ).start()
                st.session_state["emb_job"] = job
            watched = False  # did this run see the job end?
            if job is not None and job.running:
                if not embed_clicked:
                    st.info("Still embedding: it goes on while you use other pages.", icon=":material/sync:")
                follow(job)
                watched = True
            if job is not None and (not job.reported or job.about["signature"] == signature):
                report(job, away=not watched and not job.reported)
            if job is None or job.about["signature"] != signature:
                index = st.session_state.get("emb_index")
                if plan.cached.any() and (index is None or index["signature"] != signature):
                    # Everything (or part) is in the cache already: searchable without a request.
                    known = np.flatnonzero(plan.cached)
                    matrix, _ = cache.get_matrix(provider, info.id, dimensions, [plan.digests[i] for i in known])
                    set_index(signature, documents.iloc[known], matrix, info.id, dimensions, bool(plan.todo))


def _ask_to_clear_cache() -> None:
    st.session_state["_emb_cache_confirm"] = True


def _clear_cache() -> None:
    _embedding_cache().clear()
    st.session_state.pop("_emb_cache_confirm", None)
    st.session_state["_emb_cache_cleared"] = True
    st.session_state["emb_cache_generation"] = st.session_state.get("emb_cache_generation", 0) + 1


def cache_section() -> None:
    """Where the disk cache is, how big, and a Clear that asks first."""
    cache = _embedding_cache()
    with st.expander("Embeddings cache on disk", expanded=bool(st.session_state.get("_emb_cache_confirm"))):
        st.caption(
            f"`{cache.path}` · {cache.size_bytes() / 1e6:,.1f} MB. Yours: shared by your sessions, not by other users of a team server; "
            "vectors are reused whenever the same text is embedded with the same model and dimensions."
        )
        if st.session_state.pop("_emb_cache_cleared", False):
            st.success("Cleared: the next embed sends every text again.")
        if st.session_state.get("_emb_cache_confirm"):
            st.warning("Delete every cached embedding (for every corpus and model)? Embedding them again is paid again.")
            b1, b2, _ = st.columns([1, 1, 3])
            b1.button("Delete them", key="emb_cache_clear_confirm", type="primary", on_click=_clear_cache)
            b2.button("Keep them", key="emb_cache_keep", on_click=lambda: st.session_state.pop("_emb_cache_confirm", None))
        else:
            st.button("Clear the cache…", key="emb_cache_clear", icon=":material/delete:", on_click=_ask_to_clear_cache)


if documents is not None and len(documents):
    cache_section()


# ---------------------------------------------------------------------------- 3. search
def hidden_columns(docs: pd.DataFrame) -> list[str]:
    """Columns not worth a column in the results: bookkeeping, or a copy of the embedded text."""
    hidden = [corpus.SOURCE_ROW] if corpus.SOURCE_ROW in docs else []
    if corpus.CHUNK in docs and not docs[corpus.CHUNK].astype(bool).any():
        hidden.append(corpus.CHUNK)
    if any(c != TEXT and (docs[c].astype(str) == docs[TEXT]).all() for c in docs.columns):
        hidden.append(TEXT)  # the same as a column of the corpus
    return hidden


AFTER_MATCHES = ["emb_part_map", "emb_part_export"]  # rerun once its matches are painted


def shown_matches(rows: pd.DataFrame) -> TextTable:
    """A query's matches as the page shows them: cells as text, long texts cut (the Results
    export keeps them whole)."""
    def cell(value: Any) -> str:
        if pd.isna(value):
            return ""
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        return text if len(text) <= MATCH_CHARS else text[: MATCH_CHARS - 1] + "…"

    return TextTable(
        [str(c) for c in rows.columns], rows.map(cell).to_numpy().tolist(),
        [pd.api.types.is_numeric_dtype(rows[c]) for c in rows.columns],
    )


def matches_listing(table: pd.DataFrame, queries: list[str], hits: list[list[search.Hit]], hidden: list[str],
                    notes: list[str] = ()) -> str:
    """Every query's heading and matches, in the order of the queries, as one HTML element;
    `table` is the search's results table, without the `hidden` columns here."""
    return matches_html(notes=notes, sections=[
        MatchSection(
            query, f"{len(hits)} match{'es' if len(hits) != 1 else ''}",
            shown_matches(table[table["query"] == query].drop(columns=["query", *hidden])) if hits else None,
            "No row reaches the minimum similarity. Lower it, or rephrase the query.",
        )
        for query, hits in zip(queries, hits)
    ])


def shown_columns_hidden(index: dict) -> list[str]:
    """hidden_columns of the corpus, found once per corpus, before its first search (100k rows
    take tens of ms)."""
    return memo("hidden_columns", index["signature"], lambda: hidden_columns(index["documents"]))


def repeated_texts(index: dict) -> dict[str, int]:
    """Texts found in more than one row, with their number of rows: counted once per corpus,
    before its first search (100k texts take tens of ms)."""
    def count() -> dict[str, int]:
        counts = index["documents"][TEXT].value_counts()
        return {str(text): int(n) for text, n in counts[counts > 1].items()}

    return memo("repeated_texts", index["signature"], count)


def filterable_columns(index: dict) -> dict[str, list[str] | None]:
    """Columns to filter by: their values when few, None when filtered by "contains"."""
    docs = index["documents"]
    return memo("filterable", index["signature"], lambda: {
        c: sorted(docs[c].dropna().astype(str).unique().tolist()) if docs[c].nunique() <= CATEGORIES_UP_TO else None
        for c in docs.columns if c not in (TEXT, corpus.SOURCE_ROW)
    })


def row_filter(filterable: dict[str, list[str] | None]) -> tuple[Callable[[pd.Series], pd.Series] | None, str]:
    """(which rows of the filter column to keep, said in words) from the filter widgets' values."""
    column = KEYS.get("filter_column")
    if column == NO_FILTER or column not in filterable:
        return None, ""
    if filterable[column] is not None:
        chosen = KEYS.get("filter_values") or []
        if chosen:
            return (lambda values: values.astype(str).isin(chosen)), f"{column} is {', '.join(chosen)}"
        return None, ""
    contains = KEYS.get("filter_contains")
    if contains:
        return (lambda values: values.astype(str).str.contains(contains, case=False, regex=False)), f"{column} contains “{contains}”"
    return None, ""


def search_request(index: dict) -> tuple | None:
    """What Search would ask, from the query part's widgets (None without a query): two equal
    requests find the same matches."""
    queries = tuple(q.strip() for q in KEYS.get("queries").splitlines() if q.strip())
    if not queries:
        return None
    column = KEYS.get("filter_column")
    return (index["signature"], provider, index["model"], index["dimensions"], queries, int(KEYS.get("k")),
            float(KEYS.get("threshold")), column, tuple(KEYS.get("filter_values") or ()), KEYS.get("filter_contains"))


def matcher(index: dict) -> Callable[[], dict]:
    """The search of the widgets' current request, as a function that touches no session state:
    it runs on the prefetch thread as well as in the click."""
    docs, model = index["documents"], index["model"]
    queries = [q.strip() for q in KEYS.get("queries").splitlines() if q.strip()]
    k, threshold = int(KEYS.get("k")), float(KEYS.get("threshold"))
    keep, about_filter = row_filter(filterable_columns(index))
    column = KEYS.get("filter_column")
    searcher = memo("searcher", index["signature"], lambda: search.Searcher(index["matrix"]))
    repeated, hidden = repeated_texts(index), shown_columns_hidden(index)
    client, cache = get_client(), _embedding_cache()

    def find_matches() -> dict:
        q_inputs = batching.prepare_inputs(queries, get_encoding(encoding_name_for_model(model)))
        q_result = batching.embed_texts(client, model, q_inputs, dimensions=index["dimensions"], cache=cache, provider=provider)
        q_matrix = search.normalize(q_result.matrix()[0])
        least = threshold if threshold > 0 else None
        if keep is None:
            available = len(index["matrix"])

            def find(n: int) -> list[list[search.Hit]]:
                return searcher.top_k(q_matrix, n, least)
        else:  # exact search among the rows the filter keeps
            kept = np.flatnonzero(keep(docs[column]).to_numpy())
            subset, available = index["matrix"][kept], len(kept)

            def find(n: int) -> list[list[search.Hit]]:
                found = search.top_k(subset, q_matrix, n, least)
                return [[search.Hit(int(kept[h.position]), h.similarity) for h in hs] for hs in found]

        texts = docs[TEXT].array  # read by position, a few per search (to_numpy copies 100k strings)
        hits = search.top_k_distinct(find, texts, k, available)
        copies = [[repeated.get(texts[h.position], 1) for h in hs] for hs in hits]
        table = export.results_frame(docs, queries, hits, copies)  # shown, and exported as is
        notes = [f"Only rows where {about_filter}."] * bool(about_filter)
        if any(c > 1 for cs in copies for c in cs):
            notes.append("A text found in several rows is shown once, with its number of copies under “duplicates”.")
        return {
            "queries": queries, "vectors": q_matrix, "hits": hits,
            "table": table, "listing": matches_listing(table, queries, hits, hidden, notes),  # made here: Search only sends them
            "history": {  # saved once the matches are drawn
                "model": model, "request": {"model": model, "input": queries, "k": k, "threshold": threshold},
                "response": {"hits": [[{"row": int(h.position), "similarity": float(h.similarity), "text": str(texts[h.position])[:500]} for h in hs] for hs in hits]},
            },
        }

    return find_matches


@st.cache_resource(show_spinner=False)
def _prefetcher() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="embeddings-prefetch")


def prefetch(index: dict) -> None:
    """Once a query is applied (Ctrl+Enter, or leaving the box), find its matches on a thread,
    so that Search only has to show them. Only an applied query is sent, as Search would."""
    request = search_request(index)
    held = st.session_state.get("_emb_prefetch")
    if request is not None and index["model"] and (held is None or held[0] != request):
        st.session_state["_emb_prefetch"] = (request, _prefetcher().submit(matcher(index)))


def run_search() -> None:
    """The Search click: the matches (found already if the query was applied before the
    click). The click's own run, of the search part, then shows them: one run, so the
    browser redraws the page once before painting them; the history, the map and the
    exports come after."""
    index = st.session_state["emb_index"]
    st.session_state.pop("_emb_search_error", None)
    try:
        request = search_request(index)
        if request is None:
            raise ValueError("Type a query first (one per line), then search.")
        if not index["model"]:
            raise ValueError("This embeddings file does not say which model made it, so queries cannot be embedded to match. Export embeddings again from this page.")
        held = st.session_state.get("_emb_prefetch")
        if held is not None and held[0] == request and not (held[1].done() and held[1].exception()):
            found = held[1].result()
        else:  # typed and clicked at once, or the prefetch failed: search now
            found = matcher(index)()
        serial = st.session_state.get("emb_search_serial", 0) + 1
        st.session_state["emb_search_serial"] = serial
        st.session_state["_emb_unsaved_search"] = found["history"]
        st.session_state["emb_results"] = {key: value for key, value in found.items() if key != "history"} | {"serial": serial, "request": request}
    except Exception as exc:  # shown by the search part in the click's run
        st.session_state["_emb_search_error"] = exc


def show_the_rest() -> None:
    """The matches are on screen: now redraw the map and the exports with them (unless the
    map has drawn this search already, in a rerun of the whole page)."""
    results = st.session_state.get("emb_results")
    if results and st.session_state.get("_emb_map_serial") != results["serial"]:
        try:
            st.rerun(AFTER_MATCHES)
        except StreamlitAPIException:  # their parts are gone: the user left the page before the signal came
            pass


@st.fragment(key="emb_part_search")
def search_section() -> None:
    """Queries, how many matches, filters, Search and the last search's matches: editing
    the queries or clicking Search reruns this part only. One part for both: a Search
    click is one run (a click in a part of its own that reran the matches' part was two
    runs, each redrawn by the browser before the matches were painted), and a click that
    also applies the box's text (typed, then Search) searches that text."""
    index = st.session_state["emb_index"]
    prefetch(index)  # the applied query's matches, sent hidden with the current ones: Search shows them at once
    widgets = st.container()  # above the matches, but filled after them: the browser gets and paints
    show_matches(index, next_matches())  # the matches first, before it redraws the widgets the run sends again
    with widgets:
        KEYS.widget(st.text_area, "Queries, one per line", "queries", height=90, placeholder="parse a JSON document")
        c1, c2 = st.columns(2)
        KEYS.widget(c1.slider, "Matches per query", "k", min_value=1, max_value=50)
        KEYS.widget(c2.slider, "Minimum similarity", "threshold", min_value=0.0, max_value=1.0, step=0.01,
                    help="0 shows the top matches whatever their similarity.")
        filterable = filterable_columns(index)
        if KEYS.get("filter_column") not in [NO_FILTER, *filterable]:
            KEYS.put("filter_column", NO_FILTER)  # a column of another corpus
        f1, f2 = st.columns([1, 2])
        filter_column = KEYS.widget(f1.selectbox, "Only rows where", "filter_column", options=[NO_FILTER, *filterable])
        if filter_column != NO_FILTER and filterable[filter_column] is not None:
            values = filterable[filter_column]
            if not set(KEYS.get("filter_values") or []) <= set(values):
                KEYS.put("filter_values", [])
            KEYS.widget(f2.multiselect, f"{filter_column} is one of", "filter_values", options=values)
        elif filter_column != NO_FILTER:
            KEYS.widget(f2.text_input, f"{filter_column} contains", "filter_contains")
        st.button("Search", type="primary", key="emb_search", icon=":material/search:", on_click=run_search)
        reveal_next_on_click(".st-key-emb_search button", key="emb_reveal")  # (Streamlit's class for a keyed element)
        prefetch(index)  # again: the widgets may have dropped a filter of another corpus


def next_matches() -> str | None:
    """The listing Search would show when it is not the one on screen: the applied query's
    matches, found on the prefetch thread (waited for up to NEXT_WAIT_S). None when not
    found in time or not found at all: Search then searches, and says what went wrong."""
    held, results = st.session_state.get("_emb_prefetch"), st.session_state.get("emb_results")
    if held is None or (results and results.get("request") == held[0]):
        return None
    try:
        return held[1].result(timeout=NEXT_WAIT_S)["listing"]
    except Exception:  # noqa: BLE001 - a slow or failed prefetch only means no listing ahead
        return None


def typed_boxes(index: dict) -> list[tuple[str, str]]:
    """The search part's text boxes on screen as (CSS selector, applied text): a click on
    Search also applies what was typed into them since."""
    boxes = [(f".st-key-{KEYS.key('queries')} textarea", KEYS.get("queries"))]
    column = KEYS.get("filter_column")
    if column != NO_FILTER and filterable_columns(index).get(column, ()) is None:  # filtered by "contains"
        boxes.append((f".st-key-{KEYS.key('filter_contains')} input", KEYS.get("filter_contains") or ""))
    return boxes


def show_matches(index: dict, following: str | None = None) -> None:
    """The last search's matches (with, hidden, the `following` ones that a Search click shows
    in the browser), then (once the browser has painted them) the map and the exports rerun
    with them (show_the_rest)."""
    error = st.session_state.pop("_emb_search_error", None)
    if isinstance(error, ValueError):
        st.error(inert(error), icon=":material/block:")
    elif error is not None:
        show_exception(error)
    results = st.session_state.get("emb_results")
    if results or following:  # one element: the headings and their tables are painted in one frame
        st.html(with_next(results["listing"] if results else "", following, typed_boxes(index)))
    if not results:
        return
    drawn = st.session_state.get("_emb_map_serial") == results["serial"]
    after_paint(None if drawn else results["serial"], show_the_rest, key="emb_after_matches")
    unsaved = st.session_state.pop("_emb_unsaved_search", None)
    if unsaved:
        record_run(endpoint="embeddings", **unsaved)


@st.fragment(key="emb_part_map")
def map_section() -> None:
    index = st.session_state["emb_index"]
    docs = index["documents"]
    c1, c2, c3 = st.columns(3)
    method = KEYS.widget(c1.selectbox, "Projection", "map_method", options=projection.available_methods())
    missing = projection.missing_methods()
    if missing:
        c1.caption(
            f"{' and '.join(missing)} need{'s' if len(missing) == 1 else ''} extra packages: "
            f"`pip install {' '.join(missing.values())}`, then restart the app."
        )
    colourable = memo("colourable", index["signature"], lambda: [
        c for c in docs.columns if c not in (TEXT, corpus.SOURCE_ROW) and 1 < docs[c].nunique() <= 30
    ])
    if KEYS.get("colour_by") not in ["k-means cluster", *colourable]:
        KEYS.put("colour_by", "k-means cluster")  # a column of another corpus
    colour_by = KEYS.widget(c2.selectbox, "Colour by", "colour_by", options=["k-means cluster", *colourable])
    clusters = KEYS.widget(c3.slider, "Clusters", "clusters", min_value=2, max_value=20, disabled=colour_by != "k-means cluster")
    results = st.session_state.get("emb_results")
    with st.spinner(f"Projecting with {method}…"):
        shown = corpus_map(index, results, method=method, colour_by=colour_by, clusters=int(clusters), key="emb_map_chart")
    st.session_state["_emb_map_serial"] = results["serial"] if results else None
    if shown < len(index["matrix"]):
        st.caption(f"{shown:,} of {len(index['matrix']):,} points shown (evenly sampled, matches always included).")


@st.fragment(key="emb_part_export")
def export_section() -> None:
    """Downloads of the embeddings and of the last search's results (built only when clicked)."""
    index = st.session_state["emb_index"]
    c1, c2, c3, c4 = st.columns(4)

    def embeddings_table() -> pd.DataFrame:
        return export.embeddings_frame(index["documents"], index["matrix"], index["model"] or "")

    c1.download_button("Embeddings (CSV)", lambda: export.to_csv(embeddings_table()), "embeddings.csv", "text/csv", key="emb_dl_csv", on_click="ignore")
    c2.download_button("Embeddings (Parquet)", lambda: export.to_parquet(embeddings_table()), "embeddings.parquet", "application/vnd.apache.parquet", key="emb_dl_parquet", on_click="ignore")
    results = st.session_state.get("emb_results")
    if results:
        table = results["table"]
        c3.download_button("Results (CSV)", lambda: export.to_csv(table), "search_results.csv", "text/csv", key="emb_dl_results_csv", on_click="ignore")
        c4.download_button("Results (Parquet)", lambda: export.to_parquet(table), "search_results.parquet", "application/vnd.apache.parquet", key="emb_dl_results_parquet", on_click="ignore")


index = st.session_state.get("emb_index")
if index is not None and len(index["matrix"]):
    st.subheader("3. Search")
    st.caption(f"{len(index['matrix']):,} texts embedded with **{plain(index['model'] or 'an unknown model')}**.")
    if len(index["matrix"]) >= search.APPROXIMATE_FROM:
        st.caption("Searched with an approximate index (faiss IVF): the best matches, found among the nearest "
                   "cells of the corpus; `python -m bench.bench_ann` measures its recall against exact search.")
    if index.get("partial"):
        st.info(f"Searching the {len(index['matrix']):,} texts embedded so far. Embed to add the rest.")
    repeated_texts(index)  # now, not in the first search
    shown_columns_hidden(index)
    load_matches_style()
    search_section()

    st.subheader("4. Map")
    map_section()

    st.subheader("5. Export")
    export_section()
    st.caption("Load an embeddings export back under Corpus → Saved embeddings to search it again without paying for it.")
