"""Workspaces on both backends: two identities each see only their own runs and presets;
a run or preset shared with the team is visible to both and changed only by its owner;
a preset name already taken is an error unless overwriting is asked for."""

from __future__ import annotations

from typing import Callable

import pytest

from playground.db import ReadOnly
from playground.history import History, Preset, PresetExists, Run, RunFilter
from playground.workspaces import workspace_of


def _run(prompt: str, **kw) -> Run:
    return Run("completions", "local-text", {"prompt": prompt}, {"choices": [{"text": "answer"}]}, **kw)


def test_each_identity_sees_only_its_own_runs_and_a_shared_run_is_seen_by_both(history_target: Callable[[], str]) -> None:
    history = History(history_target())
    ada, bob = history.scoped("ada@example.com"), history.scoped("bob@example.com")
    private = ada.add(_run("ada's private corpus line", tags=["mine"]))
    team = ada.add(_run("ada's demo for the team"))
    bobs = bob.add(_run("bob's own prompt", tags=["his"]))

    assert [r.id for r in ada.search().runs] == [team, private] and ada.count() == 2
    assert [r.id for r in bob.search().runs] == [bobs] and bob.count() == 1
    assert bob.get(private) is None and bob.search(RunFilter(text="corpus")).total == 0
    assert bob.tags() == ["his"] and ada.tags() == ["mine"]
    assert bob.export_jsonl([private, bobs]).count("\n") == 1  # another's run is not exported
    assert bob.delete([private]) == 0 and ada.get(private) is not None

    ada.update(team, shared=True)
    assert {r.id for r in bob.search().runs} == {team, bobs}
    assert bob.get(team) is not None and bob.get(team).shared  # type: ignore[union-attr]
    with pytest.raises(ReadOnly, match="only its owner"):
        bob.update(team, title="mine now")
    assert bob.delete([team]) == 0
    assert history.scoped("carol@example.com").search().total == 1  # the team sees the shared run only


def test_presets_belong_to_a_workspace_and_are_never_replaced_silently(history_target: Callable[[], str]) -> None:
    history = History(history_target())
    ada, bob = history.scoped("ada"), history.scoped("bob")
    ada.save_preset("chat", "team", {"temperature": 0.1})
    bob.save_preset("chat", "team", {"temperature": 1.5})  # the same name in another workspace: another preset
    assert ada.load_preset("chat", "team") == {"temperature": 0.1} and bob.load_preset("chat", "team") == {"temperature": 1.5}

    with pytest.raises(PresetExists, match="already exists"):
        ada.save_preset("chat", "team", {"temperature": 0.9})
    assert ada.load_preset("chat", "team") == {"temperature": 0.1}
    ada.save_preset("chat", "team", {"temperature": 0.9}, overwrite=True)
    assert ada.load_preset("chat", "team") == {"temperature": 0.9}

    ada.save_preset("chat", "house style", {"top_p": 0.5})
    assert bob.presets("chat") == ["team"]
    ada.share_preset("chat", "house style")
    assert bob.presets("chat") == ["house style", "team"] and bob.load_preset("chat", "house style") == {"top_p": 0.5}
    assert bob.load_preset("chat", "team") == {"temperature": 1.5}  # one's own first
    bob.delete_preset("chat", "house style")  # not his: nothing happens
    assert ada.presets("chat") == ["house style", "team"]


def test_the_identity_comes_from_the_login_or_the_configured_header_only() -> None:
    header = {"PLAYGROUND_IDENTITY_HEADER": "X-Forwarded-Email"}
    assert workspace_of({}, {}, {}) == "local"  # no login, no proxy: one local workspace
    assert workspace_of({"X-Forwarded-Email": "Ada@Example.com"}, {}, {}) == "local"  # a header nobody configured is not trusted
    assert workspace_of({"x-forwarded-email": "Ada@Example.com"}, {}, header) == "ada@example.com"
    assert workspace_of({}, {}, header) is None  # configured but missing: no one's history
    assert workspace_of({"X-Forwarded-Email": "a\nb"}, {}, header) is None
    assert workspace_of({}, {"email": "bob@example.com", "sub": "123"}, header) == "bob@example.com"
    assert workspace_of({}, {"sub": "oidc|123"}, {}) == "oidc|123"


def test_a_preset_list_names_each_presets_owner_and_loads_the_one_picked(history_target: Callable[[], str]) -> None:
    history = History(history_target())
    ada, bob = history.scoped("ada"), history.scoped("bob")
    ada.save_preset("chat", "team", {"temperature": 0.1})
    bob.save_preset("chat", "team", {"temperature": 1.5})
    bob.share_preset("chat", "team")
    assert ada.preset_list("chat") == [Preset("team", "ada", False, True), Preset("team", "bob", True, False)]  # one's own first
    assert ada.load_preset("chat", "team", "bob") == {"temperature": 1.5} and ada.load_preset("chat", "team", "ada") == {"temperature": 0.1}
    bob.share_preset("chat", "team", False)
    assert ada.load_preset("chat", "team", "bob") is None and [p.workspace for p in ada.preset_list("chat")] == ["ada"]
