"""Page tests: the whole app (app.py with its navigation and sidebar) under Streamlit's
AppTest, talking to the session's real engine over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import TEST_KEY
from tests.enginerunner import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture
def app_env(engine_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the session's engine; give it a private data directory."""
    monkeypatch.setenv("PLAYGROUND_ENGINE_URL", engine_url)
    monkeypatch.setenv("PLAYGROUND_ENGINE_KEY", TEST_KEY)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "app-data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


@pytest.fixture
def open_app(app_env: Path) -> Callable[..., AppTest]:
    """open_app("app_pages/chat.py") -> an AppTest that has run the app and switched to that page."""

    def open_(page: str | None = None, timeout: float = 60) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=timeout)
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return open_


def on_compatible_server(at: AppTest, url: str, page: str = "app_pages/completions.py") -> None:
    """Point the sidebar at an OpenAI-compatible server and open `page`."""
    at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
    at.sidebar.text_input(key="conn_compat_base").input(url).run()
    at.switch_page(page)
    at.run()
