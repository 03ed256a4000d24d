"""Every SDK failure becomes a short message with what to do; keys never show."""

import openai
import pytest

from playground.errors import explain, parse_duration, scrub
from playground.providers import Connection, make_client, safe_host


def test_durations_in_openai_format():
    assert parse_duration("1m30s") == 90
    assert parse_duration("120ms") == pytest.approx(0.12)
    assert parse_duration("6.5s") == 6.5


def test_scrub_removes_the_session_key_and_key_like_strings():
    key_like = "sk-proj-" + "ABCDEFGHIJKLMNOP1234"  # built here so no scanner takes it for a key
    text = scrub(f"bad key abcd-my-custom-key and {key_like}", ["abcd-my-custom-key"])
    assert "abcd-my-custom-key" not in text and key_like not in text


def test_safe_host_drops_credentials_paths_and_queries():
    assert safe_host("https://user:sk-secret@example.com:8443/v1?api-key=x") == "https://example.com:8443"


def test_connection_repr_hides_the_key():
    assert "sk-" not in repr(Connection("openai", api_key="sk-" + "abcdefghijklmnopqrstu"))


def test_wrong_key_rate_limit_bad_param_and_unknown_model_over_http(start_engine):
    with start_engine("--api-key", "right-key", "--rpm", "2") as url:
        wrong = make_client(Connection("compatible", api_key="wrong-key-123456", base_url=url))
        with pytest.raises(openai.AuthenticationError) as auth:
            wrong.models.list()
        problem = explain(auth.value, secrets=["wrong-key-123456"], where=url)
        assert "refused" in problem.title and "wrong-key-123456" not in problem.detail + problem.title

        right = make_client(Connection("compatible", api_key="right-key", base_url=url))
        with pytest.raises(openai.NotFoundError) as missing:
            right.models.retrieve("no-such-model")
        assert "404" in explain(missing.value).title

        right.models.list()  # the second request of the minute; the third is refused
        with pytest.raises(openai.RateLimitError) as limited:
            right.models.list()
        problem = explain(limited.value)
        assert problem.retry_after is not None and 0 < problem.retry_after <= 60
        assert "Wait" in problem.action


def test_a_server_that_is_down_is_explained(tmp_path):
    client = make_client(Connection("compatible", base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(openai.APIConnectionError) as down:
        client.models.list()
    problem = explain(down.value, where="http://127.0.0.1:9/v1")
    assert problem.title == "Could not reach http://127.0.0.1:9." and "running" in problem.action


def test_scrub_leaves_hex_data_alone_and_removes_an_azure_key_by_value():
    azure_key = "0123456789abcdef0123456789abcdef"
    token_bytes_hex = "e6b189e5ad97e381a7e69bb8e3818fe4"  # 16 bytes of UTF-8, as history stores them
    text = scrub(f'{{"b": "{token_bytes_hex}", "error": "bad key {azure_key}"}}', [azure_key])
    assert token_bytes_hex in text and azure_key not in text
