"""The wire behind a run: a streamed run's chunks with their arrival times, shown on the page
and kept with the run in the history, without the key."""

from __future__ import annotations

import json

from tests.conftest import TEST_KEY


def test_a_streamed_run_shows_and_saves_its_chunks_with_times(open_app, app_env):
    at = open_app("app_pages/completions.py")
    at.text_area(key="completions_prompt").input("Sort a list of").run()
    at.number_input(key="completions_max_tokens").set_value(16).run()
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not any(" ms  {" in c.value for c in at.code)  # drawn only when opened: thousands of chunks cost the browser
    at.session_state["completions:wire:open"] = True  # the user opens "Raw request and response"
    at.run()

    codes = [c.value for c in at.code]
    chunk_lines = next(c for c in codes if " ms  {" in c).splitlines()
    assert len(chunk_lines) >= 2
    times = [float(line.split("ms")[0]) for line in chunk_lines]
    assert times == sorted(times) and times[0] > 0
    assert any('"stream": true' in c for c in codes)  # the request body as sent
    assert any("chunks · first after" in c.value for c in at.caption)

    at.switch_page("app_pages/history.py").run()
    assert not at.exception, [e.message for e in at.exception]
    at.session_state[f"hist_wire_{at.selectbox(key='hist_open').value}:open"] = True
    at.run()
    saved = [c.value for c in at.code if " ms  {" in c.value]
    assert saved and saved[0].splitlines()[0] == chunk_lines[0]
    assert TEST_KEY not in json.dumps([c.value for c in at.code])
