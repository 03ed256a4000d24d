"""A team server behind an authenticating proxy: the app trusts the identity header it is
told to (PLAYGROUND_IDENTITY_HEADER), each identity sees only its own runs plus the ones
shared with the team, and only its own fine-tuning files and jobs on the local engine; a
request without the header sees no one's history, files or jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.history import History, Run
from playground.providers import Connection, make_client
from playground.workspaces import engine_project
from tests.browser.conftest import open_page, serve_app, wait_idle
from tests.conftest import TEST_KEY
from tests.engine.test_fine_tuning import sentiment_examples, upload, wait_for

HEADER = "X-Forwarded-Email"


def _run(title: str, created: float) -> Run:
    return Run("completions", "local-text", {"prompt": f"the prompt of {title}"}, {"choices": [{"text": "answer"}]},
               title=title, created=created)


def _page_as(browser, url: str, identity: str | None, path: str, heading: str):  # noqa: ANN001, ANN202 - playwright
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  extra_http_headers={HEADER: identity} if identity else {})
    page = context.new_page()
    page.set_default_timeout(60_000)
    open_page(page, url)
    open_page(page, url, path)
    page.get_by_role("heading", name=heading).wait_for()
    wait_idle(page, timeout=90)
    return context, page


def _history_page(browser, url: str, identity: str | None):  # noqa: ANN001, ANN202 - playwright types
    return _page_as(browser, url, identity, "history", "History")


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


def _fine_tune_as(engine_url: str, identity: str) -> tuple[str, str]:
    """(training file name, finished job id) made on the engine by the app's client for this identity."""
    client = make_client(Connection("local", api_key=TEST_KEY, base_url=engine_url, project=engine_project(identity)))
    name = identity.split("@")[0] + "-train.jsonl"
    job = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, sentiment_examples()[:12], name),
                                         hyperparameters={"n_epochs": 1})
    wait_for(client, job.id, ("succeeded",))
    return name, job.id


def test_two_identities_see_only_their_own_fine_tuning_files_and_jobs(browser, engine_url: str, tmp_path: Path,  # noqa: ANN001
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_IDENTITY_HEADER", HEADER)
    made = {identity: _fine_tune_as(engine_url, identity) for identity in ("ada@example.com", "bob@example.com")}
    (tmp_path / "app-data").mkdir()
    with serve_app(engine_url, tmp_path / "app-data") as url:
        for identity, other in [("ada@example.com", "bob@example.com"), ("bob@example.com", "ada@example.com")]:
            (own_file, own_job), (other_file, other_job) = made[identity], made[other]
            context, page = _page_as(browser, url, identity, "fine_tuning", "Fine-tuning")
            page.get_by_role("tab", name="Jobs").click()
            jobs = page.get_by_role("tabpanel", name="Jobs")
            jobs.get_by_text(own_job).first.wait_for()
            wait_idle(page, timeout=90)
            assert jobs.get_by_text(other_job).count() == 0

            page.get_by_role("tab", name="Start a job").click()
            start = page.get_by_role("tabpanel", name="Start a job")
            start.get_by_role("combobox", name="Training file").click()
            page.get_by_role("option", name=own_file).first.wait_for()
            assert page.get_by_role("option", name=other_file).count() == 0
            context.close()

        context, page = _page_as(browser, url, None, "fine_tuning", "Fine-tuning")  # no identity: no one's
        page.get_by_role("tab", name="Jobs").click()
        page.get_by_role("tabpanel", name="Jobs").get_by_text("No fine-tuning jobs yet").first.wait_for()
        assert page.get_by_text(made["ada@example.com"][1]).count() == 0
        context.close()
