"""Switch an AppTest of the app to the Azure provider, on the session's engine."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import TEST_KEY

API_VERSION = "2024-10-21"


def use_azure(at: AppTest, engine_url: str, *, key: str = TEST_KEY, version: str = API_VERSION) -> AppTest:
    at.sidebar.selectbox(key="conn_provider").set_value("azure").run()
    at.sidebar.text_input(key="conn_azure_endpoint").input(engine_url.removesuffix("/v1")).run()
    at.sidebar.text_input(key="conn_azure_version").input(version).run()
    at.sidebar.text_input(key="conn_azure_key").input(key).run()
    return at
