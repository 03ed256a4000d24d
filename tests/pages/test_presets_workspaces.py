"""Presets on a team server: two users (Streamlit's login names them) each see their own
presets; sharing one is a button, and the colleague sees it marked with its owner, may load it
but not change, unshare or delete it. Saving under a name already taken asks before replacing,
and a colleague's preset of that name is never replaced. The embeddings cache is per user."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP

ADA, BOB = "ada@example.com", "bob@example.com"
PAGE = "app_pages/completions.py"


def _as(user: str, page: str = PAGE) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": user}
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _temperature(at: AppTest, value: float) -> None:
    at.slider(key="completions_temperature").set_value(value)
    at.run()


def _save(at: AppTest, name: str) -> None:
    at.text_input(key="preset_name:completions").set_value(name)
    at.run()
    at.button(key="preset_save:completions").click().run()


def _pick(at: AppTest, option: str | None) -> None:
    at.selectbox(key="preset_pick:completions").set_value(option)
    at.run()


def _load(at: AppTest, option: str) -> float:
    _pick(at, option)
    at.button(key="preset_load:completions").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at.slider(key="completions_temperature").value


def _options(at: AppTest) -> list[str]:
    return list(at.selectbox(key="preset_pick:completions").options)


def test_a_shared_preset_is_seen_by_a_colleague_marked_with_its_owner_and_only_its_owner_changes_it(app_env) -> None:
    ada = _as(ADA)
    _temperature(ada, 0.4)
    _save(ada, "demo")
    bob = _as(BOB)
    assert _options(bob) == []  # ada's preset is hers

    _pick(ada, "demo")
    share = ada.button(key="preset_share:completions")
    assert share.label == "Share with the team" and not share.disabled
    share.click().run()
    ada.run()
    assert ada.selectbox(key="preset_pick:completions").options == ["demo · shared with the team"]
    assert ada.button(key="preset_share:completions").label == "Stop sharing"

    bob.run()
    colleague = f"demo · shared by {ADA}"
    assert _options(bob) == [colleague]
    assert _load(bob, colleague) == 0.4
    assert bob.button(key="preset_delete:completions").disabled and bob.button(key="preset_share:completions").disabled

    ada.button(key="preset_share:completions").click().run()  # stop sharing
    bob.run()
    assert _options(bob) == []


def test_saving_under_a_taken_name_asks_before_replacing_and_never_touches_a_colleagues_preset(app_env) -> None:
    bob = _as(BOB)
    _temperature(bob, 1.5)
    _save(bob, "team")
    _pick(bob, "team")
    bob.button(key="preset_share:completions").click().run()

    ada = _as(ADA)
    _temperature(ada, 0.4)
    _save(ada, "team")  # the colleague's "team" is his: hers is another preset
    assert not ada.warning
    assert _options(ada) == ["team", f"team · shared by {BOB}"]

    _temperature(ada, 0.9)
    _save(ada, "team")
    assert any("already have a preset named “team”" in w.value for w in ada.warning)
    assert _load(ada, "team") == 0.4  # not replaced without asking
    ada.button(key="preset_replace_cancel:completions").click().run()
    assert not ada.warning and _load(ada, "team") == 0.4

    _temperature(ada, 0.9)
    _save(ada, "team")
    ada.button(key="preset_replace:completions").click().run()
    assert not ada.warning
    assert _load(ada, "team") == 0.9
    assert _load(ada, f"team · shared by {BOB}") == 1.5
    bob.run()
    assert _load(bob, "team") == 1.5


def test_each_user_has_an_embeddings_cache_of_their_own(app_env) -> None:
    def cache_file(at: AppTest) -> str:
        return next(c.value for c in at.caption if "vectors.sqlite" in c.value).split("`")[1]

    ada, bob = _as(ADA, "app_pages/embeddings.py"), _as(BOB, "app_pages/embeddings.py")
    assert cache_file(ada) != cache_file(bob)
    assert cache_file(_as(ADA, "app_pages/embeddings.py")) == cache_file(ada)
