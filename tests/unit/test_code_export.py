""""View code": the exported Python and curl really send the request the page sent, and never
carry the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from playground.catalog import model_info
from playground.code_export import curl_command, json_body, public_url, python_code
from playground.providers import Connection
from playground.requests import build_request
from tests.conftest import TEST_KEY, recorded_requests

LOCAL = model_info("local-text")
SECRET = "sk-proj-" + "secret" * 3 + "1234567890"  # built here so no scanner takes it for a key
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "It's \"quoted\", has a newline\nand 🙂 and $HOME and `ls`."},
]


def chat_request(stream: bool = False):
    settings = dict(
        max_tokens=12, temperature=0.5, stop=["\n\n", "END"], seed=4, logit_bias={"1234": -100},
        top_logprobs=3, stream=stream,
    )
    return build_request("chat", LOCAL, settings, messages=MESSAGES)


def completion_request():
    settings = dict(max_tokens=8, top_p=0.9, n=2, best_of=3, echo=True, logprobs=2, suffix="!", stream=False)
    return build_request("completions", LOCAL, settings, prompt="def f():\n    'It\\'s'")


def last_body(engine_url: str, path: str) -> dict:
    return recorded_requests(engine_url, path)[-1]["body"]


def test_python_code_sends_exactly_the_request(engine_url):
    connection = Connection("compatible", api_key=SECRET, base_url=engine_url)
    for request in (chat_request(), chat_request(stream=True), completion_request()):
        code = python_code(request, connection)
        assert SECRET not in code and 'os.environ["OPENAI_API_KEY"]' in code
        done = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "OPENAI_API_KEY": TEST_KEY},
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        path = "/chat/completions" if request.endpoint == "chat" else "/v1/completions"
        assert last_body(engine_url, path) == request.body()
        assert "total_tokens" in done.stdout  # the usage was printed


def test_curl_sends_exactly_the_request(engine_url):
    connection = Connection("compatible", api_key=SECRET, base_url=engine_url)
    for request in (chat_request(), completion_request()):
        command = curl_command(request, connection)
        assert SECRET not in command and "$OPENAI_API_KEY" in command
        done = subprocess.run(
            ["bash", "-c", command], env={**os.environ, "OPENAI_API_KEY": TEST_KEY},
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "choices" in json.loads(done.stdout)
        path = "/chat/completions" if request.endpoint == "chat" else "/v1/completions"
        assert last_body(engine_url, path) == request.body()


def test_json_is_the_body():
    request = completion_request()
    assert json.loads(json_body(request)) == {"model": "local-text", **request.params}


def test_azure_style_uses_the_deployment_and_api_key_header(engine_url):
    root = engine_url.removesuffix("/v1")
    connection = Connection("azure", api_key=SECRET, azure_endpoint=root, api_version="2024-10-21")
    request = chat_request()
    code = python_code(request, connection)
    assert "AzureOpenAI(" in code and "azure_endpoint=" in code and 'api_version="2024-10-21"' in code
    assert 'os.environ["AZURE_OPENAI_API_KEY"]' in code and SECRET not in code
    env = {**os.environ, "AZURE_OPENAI_API_KEY": TEST_KEY}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    command = curl_command(request, connection)
    assert '-H "api-key: $AZURE_OPENAI_API_KEY"' in command and SECRET not in command
    assert "/openai/deployments/local-text/chat/completions?api-version=2024-10-21" in command
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "choices" in json.loads(done.stdout), done.stdout + done.stderr
    body = request.body()
    body.pop("model")
    assert last_body(engine_url, "/openai/deployments/local-text/chat/completions") == body


def test_a_server_without_a_key_gets_a_placeholder_and_no_auth_header():
    connection = Connection("local", base_url="http://127.0.0.1:8765/v1")
    request = chat_request()
    assert 'api_key="not-needed"' in python_code(request, connection)
    assert 'base_url="http://127.0.0.1:8765/v1"' in python_code(request, connection)
    assert "Authorization" not in curl_command(request, connection)


def test_openai_without_a_base_url_uses_the_default_and_the_environment_key():
    connection = Connection("openai", api_key=SECRET)
    request = build_request("chat", model_info("gpt-4o-mini"), dict(), messages=MESSAGES)
    code = python_code(request, connection)
    assert "base_url" not in code and SECRET not in code
    assert curl_command(request, connection).startswith("curl https://api.openai.com/v1/chat/completions")


def test_credentials_in_a_base_url_never_reach_the_code():
    url = f"https://user:{SECRET}@proxy.example.com/v1/?key={SECRET}"
    assert public_url(url) == "https://proxy.example.com/v1"
    connection = Connection("compatible", base_url=url)
    request = chat_request()
    assert SECRET not in python_code(request, connection) and SECRET not in curl_command(request, connection)
