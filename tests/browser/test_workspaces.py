"""A team server behind an authenticating proxy: the app trusts the identity header it is
told to (PLAYGROUND_IDENTITY_HEADER), each identity sees only its own runs plus the ones
shared with the team, and a request without the header sees no one's history."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.history import History, Run
from tests.browser.conftest import open_page, serve_app, wait_idle

HEADER = "X-Forwarded-Email"


def _run(title: str, created: float) -> Run:
    return Run("completions", "local-text", {"prompt": f"the prompt of {title}"}, {"choices": [{"text": "answer"}]},
               title=title, created=created)


def _history_page(browser, url: str, identity: str | None):  # noqa: ANN001, ANN202 - playwright types
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  extra_http_headers={HEADER: identity} if identity else {})
    page = context.new_page()
    page.set_default_timeout(60_000)
    open_page(page, url)
    open_page(page, url, "history")
    page.get_by_role("heading", name="History").wait_for()
    wait_idle(page, timeout=90)
    return context, page


def test_two_identities_see_their_own_runs_and_the_shared_one(browser, engine_url: str, tmp_path: Path,  # noqa: ANN001
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "history.sqlite3"
    monkeypatch.setenv("PLAYGROUND_IDENTITY_HEADER", HEADER)
    monkeypatch.setenv("PLAYGROUND_HISTORY_DB", str(database))
    history = History(database)
    ada, bob = history.scoped("ada@example.com"), history.scoped("bob@example.com")
    ada.add(_run("ada-team-demo", 1_700_000_000))
    ada.update(ada.search().runs[0].id, shared=True)
    bob.add(_run("bob-own-run", 1_700_000_100))
    ada.add(_run("ada-private-run", 1_700_000_200))

    (tmp_path / "app-data").mkdir()
    with serve_app(engine_url, tmp_path / "app-data") as url:
        for identity, own, other in [("ada@example.com", "ada-private-run", "bob-own-run"),
                                     ("Bob@Example.com", "bob-own-run", "ada-private-run")]:
            context, page = _history_page(browser, url, identity)
            page.get_by_text("2 runs match").wait_for()  # one's own and the shared one
            for text, shown in [(own, "1 run match"), (other, "No saved run matches."), ("ada-team-demo", "1 run match")]:
                page.get_by_placeholder("words in the prompt").fill(text)
                page.get_by_placeholder("words in the prompt").press("Enter")
                wait_idle(page, timeout=90)
                page.get_by_text(shown).wait_for()  # one's own and the shared run are found; another's is not
            context.close()

        context, page = _history_page(browser, url, None)
        page.get_by_text(f"did not come with the {HEADER} header").wait_for()
        assert page.get_by_text("runs match").count() == 0
        context.close()
