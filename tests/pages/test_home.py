from tests.pages.azure import use_azure


def test_home_says_what_the_app_is_and_runs_on_the_local_engine(open_app):
    at = open_app()
    assert at.title[0].value == "OpenAI Playground"
    assert any("local engine" in info.value for info in at.info)
    assert at.sidebar.selectbox(key="conn_provider").value == "local"


def test_connection_check_lists_the_engines_models(open_app):
    at = open_app()
    at.sidebar.button(key="conn_check").click().run()
    assert not at.exception
    assert at.sidebar.success and "Connected" in at.sidebar.success[0].value


def test_unreachable_compatible_server_is_explained_without_traceback(open_app):
    at = open_app()
    at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
    at.sidebar.text_input(key="conn_compat_base").input("http://127.0.0.1:9/v1").run()
    at.sidebar.button(key="conn_check").click().run()
    assert not at.exception
    assert "Could not reach http://127.0.0.1:9" in at.sidebar.error[0].value


def test_a_typed_key_never_appears_in_the_page(open_app):
    at = open_app()
    at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
    at.sidebar.text_input(key="conn_compat_base").input(at.session_state["connection"].base_url or "http://127.0.0.1:9/v1").run()
    at.sidebar.text_input(key="conn_compat_key").input("sk-secret-abcdefghijklmnop123").run()
    at.sidebar.button(key="conn_check").click().run()
    shown = " ".join(str(el.value) for el in (*at.sidebar.error, *at.sidebar.success, *at.markdown, *at.error))
    assert "sk-secret-abcdefghijklmnop123" not in shown


def test_azure_connection_lists_deployments(open_app, engine_url):
    at = use_azure(open_app(), engine_url)
    at.sidebar.button(key="conn_check").click().run()
    assert not at.exception
    assert "Connected: 6 deployments" in at.sidebar.success[0].value and "gpt-4o-mini" in at.sidebar.success[0].value


def test_azure_errors_are_explained_in_plain_words(open_app, engine_url):
    at = use_azure(open_app(), engine_url, key="wrong-key")
    at.sidebar.button(key="conn_check").click().run()
    assert "Azure refused the key" in at.sidebar.error[0].value
    assert "wrong-key" not in at.sidebar.error[0].value
    at = use_azure(open_app(), engine_url, version="1999-01-01")
    at.sidebar.button(key="conn_check").click().run()
    assert "does not support this api-version" in at.sidebar.error[0].value
