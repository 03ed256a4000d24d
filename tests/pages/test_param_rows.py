"""A parameter added as one row of the table (playground/params.py) is a control on its page,
goes into the request, is checked before Run, and comes back from a share link."""

from __future__ import annotations

from tests.conftest import recorded_requests


def test_the_safety_identifier_row_is_a_control_sent_checked_and_linked(open_app, engine_url):
    at = open_app("app_pages/chat.py")
    box = at.text_input(key="chat_safety_identifier")
    assert box.label == "Safety identifier"

    box.input("x" * 65).run()
    assert any("safety_identifier" in w.value and "at most 64 characters (got 65)" in w.value for w in at.warning)

    at.text_input(key="chat_safety_identifier").input("user-7f3a").run()
    assert not any("safety_identifier" in w.value for w in at.warning)
    at.chat_input(key="chat_input").set_value("Hello?").run()
    assert not at.exception
    assert recorded_requests(engine_url, "/v1/chat/completions")[-1]["body"]["safety_identifier"] == "user-7f3a"
    assert at.query_params["safety_identifier"] == "user-7f3a"  # the share link holds it
