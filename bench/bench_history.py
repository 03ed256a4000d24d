"""The History page with 10,000 saved runs: time to first render (AppTest, whole app) and
search times, on SQLite or on PostgreSQL (a throwaway server, tests/postgres_server.py),
against baselines run in the same process on the same database through the bare driver:
  - render baseline: a bare `SELECT count(*)` plus reading the page's 50 rows in a plain loop;
  - search baseline: the naive search, every run's prompt and response read and scanned in Python.

Run: .venv/bin/python -m bench.bench_history [--runs 10000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from playground.history import History, Run, RunFilter

ROOT = Path(__file__).resolve().parent.parent

WORDS = ("sort list return value file open close parse token model stream index query cache "
         "median mean error raise string bytes decode encode path json yield async await class").split()
# A Zipf-like vocabulary, so a search can be as selective as a real one (rare words, common words).
_letters = random.Random(0)
VOCABULARY = WORDS + ["".join(_letters.choices("abcdefghijklmnopqrstuvwxyz", k=_letters.randint(4, 9))) for _ in range(5000)]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
RARE = VOCABULARY[2000]  # about one run in a hundred holds it
MODELS = ["local-text", "gpt-4o-mini", "gpt-4.1", "o3-mini"]
TAGS = ["docs", "keep", "compare", "draft", "bug"]


def fake_run(rng: random.Random, i: int) -> Run:
    prompt = " ".join(rng.choices(VOCABULARY, WEIGHTS, k=40))
    text = " ".join(rng.choices(VOCABULARY, WEIGHTS, k=60))
    tokens = [
        {"i": k, "t": f" {w}", "id": 1000 + k, "lp": -rng.random(), "b": f" {w}".encode().hex(), "o": None,
         "top": [[f" {a}", -rng.random() * 3, f" {a}".encode().hex()] for a in rng.sample(WORDS, 5)], "p": False}
        for k, w in enumerate(text.split())
    ]
    return Run(
        endpoint=rng.choice(["completions", "chat"]),
        model=rng.choice(MODELS),
        request={"model": "m", "prompt": prompt, "temperature": round(rng.random() * 2, 2), "max_tokens": 64, "logprobs": 5},
        response={"choices": [{"index": 0, "text": text, "finish_reason": "length", "tokens": tokens}]},
        usage={"prompt_tokens": 40, "completion_tokens": 60, "total_tokens": 100},
        latency=rng.random(), ttft=rng.random() / 10, cost=rng.random() / 1000,
        title=f"run {i}" if i % 10 == 0 else "",
        tags=rng.sample(TAGS, rng.randint(0, 2)),
        created=1_700_000_000 + i * 60,
    )


def best_of(fn, repeat: int = 5) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = None
        if args.backend == "postgresql":
            from tests.postgres_server import running_postgres

            url = stack.enter_context(running_postgres()).new_database()
            os.environ["PLAYGROUND_DATABASE_URL"] = url
        measure(args.runs, args.backend, url)


def measure(runs: int, backend: str, url: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    os.environ["PLAYGROUND_DATA_DIR"] = str(work / "app-data")
    db_path = work / "app-data" / "history.sqlite3"
    history = History(url=url) if url else History(db_path)

    def raw(sql: str) -> list[tuple]:
        """The bare driver: no History, no migrations check, a new connection."""
        if url:
            import psycopg

            with psycopg.connect(url) as db:
                return db.execute(sql).fetchall()
        db = sqlite3.connect(db_path)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    rng = random.Random(1)
    start = time.perf_counter()
    for chunk in range(0, runs, 1000):
        history.add_many(fake_run(rng, i) for i in range(chunk, min(chunk + 1000, runs)))
    fill_s = time.perf_counter() - start
    index = "pg_trgm" if history.has_trigram else "FTS5" if history.has_fts else "none"
    print(f"{backend}: filled {history.count():,} runs in {fill_s:.1f} s (text index: {index})")

    # --- baselines -------------------------------------------------------------------
    def bare_listing() -> None:
        raw("SELECT count(*) FROM runs")
        raw("SELECT id, created, model, title FROM runs ORDER BY created DESC LIMIT 50")

    def naive_search(text: str) -> int:
        """What search() answers, done by hand: runs whose prompt, response or title hold every word."""
        words = text.lower().split()
        hits = 0
        for prompt, response, title in raw("SELECT prompt_text, response_text, title FROM runs"):
            haystack = f"{prompt}\x00{response}\x00{title}".lower()
            hits += all(w in haystack for w in words)
        return hits

    listing_s = best_of(bare_listing)
    naive_s = best_of(lambda: naive_search(RARE), repeat=3)

    # --- the page, through AppTest --------------------------------------------------------
    from streamlit.testing.v1 import AppTest

    from tests.conftest import TEST_KEY
    from tests.enginerunner import running_engine

    with running_engine("--api-key", TEST_KEY, data_dir=work) as engine_url:
        os.environ["PLAYGROUND_ENGINE_URL"] = engine_url
        os.environ["PLAYGROUND_ENGINE_KEY"] = TEST_KEY
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("app_pages/history.py")
        start = time.perf_counter()
        at.run()
        first_render_s = time.perf_counter() - start
        assert not at.exception, [e.message for e in at.exception]
        assert f"{runs:,} runs match" in " ".join(c.value for c in at.caption)
        rerun_s = best_of(lambda: at.run(), repeat=3)
        at.text_input(key="hist_text").set_value(RARE)
        start = time.perf_counter()
        at.run()
        page_search_s = time.perf_counter() - start
        matches = [c.value for c in at.caption if "match" in c.value]

    # --- search, the function under the page ---------------------------------------------
    fts_s = best_of(lambda: history.search(RunFilter(text=RARE)))
    common_s = best_of(lambda: history.search(RunFilter(text="median parse")))
    short_s = best_of(lambda: history.search(RunFilter(text="ab")))  # under 3 letters: LIKE scan
    filtered_s = best_of(lambda: history.search(RunFilter(model="gpt-4.1", tag="keep")))
    total = history.search(RunFilter(text=RARE)).total
    common = history.search(RunFilter(text="median parse")).total
    assert total == naive_search(RARE) and common == naive_search("median parse"), "the index and the scan disagree"

    print(f"baseline  bare count(*) + 50 rows:          {listing_s * 1000:8.1f} ms")
    print(f"baseline  naive search (Python scan):        {naive_s * 1000:8.1f} ms")
    print(f"History page first render (AppTest):         {first_render_s * 1000:8.1f} ms  ({first_render_s / listing_s:,.0f}x the bare listing)")
    print(f"History page rerun:                          {rerun_s * 1000:8.1f} ms")
    print(f"History page with a search typed:            {page_search_s * 1000:8.1f} ms  {matches[:1]}")
    print(f"search {RARE!r} (index, a rare word):{'':<{max(0, 13 - len(RARE))}}{fts_s * 1000:8.1f} ms  ({total:,} matches; {naive_s / fts_s:.1f}x faster than the scan)")
    print(f"search 'median parse' (index, common words):  {common_s * 1000:8.1f} ms  ({common:,} matches)")
    print(f"search 'ab' (short word):              {short_s * 1000:8.1f} ms")
    print(f"filter model+tag:                            {filtered_s * 1000:8.1f} ms")
    print(
        f"BENCH history backend={backend} runs={runs} first_render_ms={first_render_s * 1000:.0f} rerun_ms={rerun_s * 1000:.0f} "
        f"search_ms={fts_s * 1000:.1f} page_search_ms={page_search_s * 1000:.0f} baseline_listing_ms={listing_s * 1000:.2f} "
        f"render_vs_listing={first_render_s / listing_s:.0f}x baseline_scan_ms={naive_s * 1000:.0f} search_vs_scan={fts_s / naive_s:.3f}x"
    )


if __name__ == "__main__":
    main()
