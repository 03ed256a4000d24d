"""A stream cut by the server going away mid-answer: the text that arrived is kept, the
error says so, and the history saves the run as stopped with that error."""

from __future__ import annotations

import os
import signal

import openai

from playground.catalog import model_info
from playground.history import run_of_result
from playground.requests import build_request
from playground.runner import run
from tests.conftest import TEST_KEY
from tests.enginerunner import engine_pid


def test_an_engine_killed_mid_stream_keeps_the_text_and_the_error(start_engine):
    with start_engine("--api-key", TEST_KEY) as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        request = build_request("completions", model_info("local-text"), {
            "max_tokens": 4000, "stream": True, "logit_bias": {"199999": -100}}, prompt="Return the")
        killed = []

        def kill_after_some_text(result):  # noqa: ANN001
            if not killed and len(result.text) > 20:
                os.kill(engine_pid(url), signal.SIGKILL)
                killed.append(True)

        result = run(client, request, on_update=kill_after_some_text)
    assert killed and len(result.text) > 20
    assert result.error is not None and "broke mid-answer" in result.error.title
    saved = run_of_result(result, provider={"name": "local"})
    assert saved.response["stopped"] is True and saved.response["error"]["title"] == result.error.title
