"""The engine answers Azure OpenAI's layout, driven by the SDK's own AzureOpenAI client."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY

API_VERSION = "2024-10-21"


@pytest.fixture
def azure(engine_url: str) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=engine_url.removesuffix("/v1"), api_version=API_VERSION, api_key=TEST_KEY, max_retries=0
    )


def test_chat_on_a_deployment_carries_content_filter_results(azure):
    raw = azure.chat.completions.with_raw_response.create(
        model="local-text", messages=[{"role": "user", "content": "Return a list"}], max_tokens=5, seed=1
    )
    body = json.loads(raw.text)
    assert body["prompt_filter_results"][0]["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert body["choices"][0]["content_filter_results"]["violence"]["filtered"] is False
    completion = raw.parse()
    assert completion.choices[0].message.content and completion.usage.completion_tokens <= 5


def test_completions_on_azure_equal_the_v1_route(azure, client):
    kwargs = dict(model="local-text", prompt="Return the number of", max_tokens=8, temperature=0)
    assert azure.completions.create(**kwargs).choices[0].text == client.completions.create(**kwargs).choices[0].text


def test_streamed_chat_opens_with_the_prompt_filter_chunk_and_joins(azure):
    stream = azure.chat.completions.create(
        model="local-text", messages=[{"role": "user", "content": "Hi"}], max_tokens=6, seed=3, stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices == [] and chunks[0].model_extra["prompt_filter_results"]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert all(c.choices[0].model_extra["content_filter_results"] for c in chunks[1:] if c.choices)


def test_deployment_names_map_to_models(start_engine):
    with start_engine("--azure-deployment", "gpt-4o-mini=local-text", "--api-key", "k") as url:
        client = openai.AzureOpenAI(azure_endpoint=url.removesuffix("/v1"), api_version=API_VERSION, api_key="k", max_retries=0)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], max_tokens=3)
        assert reply.model == "local-text"
        listed = httpx.get(f"{url.removesuffix('/v1')}/openai/deployments", params={"api-version": "2022-12-01"}, headers={"api-key": "k"}).json()
        assert listed["data"] == [{"id": "gpt-4o-mini", "model": "local-text", "object": "deployment", "status": "succeeded",
                                   "owner": "organization-owner", "scale_settings": {"scale_type": "standard"}}]


def test_unknown_deployment_is_deployment_not_found(azure):
    with pytest.raises(openai.NotFoundError) as err:
        azure.chat.completions.create(model="no-such-deployment", messages=[{"role": "user", "content": "Hi"}])
    assert err.value.body["code"] == "DeploymentNotFound"
    assert "no-such-deployment" in err.value.body["message"]


def test_missing_and_unsupported_api_versions_answer_as_azure_does(engine_url):
    root = engine_url.removesuffix("/v1")
    headers = {"api-key": TEST_KEY}
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    missing = httpx.post(f"{root}/openai/deployments/local-text/chat/completions", json=body, headers=headers)
    assert missing.status_code == 404 and missing.json() == {"error": {"code": "404", "message": "Resource not found"}}
    client = openai.AzureOpenAI(azure_endpoint=root, api_version="1999-01-01", api_key=TEST_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="local-text", **body)
    assert err.value.body["message"] == "API version not supported"


def test_a_wrong_key_is_refused_with_azures_message(engine_url):
    client = openai.AzureOpenAI(azure_endpoint=engine_url.removesuffix("/v1"), api_version=API_VERSION, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="local-text", messages=[{"role": "user", "content": "Hi"}])
    assert "invalid subscription key" in err.value.body["message"]


def test_an_entra_id_bearer_token_is_accepted_as_the_key(engine_url):
    client = openai.AzureOpenAI(
        azure_endpoint=engine_url.removesuffix("/v1"), api_version=API_VERSION,
        azure_ad_token_provider=lambda: TEST_KEY, max_retries=0,
    )
    assert client.completions.create(model="local-text", prompt="x", max_tokens=2).choices


def test_models_listed_under_openai(azure):
    assert "local-text" in [m.id for m in azure.models.list()]


def _png(size: int = 64) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_image_variations_on_a_deployment(engine_url, client):
    """Azure serves no dall-e-2 variations, so the SDK's AzureOpenAI does not route them to a
    deployment; the engine still answers the deployment path the issue names."""
    image = _png()
    root = engine_url.removesuffix("/v1")
    via_azure = httpx.post(
        f"{root}/openai/deployments/dall-e-2/images/variations",
        params={"api-version": API_VERSION},
        headers={"api-key": TEST_KEY},
        files={"image": ("a.png", image, "image/png")},
        data={"n": "2", "size": "256x256", "response_format": "b64_json"},
        timeout=60,
    )
    assert via_azure.status_code == 200, via_azure.text
    direct = client.images.create_variation(model="local-image", image=("a.png", image), n=2, size="256x256", response_format="b64_json")
    assert [d["b64_json"] for d in via_azure.json()["data"]] == [d.b64_json for d in direct.data]
