"""The Chat page under AppTest against the real engine: the conversation (add, edit, delete,
reorder, change role, run from a message, regenerate, clear), kept across page switches;
parameters in the request; the reply's tokens as the engine returned them."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import recorded_requests


def conversation(at: AppTest) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in at.session_state["chat_messages"]]


def ids(at: AppTest) -> list[str]:
    return [m["id"] for m in at.session_state["chat_messages"]]


def last_body(engine_url: str) -> dict:
    return recorded_requests(engine_url, "/v1/chat/completions")[-1]["body"]


def token_tables(at: AppTest) -> list:
    return [frame.value for frame in at.dataframe if "logprob" in frame.value.columns]


def send(at: AppTest, text: str) -> None:
    at.chat_input(key="chat_input").set_value(text).run()
    assert not at.exception, [e.message for e in at.exception]


def test_send_runs_with_the_parameters_and_shows_the_replys_tokens(open_app, engine_url, client):
    at = open_app("app_pages/chat.py")
    at.text_area(key="chat_system").input("Answer in one sentence.")
    at.number_input(key="chat_max_tokens").set_value(16)
    at.slider(key="chat_temperature").set_value(0.5)
    at.slider(key="chat_top_logprobs").set_value(7)
    at.number_input(key="chat_seed").set_value(3)
    at.text_area(key="chat_stop").input("\\n\\n")
    at.toggle(key="chat_stream").set_value(False).run()
    send(at, "What does len() return?")
    body = last_body(engine_url)
    expected_messages = [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "What does len() return?"},
    ]
    assert body == {
        "model": "local-text", "messages": expected_messages, "max_tokens": 16, "temperature": 0.5,
        "stop": ["\n\n"], "seed": 3, "logprobs": True, "top_logprobs": 7,
    }
    direct = client.chat.completions.create(**body)
    reply = direct.choices[0].message.content
    assert conversation(at)[-1] == ("assistant", reply)
    assert at.text_area(key=f"chat_msg:{ids(at)[-1]}:content").value == reply
    [table] = token_tables(at)
    assert table["logprob"].tolist() == [c.logprob for c in direct.choices[0].logprobs.content]
    assert table["id"].notna().all()  # ids from the bytes, in the model's encoding
    assert f"{direct.usage.prompt_tokens} + {direct.usage.completion_tokens}" in " ".join(m.value for m in at.metric)


def test_streamed_reply_with_n_two_and_choosing_the_other(open_app, engine_url, client):
    at = open_app("app_pages/chat.py")
    at.number_input(key="chat_n").set_value(2)
    at.number_input(key="chat_seed").set_value(8)
    at.number_input(key="chat_max_tokens").set_value(12).run()
    send(at, "Explain a dict.")
    body = last_body(engine_url)
    assert body["stream"] is True and body["n"] == 2 and body["logprobs"] is True and body["top_logprobs"] == 5
    direct = client.chat.completions.create(**{k: v for k, v in body.items() if k not in ("stream", "stream_options")})
    assert len(token_tables(at)) == 2
    assert conversation(at)[-1] == ("assistant", direct.choices[0].message.content)
    at.button(key="chat_use:1").click().run()
    assert conversation(at)[-1] == ("assistant", direct.choices[1].message.content)
    assert at.text_area(key=f"chat_msg:{ids(at)[-1]}:content").value == direct.choices[1].message.content


def test_add_edit_change_role_reorder_delete(open_app):
    at = open_app("app_pages/chat.py")
    for role in ("user", "assistant", "user"):
        at.selectbox(key="chat_new_role").select(role)
        at.button(key="chat_add").click().run()
    first, second, third = ids(at)
    at.text_area(key=f"chat_msg:{first}:content").input("one")
    at.text_area(key=f"chat_msg:{second}:content").input("two")
    at.text_area(key=f"chat_msg:{third}:content").input("three").run()
    assert conversation(at) == [("user", "one"), ("assistant", "two"), ("user", "three")]
    at.selectbox(key=f"chat_msg:{third}:role").select("assistant").run()
    assert conversation(at)[2] == ("assistant", "three")
    at.button(key=f"chat_msg:{third}:up").click().run()
    assert conversation(at) == [("user", "one"), ("assistant", "three"), ("assistant", "two")]
    at.button(key=f"chat_msg:{first}:down").click().run()
    assert conversation(at) == [("assistant", "three"), ("user", "one"), ("assistant", "two")]
    at.button(key=f"chat_msg:{second}:delete").click().run()
    assert conversation(at) == [("assistant", "three"), ("user", "one")]
    # the edited text is still in the boxes after the reorders
    assert at.text_area(key=f"chat_msg:{first}:content").value == "one"
    assert not at.exception


def test_regenerate_edit_and_rerun_from_an_earlier_message_and_clear(open_app, engine_url):
    at = open_app("app_pages/chat.py")
    at.number_input(key="chat_max_tokens").set_value(8).run()
    send(at, "First question?")
    send(at, "Second question?")
    assert [r for r, _ in conversation(at)] == ["user", "assistant", "user", "assistant"]
    requests_before = len(recorded_requests(engine_url, "/v1/chat/completions"))

    at.button(key="chat_regenerate").click().run()
    assert len(recorded_requests(engine_url, "/v1/chat/completions")) == requests_before + 1
    assert [m["role"] for m in last_body(engine_url)["messages"]] == ["user", "assistant", "user"]
    assert [r for r, _ in conversation(at)] == ["user", "assistant", "user", "assistant"]

    first = ids(at)[0]
    at.text_area(key=f"chat_msg:{first}:content").input("An edited first question?").run()
    at.button(key=f"chat_msg:{first}:run").click().run()
    assert last_body(engine_url)["messages"] == [{"role": "user", "content": "An edited first question?"}]
    assert [r for r, _ in conversation(at)] == ["user", "assistant"]
    assert conversation(at)[0][1] == "An edited first question?"

    at.button(key="chat_clear").click().run()
    assert conversation(at) == []
    assert not token_tables(at)


def test_the_conversation_and_settings_survive_a_page_switch(open_app):
    at = open_app("app_pages/chat.py")
    at.text_area(key="chat_system").input("Be terse.")
    at.slider(key="chat_top_logprobs").set_value(12)
    at.number_input(key="chat_max_tokens").set_value(6).run()
    send(at, "Hello?")
    before = conversation(at)
    at.switch_page("app_pages/completions.py").run()
    at.switch_page("app_pages/chat.py").run()
    assert not at.exception
    assert conversation(at) == before and before[0] == ("system", "Be terse.")
    assert at.text_area(key="chat_system").value == "Be terse."
    assert at.text_area(key=f"chat_msg:{ids(at)[1]}:content").value == "Hello?"
    assert at.slider(key="chat_top_logprobs").value == 12
    assert token_tables(at)  # the last reply's tokens are still shown


def test_logprobs_off_sends_none_and_disables_the_alternatives(open_app, engine_url):
    at = open_app("app_pages/chat.py")
    at.toggle(key="chat_logprobs").set_value(False).run()
    assert at.slider(key="chat_top_logprobs").disabled
    send(at, "Hi")
    body = last_body(engine_url)
    assert "logprobs" not in body and "top_logprobs" not in body
    assert not token_tables(at) and conversation(at)[-1][0] == "assistant"
