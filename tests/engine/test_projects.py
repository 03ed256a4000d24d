"""Projects on the local engine (the OpenAI-Project header), through the real openai SDK over
HTTP: files, fine-tuning jobs, fine-tuned models and stored responses belong to the project
that made them, and another project can neither see, read, use nor delete them; it is told
they do not exist, in the API's own words. No header is the default project, where data saved before projects is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import httpx
import openai
import pytest

from playground.providers import Connection, make_client
from playground.workspaces import engine_project
from tests.conftest import TEST_KEY
from tests.engine.test_fine_tuning import sentiment_examples, upload, wait_for

ROWS = sentiment_examples()[:12]


def _client(url: str, project: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=TEST_KEY, project=project, max_retries=0)


def _fine_tune(client: openai.OpenAI, suffix: str) -> Any:
    """A finished one-epoch job of this client's project (its file, result file and model)."""
    job = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, ROWS), suffix=suffix,
                                         hyperparameters={"n_epochs": 1})
    job = wait_for(client, job.id, ("succeeded", "failed"))
    assert job.status == "succeeded", job.error
    return job


def _not_found(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        call()
    assert err.value.body["message"] == message


def _model_missing(model: str) -> str:
    return f"The model `{model}` does not exist or you do not have access to it."


def _sees(client: openai.OpenAI, job: Any) -> bool:
    """Whether the client's project lists the job, its files and its model."""
    files = {f.id for f in client.files.list().data}
    return (job.id in {j.id for j in client.fine_tuning.jobs.list(limit=100).data}
            and {job.training_file, *job.result_files} <= files
            and job.fine_tuned_model in {m.id for m in client.models.list().data})


def _sees_none_of(client: openai.OpenAI, job: Any) -> None:
    """The client's project neither lists, reads, uses nor deletes anything of the job's project."""
    files = {f.id for f in client.files.list().data}
    assert not {job.training_file, *job.result_files} & files
    assert job.id not in {j.id for j in client.fine_tuning.jobs.list(limit=100).data}
    models = {m.id for m in client.models.list().data}
    assert job.fine_tuned_model not in models and "local-text" in models  # the base models serve everyone

    for file_id in (job.training_file, *job.result_files):
        missing = f"No such File object: {file_id}"
        _not_found(lambda: client.files.retrieve(file_id), missing)  # noqa: B023 - called at once
        _not_found(lambda: client.files.content(file_id), missing)  # noqa: B023
        _not_found(lambda: client.files.delete(file_id), missing)  # noqa: B023
    gone_job = f"No such fine-tuning job: {job.id}"
    _not_found(lambda: client.fine_tuning.jobs.retrieve(job.id), gone_job)
    _not_found(lambda: client.fine_tuning.jobs.cancel(job.id), gone_job)
    _not_found(lambda: client.fine_tuning.jobs.list_events(job.id), gone_job)
    _not_found(lambda: client.fine_tuning.jobs.checkpoints.list(job.id), gone_job)

    model = job.fine_tuned_model
    _not_found(lambda: client.models.retrieve(model), _model_missing(model))
    _not_found(lambda: client.models.delete(model), _model_missing(model))
    _not_found(lambda: client.completions.create(model=model, prompt=ROWS[0]["prompt"], max_tokens=1),
               _model_missing(model))
    _not_found(lambda: client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}],
                                                      max_tokens=1), _model_missing(model))
    _not_found(lambda: client.responses.create(model=model, input="Hi", max_output_tokens=16), _model_missing(model))
    with pytest.raises(openai.BadRequestError) as err:  # neither its file nor its model can start a job
        client.fine_tuning.jobs.create(model="local-text", training_file=job.training_file)
    assert err.value.body["param"] == "training_file"
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model=model, training_file=upload(client, ROWS))
    assert err.value.body["param"] == "model"


def test_two_projects_cannot_see_read_use_or_delete_each_others_work(engine_url: str) -> None:
    ada, bob, default = _client(engine_url, "proj_ada"), _client(engine_url, "proj_bob"), _client(engine_url)
    ada_job, bob_job = _fine_tune(ada, "ada"), _fine_tune(bob, "bob")

    _sees_none_of(bob, ada_job)
    _sees_none_of(ada, bob_job)
    _sees_none_of(default, ada_job)  # no header is a project of its own, not a view of all

    # Nothing the other project tried touched them: each still has and uses its own.
    for client, job in [(ada, ada_job), (bob, bob_job)]:
        assert _sees(client, job)
        assert client.files.content(job.training_file).read().startswith(b'{"prompt"')
        assert client.fine_tuning.jobs.list_events(job.id).data[0].message == "The job has successfully completed"
        reply = client.completions.create(model=job.fine_tuned_model, prompt=ROWS[0]["prompt"], temperature=0,
                                          max_tokens=1)
        assert reply.choices[0].text == ROWS[0]["completion"]
    # A fine-tune of one's own fine-tuned model stays in the project.
    again = ada.fine_tuning.jobs.create(model=ada_job.fine_tuned_model, training_file=ada_job.training_file,
                                        hyperparameters={"n_epochs": 1})
    assert wait_for(ada, again.id, ("succeeded", "failed")).status == "succeeded"
    assert bob.models.delete(bob_job.fine_tuned_model).deleted
    assert ada_job.fine_tuned_model in {m.id for m in ada.models.list().data}


def test_a_stored_response_is_its_projects_alone(engine_url: str) -> None:
    ada, bob = _client(engine_url, "proj_ada"), _client(engine_url, "proj_bob")
    kept = ada.responses.create(model="local-text", input="Remember the word teal.", max_output_tokens=16)
    missing = f"Response with id '{kept.id}' not found."
    _not_found(lambda: bob.responses.retrieve(kept.id), missing)
    _not_found(lambda: bob.responses.input_items.list(kept.id), missing)
    _not_found(lambda: bob.responses.create(model="local-text", input="And?", previous_response_id=kept.id,
                                            max_output_tokens=16), missing)
    _not_found(lambda: bob.responses.delete(kept.id), missing)
    assert ada.responses.retrieve(kept.id).id == kept.id
    assert ada.responses.create(model="local-text", input="And?", previous_response_id=kept.id,
                                max_output_tokens=16).previous_response_id == kept.id


def test_no_header_is_the_default_project(engine_url: str) -> None:
    default, ada = _client(engine_url), _client(engine_url, "proj_ada")
    mine = upload(default, ROWS)
    assert mine in {f.id for f in default.files.list().data}
    assert mine not in {f.id for f in ada.files.list().data}
    # An empty header is no header.
    headers = {"Authorization": f"Bearer {TEST_KEY}", "OpenAI-Project": ""}
    assert httpx.get(f"{engine_url}/files/{mine}", headers=headers).json()["id"] == mine
    # The open health probe names the base models only, never a project's fine-tunes.
    models = httpx.get(engine_url.removesuffix("/v1") + "/health").json()["models"]
    assert "local-text" in models and not [m for m in models if m.startswith("ft:")]


def test_the_apps_clients_see_only_their_workspaces_files(engine_url: str) -> None:
    """The app's clients for the local engine, one per workspace (a non-ASCII identity too)."""
    def client(workspace: str) -> openai.OpenAI:
        return make_client(Connection("local", api_key=TEST_KEY, base_url=engine_url, project=engine_project(workspace)))

    zoe, ada, single_user = client("zoë@example.com"), client("ada@example.com"), client("local")
    theirs = {name: upload(c, ROWS, f"{name}.jsonl") for name, c in [("zoe", zoe), ("ada", ada), ("local", single_user)]}
    for name, c in [("zoe", zoe), ("ada", ada), ("local", single_user)]:
        assert {f.filename for f in c.files.list().data if f.id in theirs.values()} == {f"{name}.jsonl"}
    # The single-user app's workspace is the engine's default project: an SDK user without a header shares it.
    assert theirs["local"] in {f.id for f in _client(engine_url).files.list().data}


def _untag(data_dir: Path, *names: str) -> None:
    """Make saved entries look as they did before projects: no tag."""
    for name in names:
        for path in data_dir.glob(name):
            entry = json.loads(path.read_text())
            entry.pop("project")
            path.write_text(json.dumps(entry))


def test_projects_survive_a_restart_and_data_from_before_them_is_the_default_projects(start_engine,
                                                                                       tmp_path: Path) -> None:
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", "0") as url:
        ada_job = _fine_tune(_client(url, "proj_ada"), "ada")
        old_job = _fine_tune(_client(url), "old")
    # The default project's job, files and model as an engine without projects saved them.
    _untag(tmp_path, f"files/{old_job.training_file}.json", f"files/{old_job.result_files[0]}.json",
           f"fine_tuning/jobs/{old_job.id}.json", f"fine_tuning/models/{old_job.id}*.json")
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", "0") as url:
        ada, bob, default = _client(url, "proj_ada"), _client(url, "proj_bob"), _client(url)
        assert _sees(ada, ada_job) and _sees(default, old_job)
        _sees_none_of(bob, ada_job)
        _sees_none_of(default, ada_job)
        _sees_none_of(ada, old_job)
