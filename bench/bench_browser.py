"""What a user waits for, measured in Chromium (Playwright) against `streamlit run app.py`
on the local engine.

One BENCH line per figure, each with a baseline measured in the same run (8 helpers may
share the machine's 2 cores, so absolute times move with its load; the ratios move less):

- page_switch: click on a sidebar link until the new page's script has finished
  (Streamlit's `script_finished` message on the websocket), cycling through every page;
  median and p95. Baseline: a rerun of the Home page (the app's round trip, nothing else).
- stop_visible: the press on Run (Completions, streamed; the pointer already on it) until the
  first frame that paints the run's Stop button, both timed in the page.
- stream: a 4,000-token streamed completion, Run until the page is fully drawn (the first
  frame after the run's script finished and its last messages were applied: text, token
  view, counts), timed in the page, divided by the engine's own time for the same request
  (the body the engine recorded, sent again with the SDK in this process, just before and
  just after the run: their mean); the median of the runs' ratios, after one run not counted.
  Split: the press until the live text's box is on screen, and the stream's end (that box
  gone) until drawn.
- upload: a 100,000-row CSV (made here, deterministically) from choosing the file until
  the cost estimate is on screen. Baseline: pandas.read_csv of the same bytes here.
- embed: the same corpus embedded through the page (the local engine's time included).
- interaction: editing the query (Ctrl+Enter) on that corpus until the rerun finished;
  search: the press on Search until the first frame that paints its matches (heading and
  table), both timed in the page (search_run_ms: until the click's run of the search part
  finished, which draws the same matches the page showed from those found when the query
  was applied; search_page_done: until the page's last run after it finished, the map
  showing the query included). Baseline for search: the exact numpy
  search over a matrix of the same shape, in this process.
  Floor for both: a rerun of the Home page (nothing to do) in the same run, floor_rerun_ms.
- cache: bytes on disk of the embedding cache per byte of the vectors it holds.

Run: .venv/bin/python -m bench.bench_browser [--rows 100000] [--repeats 3] [--only switch,stream,corpus]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import openai
import pandas as pd
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from playground.embeddings import search
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve_app
from tests.conftest import TEST_KEY, recorded_requests
from tests.enginerunner import running_engine

PAGES = [  # (url path, a heading on the page)
    ("", "OpenAI Playground"), ("completions", "Completions"), ("chat", "Chat"), ("responses", "Responses"),
    ("tokenizer", "Tokenizer"), ("embeddings", "Embeddings"), ("fine_tuning", "Fine-tuning"),
    ("images", "Image variations"), ("history", "History"), ("compare", "Compare"), ("evals", "Evals"),
]
NAV_TITLES = {
    "": "Home", "completions": "Completions", "chat": "Chat", "responses": "Responses", "tokenizer": "Tokenizer",
    "embeddings": "Embeddings search", "fine_tuning": "Fine-tuning", "images": "Image variations",
    "history": "History", "compare": "Compare", "evals": "Evals",
}
STREAM_TOKENS = 4000
WORDS = (
    "parse read write open close socket thread process queue file path json csv xml http url date time zone "
    "number string list dict set tuple bytes buffer stream encode decode compress archive hash random sort "
    "search match pattern format print log error warning test mock import module class function method value"
).split()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def make_corpus(rows: int) -> bytes:
    """A CSV of `rows` rows (id, title, category, text of 25-45 words), the same every time."""
    rng = np.random.default_rng(18)
    vocabulary = np.array(WORDS)
    lengths = rng.integers(25, 46, size=rows)
    words = vocabulary[rng.integers(0, len(vocabulary), size=int(lengths.sum()))]
    ends = np.cumsum(lengths)
    texts = [" ".join(words[end - n : end]) for end, n in zip(ends, lengths)]
    frame = pd.DataFrame({
        "id": np.arange(rows),
        "title": [f"Document {i}: {t[:30]}" for i, t in enumerate(texts)],
        "category": vocabulary[rng.integers(0, 12, size=rows)],
        "text": texts,
    })
    return frame.to_csv(index=False).encode("utf-8")


class ScriptRuns:
    """Times of Streamlit's `script_finished` messages, read off the page's websocket."""

    def __init__(self, page) -> None:  # noqa: ANN001 - playwright Page
        self.page = page
        self.finished: list[tuple[float, int]] = []
        self.running = False  # a run (page or fragment) started on the current websocket and not finished
        page.on("websocket", self._connected)

    def _connected(self, ws) -> None:  # noqa: ANN001 - playwright WebSocket
        self.running = False  # a new page load: runs of the old socket never finish
        ws.on("framereceived", self._frame)

    def _frame(self, payload: bytes | str) -> None:
        if not isinstance(payload, bytes):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(payload)
        except Exception:  # noqa: BLE001 - not a ForwardMsg: not ours to read
            return
        kind = message.WhichOneof("type")
        if kind == "new_session":  # sent as every run starts, fragment runs too
            self.running = True
        elif kind == "script_finished":
            self.running = False
            self.finished.append((time.perf_counter(), message.script_finished))

    def timed(self, action: Callable[[], None], timeout: float = 120.0) -> float:
        """Seconds from `action` until a script run it caused has finished (not one cut short by a rerun)."""
        seen = len(self.finished)
        start = time.perf_counter()
        action()
        deadline = start + timeout
        while time.perf_counter() < deadline:
            for at, status in self.finished[seen:]:
                if status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return at - start
            self.page.wait_for_timeout(5)
        raise TimeoutError("the app did not finish its run")

    def settle(self, quiet: float = 0.6) -> None:
        """Wait until no run is under way, none has finished for `quiet` seconds, and the browser
        has drawn what it got (a map in software WebGL can hold its main thread for seconds).
        The status widget alone can miss a run that has just started: it shows after a delay."""
        while True:
            count = len(self.finished)
            self.page.wait_for_timeout(int(quiet * 1000))
            self.page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")
            if (len(self.finished) == count and not self.running
                    and self.page.locator("[data-testid='stStatusWidget']").count() == 0):
                return


def rerun_floor(page, runs: ScriptRuns, url: str) -> float:  # noqa: ANN001
    """Median seconds of a rerun of the Home page: the app's round trip with nothing to do,
    the floor under any interaction on this machine at this load."""
    page.goto(url)
    page.wait_for_selector("[data-testid='stSidebarNav']")
    runs.settle()
    page.get_by_role("heading", name="OpenAI Playground").first.click()  # focus the page: "r" reruns it
    baseline = []
    for _ in range(5):
        baseline.append(runs.timed(lambda: page.keyboard.press("r")))
        runs.settle(0.3)
    return statistics.median(baseline)


def bench_switches(page, runs: ScriptRuns, url: str, repeats: int) -> None:  # noqa: ANN001
    base = rerun_floor(page, runs, url)
    times = []
    by_page: dict[str, list[float]] = {}
    for round_number in range(repeats + 1):  # the first round warms imports and caches: not counted
        for path, heading in PAGES[1:] + PAGES[:1]:
            link = page.locator("[data-testid='stSidebarNav'] a", has_text=NAV_TITLES[path]).first
            took = runs.timed(link.click)
            page.get_by_role("heading", name=heading).first.wait_for()
            if round_number:
                times.append(took)
                by_page.setdefault(path or "home", []).append(took)
            runs.settle(0.3)
    print("page switch medians (ms): " + ", ".join(f"{p} {ms(statistics.median(t))}" for p, t in by_page.items()), flush=True)
    median, p95 = statistics.median(times), percentile(times, 95)
    print(
        f"BENCH browser_page_switch median_ms={ms(median)} p95_ms={ms(p95)} switches={len(times)} "
        f"baseline_rerun_ms={ms(base)} median_ratio={median / base:.1f} p95_ratio={p95 / base:.1f}",
        flush=True,
    )


# In the page, on the page's clock, from the press on Run (mousedown): the first frame that
# paints the run's Stop; the first frame with the live text's box and the first without it (the
# stream over); and the first frame after the app's script has finished (stApp's script state
# back to "notRunning", its last messages applied): the page fully drawn. Each is seen by a
# MutationObserver and stamped in the next animation frame (the frame that paints it). Not
# checked in every frame: a requestAnimationFrame loop makes Chromium draw 60 frames a second
# for the whole run, which a user's browser does not (a 4,000-token run: 250 frames, not 80,
# and 0.6-0.9 s more of the browser's CPU, taken from the engine and the app on two cores).
# Playwright's own waits poll at growing intervals (up to 500 ms apart), and reading the
# websocket through the DevTools protocol costs CPU that a user's browser does not spend.
STREAM_TIMER = """() => {
    const t = window.__run = {};
    const app = document.querySelector("[data-testid='stApp']");
    window.__runDrawn = new Promise((drawn) => {
        document.addEventListener("mousedown", () => {
            t.press = performance.now();
            let ran = false, ended = false;
            const stamp = (name) => {
                if (name in t) return;
                t[name] = null;
                requestAnimationFrame(() => { t[name] = performance.now(); });
            };
            const check = () => {
                if (ended) return;
                // Shown or hidden by its [hidden] (read without laying the page out, as checkVisibility would)
                if (document.querySelector(".st-key-completions_result_stop .playground-stop:not([hidden]) button")) stamp("stop");
                const live = document.querySelector(".st-key-completions_result_live");
                if (live) stamp("liveOn");
                if (!live && "liveOn" in t) stamp("liveOff");
                const state = app.dataset.testScriptState;
                if (state === "running") ran = true;
                if (ran && state === "notRunning") {
                    ended = true;
                    observer.disconnect();
                    requestAnimationFrame(() => { t.end = performance.now(); drawn(t); });
                }
            };
            const observer = new MutationObserver(check);
            observer.observe(app, {subtree: true, childList: true, attributes: true, characterData: true});
            check();
        }, {capture: true, once: true});
    });
}"""


def wait_script_idle(page) -> None:  # noqa: ANN001
    """Until the app's script has stopped running (stApp's script state: no websocket listener
    needed, and unlike the status widget it cannot miss a run that has just started)."""
    page.wait_for_timeout(600)
    page.wait_for_function("() => document.querySelector(\"[data-testid='stApp']\")?.dataset.testScriptState === 'notRunning'")


def bench_stream(browser, url: str, engine_url: str, repeats: int) -> None:  # noqa: ANN001
    """On a page of its own, with no websocket listener (see STREAM_TIMER)."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/completions")
    page.wait_for_selector("[data-testid='stSidebarNav']")
    wait_script_idle(page)
    box = page.get_by_role("spinbutton", name="Max tokens")
    box.fill(str(STREAM_TOKENS))
    box.press("Enter")
    wait_script_idle(page)
    # Ban <|endoftext|> (o200k_base id 199999) so the model writes all 4,000 tokens.
    page.get_by_text("Logit bias", exact=True).click()
    bias = page.get_by_role("textbox", name="Words or token ids")
    bias.fill("199999")
    bias.press("Control+Enter")
    wait_script_idle(page)
    client = openai.OpenAI(base_url=engine_url, api_key=TEST_KEY, max_retries=0)

    def engine_alone() -> tuple[float, int]:
        """The engine's own time for the last run's request (the body it recorded), and its chunks."""
        body = recorded_requests(engine_url, "/completions")[-1]["body"]
        start = time.perf_counter()
        count = 0
        for chunk in client.completions.create(**body):
            count += sum(1 for c in chunk.choices if c.text)
        return time.perf_counter() - start, count

    stops, drawn, engine, tokens, in_app, before, after = [], [], [], [], [], [], []
    own_before = None
    for round_number in range(repeats + 1):  # the first round warms the page and the app: not counted
        run_button = page.locator(".st-key-completions_run button").first  # (its name carries the shortcut)
        run_button.hover()  # the pointer rests on Run before the press, as a user's does: hover effects are not the click's
        wait_script_idle(page)
        page.evaluate(STREAM_TIMER)
        run_button.click()
        t = page.evaluate("() => window.__runDrawn")  # the page's promise: no polling from here
        page.get_by_text("Token probabilities").first.wait_for()
        wait_script_idle(page)
        # The engine alone, just after this run and (the last round's figure) just before it: the
        # mean of the two follows the machine's load, which moves its time 2.4-3.9 s here.
        own_after, count = engine_alone()
        if round_number:
            stops.append((t["stop"] - t["press"]) / 1000)
            drawn.append((t["end"] - t["press"]) / 1000)
            before.append((t["liveOn"] - t["press"]) / 1000)
            after.append((t["end"] - t["liveOff"]) / 1000)
            # The stream's own time in the app (its status line), to split the rest: the final render.
            status = page.get_by_text(re.compile(r"latency [\d,]+ ms")).first.inner_text()
            in_app.append(int(re.search(r"latency ([\d,]+) ms", status).group(1).replace(",", "")) / 1000)
            engine.append((own_before + own_after) / 2)
            tokens.append(count)
        own_before = own_after
    page.context.close()
    stop, draw, own = statistics.median(stops), statistics.median(drawn), statistics.median(engine)
    ratio = statistics.median(d / e for d, e in zip(drawn, engine))
    streamed = statistics.median(in_app)
    print(
        f"BENCH browser_stop_visible median_ms={ms(stop)} max_ms={ms(max(stops))} runs={repeats}",
        flush=True,
    )
    print(
        f"BENCH browser_stream drawn_s={draw:.2f} engine_s={own:.2f} ratio={ratio:.2f} "
        f"stream_in_app_s={streamed:.2f} stream_ratio={statistics.median(a / e for a, e in zip(in_app, engine)):.2f} "
        f"press_to_live_text_s={statistics.median(before):.2f} stream_end_to_drawn_s={statistics.median(after):.2f} "
        f"chunks={statistics.median(tokens):.0f} max_tokens={STREAM_TOKENS} runs={repeats}",
        flush=True,
    )


# In the page, on the page's clock: the press on Search (mousedown) until the first frame that
# paints its matches: the query's heading ("{query} — N matches") with, under it, a table that
# was not on screen at the press (both visible: the page may hold the next listing hidden,
# which the click shows). The page draws the headings and tables as one HTML element (a
# heading is a <p> of .playground-matches, its table in the element after it); the older
# layout (a Markdown heading, then the table in the next element) is still found, to compare.
# Checked in every animation frame; search_heading_ms: the frame of the heading alone;
# search_run_ms: the first frame after the click's run (of the search part) finished. The
# bench awaits the page's promise: Playwright's polling of a selector would take the page's
# main thread, and cannot time 100 ms.
SEARCH_TIMER = """(query) => {
    const shownTables = () => new Set([...document.querySelectorAll("table")].filter((t) => t.checkVisibility()).map((t) => t.textContent));
    const app = document.querySelector("[data-testid='stApp']");
    window.__searchHeading = null;
    window.__searchRun = null;
    window.__searchShown = new Promise((shown, failed) => {
        document.addEventListener("mousedown", () => {
            const pressed = performance.now();
            const before = shownTables();
            const late = setTimeout(() => failed(new Error(`no matches of “${query}” on screen after 120 s`)), 120000);
            let found = null, ran = false;
            const check = () => {
                const now = performance.now() - pressed;
                const state = app.dataset.testScriptState;
                if (state === "running") ran = true;
                if (ran && state === "notRunning") window.__searchRun ??= now;
                if (found === null) {
                    const heading = [...document.querySelectorAll(".playground-matches > p, [data-testid='stMarkdownContainer']")]
                        .find((el) => el.textContent.startsWith(query + " — ") && el.checkVisibility());
                    if (heading) window.__searchHeading ??= now;
                    const under = heading?.matches(".playground-matches > p")
                        ? heading.nextElementSibling : heading?.closest("[data-testid='stElementContainer']")?.nextElementSibling;
                    const table = under?.querySelector("table");
                    if (table?.checkVisibility() && !before.has(table.textContent)) found = now;
                }
                if (found !== null && window.__searchRun !== null) {
                    clearTimeout(late);
                    shown(found);
                } else requestAnimationFrame(check);
            };
            requestAnimationFrame(check);
        }, {capture: true, once: true});
    });
}"""


def bench_corpus(page, runs: ScriptRuns, url: str, data_dir: Path, rows: int, repeats: int) -> None:  # noqa: ANN001
    data = make_corpus(rows)
    csv_path = data_dir / f"corpus_{rows}.csv"
    csv_path.write_bytes(data)
    start = time.perf_counter()
    pd.read_csv(io.BytesIO(data))
    read_csv_s = time.perf_counter() - start

    floor = rerun_floor(page, runs, url)
    page.goto(f"{url}/embeddings")
    page.wait_for_selector("[data-testid='stSidebarNav']")
    runs.settle()
    runs.timed(lambda: page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).click())
    runs.settle()
    # The estimate of this corpus (the sample's was on screen before): its row count, then the cost beside it.
    texts = page.get_by_test_id("stMetric").filter(has_text="Texts").filter(has_text=f"{rows:,}")
    start = time.perf_counter()
    page.locator("input[type='file']").first.set_input_files(str(csv_path))
    texts.wait_for(timeout=600_000)
    page.get_by_test_id("stMetric").filter(has_text="Cost").wait_for()
    upload_s = time.perf_counter() - start
    runs.settle()
    print(
        f"BENCH browser_upload rows={rows} mb={len(data) / 1e6:.1f} upload_to_estimate_s={upload_s:.2f} "
        f"baseline_read_csv_s={read_csv_s:.2f} ratio={upload_s / read_csv_s:.1f}",
        flush=True,
    )

    start = time.perf_counter()
    page.get_by_role("button", name="Embed", exact=True).click()
    page.get_by_label("Queries, one per line").wait_for(timeout=1_800_000)
    runs.settle()
    embed_s = time.perf_counter() - start
    print(f"BENCH browser_embed rows={rows} embed_s={embed_s:.1f}", flush=True)

    # The live query box (a rerun may still show a stale copy of it for a moment).
    box = page.locator("[data-stale='false'] textarea[aria-label='Queries, one per line']").first
    queries = ["parse a JSON document", "open a socket and read bytes", "sort a list of numbers",
               "compress an archive", "format a date and time zone"]
    edits, searches, headings, confirmed, finished = [], [], [], [], []
    for i in range(repeats):
        query = queries[i % len(queries)] + (f" {i}" if i >= len(queries) else "")  # a new query each time: embedded anew
        box.fill(query)
        edits.append(runs.timed(lambda: box.press("Control+Enter")))
        runs.settle(0.3)
        button = page.get_by_test_id("stBaseButton-primary").filter(has_text="Search")
        button.hover()  # the pointer rests on Search before the press, as a user's does
        runs.settle(0.3)
        page.evaluate(SEARCH_TIMER, query)
        start = time.perf_counter()
        button.click()
        searches.append(page.evaluate("() => window.__searchShown") / 1000)  # the page's promise: no polling
        headings.append(page.evaluate("() => window.__searchHeading") / 1000)
        confirmed.append(page.evaluate("() => window.__searchRun") / 1000)
        # The map follows, with the query on it; then the page's last run is its end.
        page.locator("[data-testid='stPlotlyChart']").filter(has_text=f"query 1: {query[:30]}").first.wait_for()
        runs.settle(0.3)
        finished.append(runs.finished[-1][0] - start)

    rng = np.random.default_rng(0)
    matrix = search.normalize(rng.standard_normal((rows, 256), dtype=np.float32))
    query = search.normalize(rng.standard_normal((1, 256), dtype=np.float32))
    numpy_times = []
    for _ in range(5):
        start = time.perf_counter()
        search.top_k(matrix, query, 5)
        numpy_times.append(time.perf_counter() - start)
    edit, found, exact = statistics.median(edits), statistics.median(searches), statistics.median(numpy_times)
    print(
        f"BENCH browser_corpus_interaction rows={rows} edit_query_ms={ms(edit)} search_ms={ms(found)} search_max_ms={ms(max(searches))} "
        f"search_heading_ms={ms(statistics.median(headings))} search_run_ms={ms(statistics.median(confirmed))} "
        f"search_page_done_ms={ms(statistics.median(finished))} "
        f"baseline_numpy_search_ms={exact * 1000:.1f} search_ratio={found / exact:.0f} "
        f"floor_rerun_ms={ms(floor)} search_over_floor={found / floor:.1f} edit_over_floor={edit / floor:.1f} runs={repeats}",
        flush=True,
    )

    cache_dir = data_dir / "app" / "embeddings"
    cache_bytes = sum(f.stat().st_size for f in cache_dir.rglob("*") if f.is_file())
    vector_bytes = rows * 256 * 4
    print(
        f"BENCH browser_cache rows={rows} cache_mb={cache_bytes / 1e6:.1f} vectors_mb={vector_bytes / 1e6:.1f} "
        f"ratio={cache_bytes / vector_bytes:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="switch,stream,corpus", help="comma-separated: switch, stream, corpus")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium is not at {CHROMIUM}.")
    from playwright.sync_api import sync_playwright

    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "engine").mkdir()
        (root / "app").mkdir()
        with (
            running_engine("--api-key", TEST_KEY, "--record-requests", data_dir=root / "engine") as engine_url,
            serve_app(engine_url, root / "app") as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(60_000)
                runs = ScriptRuns(page)
                if "switch" in parts:
                    bench_switches(page, runs, url, args.repeats)
                if "stream" in parts:
                    bench_stream(browser, url, engine_url, args.repeats)
                if "corpus" in parts:
                    bench_corpus(page, runs, url, root, args.rows, args.repeats)
            finally:
                browser.close()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
