"""Embeddings: load a corpus, embed it (batched, cached, cancellable), search it, map it, export it."""

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from components.connection import current_connection, get_client
from components.embedding_map import map_figure, show_map
from components.errors import show_exception
from components.history import record_run
from components.models import model_picker
from components.plain import inert, plain
from playground.embeddings import batching, corpus, export, projection, search
from playground.embeddings.cache import EmbeddingCache, default_path, provider_key, text_hash
from playground.embeddings.corpus import TEXT, CorpusError
from playground.tokens import encoding_name_for_model, get_encoding

st.title("Embeddings")
st.caption(
    "Search a corpus by meaning: embed its texts, then find the rows closest to a query. "
    "Embeddings are cached on this machine, so running again pays only for new texts."
)


@st.cache_data(show_spinner=False, max_entries=4)
def _read_upload(name: str, data: bytes) -> corpus.LoadedCorpus:
    return corpus.read_upload(name, data)


@st.cache_data(show_spinner=False, max_entries=4)
def _read_saved(name: str, data: bytes) -> export.SavedEmbeddings:
    return export.load_saved(name, data)


@st.cache_data(show_spinner=False)
def _sample() -> corpus.LoadedCorpus:
    return corpus.read_sample()


@st.cache_data(show_spinner=False, max_entries=4)
def _inputs(texts: tuple[str, ...], encoding_name: str, limit: int, truncate: bool) -> batching.Inputs:
    return batching.prepare_inputs(texts, get_encoding(encoding_name), limit, truncate)


@st.cache_resource(show_spinner=False)
def _cache(path: str) -> EmbeddingCache:
    return EmbeddingCache(Path(path))


def _embedding_cache() -> EmbeddingCache:
    """One cache per data directory (tests give each app its own)."""
    return _cache(str(default_path()))


def _uploaded(label: str, types: list[str], key: str) -> tuple[str, bytes] | None:
    """The upload's name and bytes, refusing an oversized file before reading it."""
    upload = st.file_uploader(label, type=types, key=key, help=f"Up to {corpus.MAX_UPLOAD_MB} MB.")
    if upload is None:
        return None
    try:
        corpus.check_size(upload.name, upload.size)
    except CorpusError as exc:
        st.error(inert(exc), icon=":material/block:")
        return None
    return upload.name, upload.getvalue()


# ---------------------------------------------------------------------------- 1. the corpus
st.subheader("1. Corpus")
source = st.segmented_control(
    "Corpus", ["Sample", "Upload", "Paste", "Saved embeddings"], default="Sample", key="emb_source",
    label_visibility="collapsed",
)
loaded: corpus.LoadedCorpus | None = None
saved: export.SavedEmbeddings | None = None
try:
    if source == "Sample":
        loaded = _sample()
        st.caption(f"{len(loaded.frame)} short descriptions of Python standard-library functions (PSF license).")
    elif source == "Upload":
        upload = _uploaded("CSV, TSV, JSONL or TXT", list(corpus.FORMATS) + ["ndjson"], "emb_upload")
        if upload:
            loaded = _read_upload(*upload)
    elif source == "Paste":
        pasted = st.text_area("One document per line, or per paragraph", key="emb_paste", height=150)
        if pasted.strip():
            loaded = corpus.read_pasted(pasted)
    elif source == "Saved embeddings":
        upload = _uploaded("An embeddings export of this page (CSV or Parquet)", list(export.SAVED_FORMATS), "emb_saved")
        if upload:
            saved = _read_saved(*upload)
except CorpusError as exc:
    st.error(inert(exc), icon=":material/block:")

for note in loaded.notes if loaded else []:
    st.warning(inert(note))

connection = current_connection()
provider = provider_key(connection)
index = st.session_state.get("emb_index")

if saved is not None:
    signature = ("saved", text_hash("".join(saved.documents[TEXT])), saved.matrix.shape)
    if index is None or index["signature"] != signature:
        index = {
            "signature": signature, "documents": saved.documents, "matrix": search.normalize(saved.matrix),
            "model": saved.model, "dimensions": None, "provider": provider, "partial": False,
        }
        st.session_state["emb_index"] = index
        st.session_state.pop("emb_results", None)
    st.success(
        f"Loaded {len(saved.matrix):,} embeddings of {saved.matrix.shape[1]} dimensions"
        + (f" made with **{plain(saved.model)}**" if saved.model else "")
        + ". Nothing is sent to embed them again; each search embeds only its queries."
    )

documents: pd.DataFrame | None = None
if loaded is not None:
    st.dataframe(loaded.frame.head(200), height=200, hide_index=True)
    candidates = corpus.text_columns(loaded.frame)
    if not candidates:
        st.error("No column of this corpus holds text. Upload a file with a column of text (a header row, then one text per row).")
    else:
        chosen = st.session_state.get("emb_columns")
        if chosen is None or not set(chosen) <= set(candidates):
            st.session_state["emb_columns"] = corpus.default_text_columns(loaded.frame)
        columns = st.multiselect("Text to embed: column(s), joined in this order", candidates, key="emb_columns")
        c1, c2, c3 = st.columns([2, 1, 1])
        chunking = c1.toggle("Split long texts into chunks", key="emb_chunking")
        chunk_tokens = c2.number_input("Tokens a chunk", 16, 8192, 256, step=16, key="emb_chunk_tokens", disabled=not chunking)
        overlap = c3.number_input("Overlap (tokens)", 0, 4096, 32, step=8, key="emb_overlap", disabled=not chunking)
        try:
            built = corpus.build_documents(loaded.frame, columns)
            documents = built.frame
            if built.dropped_empty:
                st.warning(f"{built.dropped_empty:,} row{'s' if built.dropped_empty > 1 else ''} with no text in the chosen column(s) will not be embedded.")
            if chunking:
                documents = corpus.chunk_documents(documents, get_encoding("o200k_base"), int(chunk_tokens), int(overlap))
                st.caption(f"{len(built.frame):,} texts → {len(documents):,} chunks of at most {int(chunk_tokens)} tokens (o200k_base).")
        except CorpusError as exc:
            st.error(inert(exc), icon=":material/block:")
            documents = None

# ---------------------------------------------------------------------------- 2. embed
if documents is not None and len(documents):
    st.subheader("2. Embed")
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        info = model_picker("embeddings", key="emb_model")
    dimensions = None
    if info is not None and info.dimensions and not info.fixed_dimensions:
        dimensions = c2.number_input(
            "Dimensions", 1, info.dimensions, value=None, key="emb_dimensions", placeholder=f"{info.dimensions} (model's)",
            help="Shorter vectors (text-embedding-3 and the local model): cheaper to store and search.",
        )
    truncate = c3.toggle("Truncate over-long texts", value=True, key="emb_truncate", help="Else they are refused with a message.")
    if info is not None:
        limit = min(info.context_window or batching.MAX_INPUT_TOKENS, batching.MAX_INPUT_TOKENS)
        try:
            inputs = _inputs(tuple(documents[TEXT]), info.encoding, limit, truncate)
        except batching.InputsTooLong as exc:
            st.error(inert(exc), icon=":material/block:")
            inputs = None
        if inputs is not None:
            cache = _embedding_cache()
            hashes = [text_hash(t) for t in inputs.texts]
            cached = cache.get_many(provider, info.id, dimensions, hashes)
            todo: dict[str, int] = {}
            for position, digest in enumerate(hashes):
                if digest not in cached:
                    todo.setdefault(digest, inputs.tokens[position])
            requests = len(batching.plan_batches(list(todo.values())))
            tokens_to_send = sum(todo.values())
            cost = info.cost(tokens_to_send)
            m = st.columns(5)
            m[0].metric("Texts", f"{len(inputs.texts):,}")
            m[1].metric("Tokens", f"{inputs.total_tokens:,}")
            m[2].metric("Already cached", f"{len(inputs.texts) - sum(1 for h in hashes if h not in cached):,}")
            m[3].metric("Requests", f"{requests:,}")
            m[4].metric("Cost", "free" if info.input_price == 0 else ("unknown" if cost is None else f"${cost:,.4f}"))
            if inputs.truncated:
                st.warning(f"{len(inputs.truncated):,} text(s) are longer than {limit:,} tokens and will be cut to that length. Turn on chunking to keep all of their text.")
            st.caption(
                f"{len(todo):,} distinct text(s) to send, {info.encoding} tokens, in requests of at most "
                f"{batching.MAX_INPUTS:,} inputs and {batching.MAX_REQUEST_TOKENS:,} tokens."
            )

            b1, b2, _ = st.columns([1, 1, 4])
            embed_clicked = b1.button("Embed", type="primary", key="emb_embed", icon=":material/play_arrow:")
            b2.button("Cancel", key="emb_cancel", icon=":material/stop:", help="Stops after the request in flight; what is done is kept.")
            run_state = st.session_state.get("emb_run")
            if st.session_state.get("emb_cancel") and run_state and not run_state.get("finished"):
                st.info(
                    f"Cancelled. {run_state['done']:,} of {run_state['total']:,} texts are embedded and kept in the cache; "
                    "Embed again to send only the rest."
                )
                run_state["finished"] = True

            signature = (provider, info.id, dimensions, text_hash("\x00".join(inputs.texts)))
            if embed_clicked:
                progress = st.progress(0.0, text="Starting…")
                waits = st.empty()
                st.session_state["emb_run"] = {"done": 0, "total": len(inputs.texts), "finished": False}

                def on_progress(p: batching.Progress) -> None:
                    st.session_state["emb_run"].update(done=p.done_texts)
                    progress.progress(p.done_texts / max(p.total_texts, 1), text=f"{p.done_texts:,} / {p.total_texts:,} texts · {p.requests} request(s)")

                def on_wait(seconds: float, attempt: int, exc: Exception) -> None:
                    waits.warning(f"Rate limited (429): waiting {seconds:.1f} s before retry {attempt} of {batching.MAX_RETRIES}.", icon=":material/hourglass:")

                try:
                    result = batching.embed_texts(
                        get_client(), info.id, inputs, dimensions=dimensions, cache=cache, provider=provider,
                        on_progress=on_progress, on_wait=on_wait,
                    )
                except Exception as exc:  # the SDK's errors become a message; finished batches are cached
                    show_exception(exc)
                    result = None
                st.session_state["emb_run"]["finished"] = True
                if result is not None:
                    waits.empty()
                    progress.progress(1.0, text=f"Done: {len(inputs.texts):,} texts")
                    st.session_state["emb_last_run"] = {
                        "requests": result.requests, "embedded": result.embedded, "from_cache": result.from_cache,
                        "waits": result.waits, "tokens": result.tokens_sent,
                    }
                    matrix, _ = result.matrix()
                    index = {
                        "signature": signature, "documents": documents.reset_index(drop=True), "matrix": search.normalize(matrix),
                        "model": info.id, "dimensions": dimensions, "provider": provider, "partial": False,
                    }
                    st.session_state["emb_index"] = index
                    st.session_state.pop("emb_results", None)
            elif len(todo) < len(set(hashes)) and (index is None or index["signature"] != signature):
                # Everything (or part) is in the cache already: searchable without a request.
                known = [i for i, h in enumerate(hashes) if h in cached]
                index = {
                    "signature": signature, "documents": documents.iloc[known].reset_index(drop=True),
                    "matrix": search.normalize(np.vstack([cached[hashes[i]] for i in known])),
                    "model": info.id, "dimensions": dimensions, "provider": provider, "partial": bool(todo),
                }
                st.session_state["emb_index"] = index
                st.session_state.pop("emb_results", None)
            last = st.session_state.get("emb_last_run")
            if last and embed_clicked:
                waited = f", waited {sum(last['waits']):.1f} s on {len(last['waits'])} rate limit(s)" if last["waits"] else ""
                st.success(
                    f"Embedded {last['embedded']:,} new text(s) in {last['requests']:,} request(s); "
                    f"{last['from_cache']:,} came from the cache{waited}."
                )

# ---------------------------------------------------------------------------- 3. search
index = st.session_state.get("emb_index")
if index is not None and len(index["matrix"]):
    st.subheader("3. Search")
    st.caption(f"{len(index['matrix']):,} texts embedded with **{plain(index['model'] or 'an unknown model')}**.")
    if index.get("partial"):
        st.info(f"Searching the {len(index['matrix']):,} texts embedded so far. Embed to add the rest.")
    query_text = st.text_area("Queries, one per line", key="emb_queries", height=90, placeholder="parse a JSON document")
    c1, c2 = st.columns(2)
    k = c1.slider("Matches per query", 1, 50, 5, key="emb_k")
    threshold = c2.slider("Minimum similarity", 0.0, 1.0, 0.0, 0.01, key="emb_threshold", help="0 shows the top matches whatever their similarity.")
    queries = [q.strip() for q in query_text.splitlines() if q.strip()]
    if st.button("Search", type="primary", key="emb_search", disabled=not queries, icon=":material/search:"):
        model = index["model"]
        if not model:
            st.error("This embeddings file does not say which model made it, so queries cannot be embedded to match. Export embeddings again from this page.")
        else:
            q_inputs = batching.prepare_inputs(queries, get_encoding(encoding_name_for_model(model)))
            try:
                q_result = batching.embed_texts(
                    get_client(), model, q_inputs, dimensions=index["dimensions"], cache=_embedding_cache(), provider=provider,
                )
                q_matrix = search.normalize(q_result.matrix()[0])
                hits = search.top_k(index["matrix"], q_matrix, k, threshold if threshold > 0 else None)
                st.session_state["emb_results"] = {"queries": queries, "vectors": q_matrix, "hits": hits}
                record_run(endpoint="embeddings", model=model, request={"model": model, "input": queries, "k": k, "threshold": threshold}, response={"hits": [[{"row": int(h.position), "similarity": float(h.similarity), "text": str(index["documents"][TEXT].iloc[h.position])[:500]} for h in hs] for hs in hits]})
            except ValueError as exc:
                st.error(inert(exc), icon=":material/block:")
            except Exception as exc:
                show_exception(exc)
    results = st.session_state.get("emb_results")
    if results:
        table = export.results_frame(index["documents"], results["queries"], results["hits"])
        docs = index["documents"]
        hidden = [corpus.SOURCE_ROW] if corpus.SOURCE_ROW in docs else []
        if corpus.CHUNK in docs and not docs[corpus.CHUNK].astype(bool).any():
            hidden.append(corpus.CHUNK)
        if any(c != TEXT and (docs[c].astype(str) == docs[TEXT]).all() for c in docs.columns):
            hidden.append(TEXT)  # the same as a column of the corpus
        for query, hits in zip(results["queries"], results["hits"]):
            st.markdown(f"**{plain(query)}** — {len(hits)} match{'es' if len(hits) != 1 else ''}")
            if not hits:
                st.caption("No row reaches the minimum similarity. Lower it, or rephrase the query.")
                continue
            rows = table[table["query"] == query].drop(columns=["query", *hidden])
            st.dataframe(
                rows, hide_index=True,
                column_config={"similarity": st.column_config.ProgressColumn("similarity", min_value=0.0, max_value=1.0, format="%.3f")},
            )

    # ------------------------------------------------------------------------ 4. map
    st.subheader("4. Map")
    documents_i = index["documents"]
    c1, c2, c3 = st.columns(3)
    method = c1.selectbox("Projection", projection.available_methods(), key="emb_map_method")
    colourable = [c for c in documents_i.columns if c not in (TEXT, corpus.SOURCE_ROW) and 1 < documents_i[c].nunique() <= 30]
    colour_by = c2.selectbox("Colour by", ["k-means cluster", *colourable], key="emb_colour_by")
    clusters = c3.slider("Clusters", 2, 20, 8, key="emb_clusters", disabled=colour_by != "k-means cluster")
    results = st.session_state.get("emb_results")
    neighbours = [h.position for hits in results["hits"] for h in hits] if results else []
    shown = projection.sample_positions(len(index["matrix"]), keep=np.array(neighbours, dtype=np.int64))
    extra = results["vectors"] if results else None
    map_key = (index["signature"], method, tuple(shown[:5]), len(shown), None if extra is None else extra.tobytes())
    cached_map = st.session_state.get("emb_map")
    if cached_map is None or cached_map[0] != map_key:
        with st.spinner(f"Projecting with {method}…"):
            cached_map = (map_key, projection.project(index["matrix"][shown], method, extra))
        st.session_state["emb_map"] = cached_map
    mapped = cached_map[1]
    if colour_by == "k-means cluster":
        colours = [f"cluster {c + 1}" for c in projection.kmeans(index["matrix"][shown], clusters)]
    else:
        colours = documents_i[colour_by].iloc[shown].astype(str).tolist()
    where = {int(p): i for i, p in enumerate(shown)}
    fig = map_figure(
        mapped.points, colours, documents_i[TEXT].iloc[shown].tolist(), colour_title=colour_by,
        queries=results["queries"] if results else (), query_points=mapped.extra if results else None,
        neighbours=[[where[h.position] for h in hits] for hits in results["hits"]] if results else (),
        axis_titles=(f"PC1 ({mapped.explained[0]:.0%})", f"PC2 ({mapped.explained[1]:.0%})") if mapped.explained else ("", ""),
    )
    show_map(fig, key="emb_map_chart")
    if len(shown) < len(index["matrix"]):
        st.caption(f"{len(shown):,} of {len(index['matrix']):,} points shown (evenly sampled, matches always included).")

    # ------------------------------------------------------------------------ 5. export
    st.subheader("5. Export")
    c1, c2, c3, c4 = st.columns(4)

    def embeddings_table() -> pd.DataFrame:
        return export.embeddings_frame(index["documents"], index["matrix"], index["model"] or "")

    c1.download_button("Embeddings (CSV)", lambda: export.to_csv(embeddings_table()), "embeddings.csv", "text/csv", key="emb_dl_csv", on_click="ignore")
    c2.download_button("Embeddings (Parquet)", lambda: export.to_parquet(embeddings_table()), "embeddings.parquet", "application/vnd.apache.parquet", key="emb_dl_parquet", on_click="ignore")
    if results:
        table = export.results_frame(index["documents"], results["queries"], results["hits"])
        c3.download_button("Results (CSV)", export.to_csv(table), "search_results.csv", "text/csv", key="emb_dl_results_csv", on_click="ignore")
        c4.download_button("Results (Parquet)", export.to_parquet(table), "search_results.parquet", "application/vnd.apache.parquet", key="emb_dl_results_parquet", on_click="ignore")
    st.caption("Load an embeddings export back under Corpus → Saved embeddings to search it again without paying for it.")
