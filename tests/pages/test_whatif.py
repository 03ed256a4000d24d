"""What-ifs under a Completions run: branch points at other settings, and a branch continued
from an alternative, sent to the engine with the prompt it should have."""

from __future__ import annotations

from tests.conftest import recorded_requests

PROMPT = "The most useful function in Python is"


def finished_run(open_app):
    at = open_app("app_pages/completions.py")
    at.text_area(key="completions_prompt").input(PROMPT)
    at.number_input(key="completions_max_tokens").set_value(12)
    at.toggle(key="completions_stream").set_value(False)
    at.number_input(key="completions_seed").set_value(3).run()
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_colder_settings_mark_branch_points_and_say_only_returned_alternatives_are_known(open_app):
    at = finished_run(open_app)
    at.slider(key="completions:whatif:wi_t").set_value(0.05).run()
    notes = " ".join(c.value for c in at.caption)
    assert "Only the returned alternatives are known" in notes
    table = next(d.value for d in at.dataframe if "P(different) from" in d.value.columns)
    assert len(table) > 0 and (table["to"] >= table["P(different) from"]).all()


def test_continue_from_an_alternative_sends_prompt_prefix_and_token_and_shows_the_branch(open_app, engine_url):
    at = finished_run(open_app)
    body = recorded_requests(engine_url, "/v1/completions")[-1]["body"]
    assert body["prompt"] == PROMPT
    at.number_input(key="completions:whatif:branch_at0").set_value(2).run()
    alternative = at.selectbox(key="completions:whatif:branch_alt0")
    alternative.set_value(alternative.options and alternative.value).run()
    at.button(key="completions:whatif:branch_go0").click().run()
    assert not at.exception, [e.message for e in at.exception]

    sent = recorded_requests(engine_url, "/v1/completions")[-1]["body"]
    assert sent["prompt"].startswith(PROMPT) and sent["prompt"] != PROMPT
    assert sent.get("temperature") == body.get("temperature") and sent["max_tokens"] == 12
    branches = at.radio(key="completions:whatif:branch_pick")
    assert len(branches.options) == 2 and "└ at #2 of 0" in branches.options[1]
    # The branch's token view starts with the chosen alternative, then the continuation.
    assert branches.value == 1


def test_compare_shows_where_two_configurations_part_token_by_token(open_app):
    at = open_app("app_pages/compare.py")
    at.number_input(key="cmp_max_tokens").set_value(12).run()
    at.number_input(key="cmp0_seed").set_value(1)
    at.number_input(key="cmp1_seed").set_value(2).run()
    at.button(key="cmp_run").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    notes = " ".join(c.value for c in at.caption)
    assert "tokens shared" in notes and ("they part at token #" in notes or "identical" in notes)


def test_a_long_runs_other_settings_view_is_drawn_when_opened(open_app):
    at = open_app("app_pages/completions.py")
    at.number_input(key="completions_max_tokens").set_value(1100)
    at.text_area(key="completions_logit_bias:input").input("199999")  # no <|endoftext|>: all 1,100 tokens
    at.toggle(key="completions_stream").set_value(False).run()
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(e.label.startswith("Under other settings") for e in at.expander)
    assert not any(c.value.startswith("Marked:") for c in at.caption)  # not built: the expander is closed

    at.session_state["completions:whatif:wi_open"] = True  # the user opens it
    at.run()
    assert any(c.value.startswith("Marked:") for c in at.caption)
    assert at.slider(key="completions:whatif:wi_t").value == 0.2
