"""When the local engine cannot start, the page says why in plain words: no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground import engine_process
from tests.pages.conftest import APP


@pytest.mark.parametrize("page", [None, "app_pages/evals.py"])
def test_an_engine_that_cannot_start_is_explained(page: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.delenv("PLAYGROUND_ENGINE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(blocker))
    engine_process.stop_local_engine()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    errors = " ".join(e.value for e in at.error).replace("\\", "")  # shown as plain text: Markdown escaped
    assert "The local engine could not start. The app's data folder" in errors and "PLAYGROUND_DATA_DIR" in errors
    assert "Traceback" not in errors
