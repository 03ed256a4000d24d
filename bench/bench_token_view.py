"""Token view for a 4,096-token response with 20 alternatives per token.

Data: a REAL response of the local engine (chat, max_tokens=4096, top_logprobs=20,
<|endoftext|> banned with logit_bias so it runs the full length), not synthesized.

Measured, best of REPEAT in one process:
- floor: json.dumps of that response's `logprobs` (what the API sent, as a dict);
- build: normalize (SDK object -> TokenInfo) + the view's shaded text (its units' JSON, past
  RICH_TOOLTIPS_UP_TO) + the table's DataFrame;
  its ratio to the floor (aim: under 10x);
- rerun: AppTest reruns of a small page holding the response and rendering the view
  (median of RERUNS; the first run is reported apart: imports and the first build);
- the Completions page (pages/completions.py) through AppTest of the whole app holding a
  4,096-token run with logprobs=5, the most /v1/completions allows.

Run: .venv/bin/python -m bench.bench_token_view
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import openai
from streamlit.testing.v1 import AppTest

import tiktoken_offline
from components.token_view import shaded_text, token_table
from playground.logprobs import from_chat_logprobs
from tests.enginerunner import running_engine

ROOT = Path(__file__).resolve().parent.parent

TOKENS = 4096
TOP = 20
REPEAT = 5
RERUNS = 5
EOT = "199999"  # <|endoftext|> in o200k_base
KEY = "bench-key"


def best(fn: Callable[[], Any]) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def view_page(response: dict) -> None:
    """A page holding one chat response: normalized once, rendered on every rerun."""
    import streamlit as st

    import tiktoken_offline
    from components.token_view import render_choices
    from playground.logprobs import from_chat_logprobs

    if "tokens" not in st.session_state:
        encoding = tiktoken_offline.get_encoding("o200k_base")
        st.session_state.tokens = [from_chat_logprobs(c["logprobs"], encoding=encoding) for c in response["choices"]]
    render_choices(list(st.session_state.tokens), key="bench")


def timed_runs(at: AppTest) -> list[float]:
    times = []
    for _ in range(RERUNS):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, [e.message for e in at.exception]
    return times


def completions_page_reruns(engine_url: str, data_dir: Path) -> tuple[float, float, int]:
    """(seconds for the run itself, median rerun seconds, tokens shown) on the Completions page."""
    os.environ.update(PLAYGROUND_ENGINE_URL=engine_url, PLAYGROUND_ENGINE_KEY=KEY, PLAYGROUND_DATA_DIR=str(data_dir))
    os.environ.pop("OPENAI_API_KEY", None)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.switch_page("app_pages/completions.py")
    at.run()
    at.text_area(key="completions_prompt").input('def median(values):\n    """')
    at.number_input(key="completions_max_tokens").set_value(TOKENS)
    at.toggle(key="completions_stream").set_value(False)
    at.slider(key="completions_logprobs").set_value(5)
    at.text_area(key="completions_logit_bias:input").input(EOT).run()
    assert not at.exception, [e.message for e in at.exception]
    start = time.perf_counter()
    at.button(key="completions_run").click().run()
    run_s = time.perf_counter() - start
    assert not at.exception, [e.message for e in at.exception]
    shown = max((len(f.value) for f in at.dataframe if "logprob" in f.value.columns), default=0)
    return run_s, statistics.median(timed_runs(at)), shown


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_engine("--api-key", KEY, data_dir=Path(tmp)) as url:
        client = openai.OpenAI(base_url=url, api_key=KEY, timeout=600, max_retries=0)
        start = time.perf_counter()
        response = client.chat.completions.create(
            model="local-text",
            messages=[{"role": "user", "content": "Explain what the json module does."}],
            max_tokens=TOKENS, logprobs=True, top_logprobs=TOP, seed=1, logit_bias={EOT: -100},
        )
        generate_s = time.perf_counter() - start
        logprobs = response.choices[0].logprobs
        assert len(logprobs.content) == TOKENS and all(len(c.top_logprobs) == TOP for c in logprobs.content)
        print(f"engine response: {TOKENS} tokens x {TOP} alternatives in {generate_s:.1f} s (real data)")

        as_dict = logprobs.model_dump()
        floor_s, wire = best(lambda: json.dumps(as_dict))
        encoding = tiktoken_offline.get_encoding("o200k_base")
        normalize_s, tokens = best(lambda: from_chat_logprobs(logprobs, encoding=encoding))
        html_s, shaded = best(lambda: shaded_text(tokens))
        html = shaded.html or json.dumps([shaded.legend, shaded.units])
        table_s, _ = best(lambda: token_table(tokens))

        def build() -> None:
            fresh = from_chat_logprobs(logprobs, encoding=encoding)
            shaded_text(fresh)
            token_table(fresh)

        build_s, _ = best(build)
        print(f"floor json.dumps(logprobs): {floor_s * 1000:.1f} ms ({len(wire) / 1e6:.1f} MB)")
        print(
            f"build: {build_s * 1000:.1f} ms = normalize {normalize_s * 1000:.1f} + text {html_s * 1000:.1f} "
            f"({len(html) / 1e6:.1f} MB) + table {table_s * 1000:.1f}; ratio {build_s / floor_s:.2f}x"
        )

        at = AppTest.from_function(view_page, args=(response.model_dump(),), default_timeout=600)
        start = time.perf_counter()
        at.run()
        first_s = time.perf_counter() - start
        assert not at.exception, [e.message for e in at.exception]
        rerun_s = statistics.median(timed_runs(at))
        print(f"AppTest view page: first run {first_s:.2f} s, rerun median {rerun_s:.3f} s")

        run_s, page_rerun_s, shown = completions_page_reruns(url, Path(tmp) / "app-data")
        print(f"Completions page ({shown} tokens, logprobs=5): run {run_s:.2f} s, rerun median {page_rerun_s:.3f} s")

    print(
        f"BENCH token_view tokens={TOKENS} alternatives={TOP} floor_ms={floor_s * 1000:.1f} "
        f"build_ms={build_s * 1000:.1f} ratio={build_s / floor_s:.2f} view_rerun_s={rerun_s:.3f} "
        f"completions_page_tokens={shown} completions_page_rerun_s={page_rerun_s:.3f}"
    )


if __name__ == "__main__":
    main()
