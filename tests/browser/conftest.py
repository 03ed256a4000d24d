"""Browser tests: the real app under `streamlit run`, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.enginerunner import ROOT, free_port

CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@contextlib.contextmanager
def serve_app(engine_url: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free port, on the given engine; yields its URL."""
    port = free_port()
    log_path = data_dir / "streamlit.log"
    env = {
        **os.environ,
        "PLAYGROUND_ENGINE_URL": engine_url,
        "PLAYGROUND_ENGINE_KEY": TEST_KEY,
        "PLAYGROUND_DATA_DIR": str(data_dir),
    }
    env.pop("OPENAI_API_KEY", None)
    env.update(extra_env or {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"streamlit did not start: {log_path.read_text()[-2000:]}")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by `streamlit run app.py`, on the session's engine."""
    with serve_app(engine_url, tmp_path_factory.mktemp("app-data")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}: run the README's test command, which installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    if call.when == "call":
        item.stash[FAILED] = outcome.get_result().failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser, app_url: str, request: pytest.FixtureRequest):  # noqa: ANN001 - playwright types
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    if request.node.stash.get(FAILED, False):  # what the page showed when it failed: CI keeps artifacts/
        screenshot(page, f"FAILED-{request.node.name}")
    context.close()


def open_page(page, app_url: str, path: str = "") -> None:  # noqa: ANN001
    """Open an app page and wait until Streamlit has finished running it."""
    page.goto(f"{app_url}/{path}")
    page.wait_for_selector("[data-testid='stSidebar']")
    wait_idle(page)


IDLE = """() => document.querySelector("[data-testid='stApp']")?.dataset.testScriptState === "notRunning"
    && !document.querySelector("[data-testid='stStatusWidget']")"""


def wait_idle(page, timeout: float = 60.0) -> None:  # noqa: ANN001
    """Wait until the app's script has stopped running: stApp's script state says so (the
    status widget alone shows only after a run has gone on for a while)."""
    deadline = time.monotonic() + timeout
    time.sleep(0.3)
    while time.monotonic() < deadline:
        if page.evaluate(IDLE):
            return
        time.sleep(0.2)
    raise TimeoutError("the app kept running")


def set_up_a_long_stream(page, max_tokens: int) -> None:  # noqa: ANN001
    """On Completions: this many max tokens, and <|endoftext|> (o200k_base id 199999) banned by
    a logit bias, so the model writes them all and the stream runs long enough to act during it."""
    page.get_by_role("spinbutton", name="Max tokens").fill(str(max_tokens))
    page.keyboard.press("Tab")  # applies; Ctrl+Enter would also run
    wait_idle(page)
    page.get_by_text("Logit bias").click()
    page.get_by_role("textbox", name="Words or token ids").fill("199999")
    page.keyboard.press("Tab")
    wait_idle(page)


def seeded(page, seed: str = "7") -> None:  # noqa: ANN001
    """A seed for the next run: unseeded, the model may end before its first token, and an
    empty choice has no token view to wait for."""
    box = page.get_by_role("spinbutton", name="Seed (optional)")
    box.fill(seed)
    box.press("Enter")
    wait_idle(page)


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot under artifacts/screenshots (CI keeps them; git does not)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
