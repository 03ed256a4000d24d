"""POST /v1/embeddings on the local engine, through the openai SDK over HTTP."""

from __future__ import annotations

import base64

import httpx
import numpy as np
import openai
import pytest

import tiktoken_offline
from tests.conftest import TEST_KEY, recorded_requests

MODEL = "local-embedding"
ENC = tiktoken_offline.get_encoding("o200k_base")


def vectors(response) -> np.ndarray:  # noqa: ANN001
    return np.array([d.embedding for d in response.data], dtype=np.float64)


def test_listed_as_a_model(client: openai.OpenAI) -> None:
    assert MODEL in [m.id for m in client.models.list().data]


def test_string_input_gives_one_unit_vector_and_counts_tokens(client: openai.OpenAI) -> None:
    text = "Return the number of items in a container."
    r = client.embeddings.create(model=MODEL, input=text, encoding_format="float")
    assert r.object == "list" and r.model == MODEL
    assert [d.index for d in r.data] == [0] and r.data[0].object == "embedding"
    v = vectors(r)
    assert v.shape == (1, 256)
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)
    assert r.usage.prompt_tokens == r.usage.total_tokens == len(ENC.encode(text))


def test_every_input_form_gives_the_same_vectors(client: openai.OpenAI, engine_url: str) -> None:
    texts = ["Open a file and return a stream.", "Compute the greatest common divisor."]
    ids = [ENC.encode(t) for t in texts]
    as_strings = vectors(client.embeddings.create(model=MODEL, input=texts, encoding_format="float"))
    as_token_arrays = vectors(client.embeddings.create(model=MODEL, input=ids, encoding_format="float"))
    one_token_array = client.embeddings.create(model=MODEL, input=ids[0], encoding_format="float")
    assert as_strings.shape == (2, 256)
    np.testing.assert_allclose(as_token_arrays, as_strings, atol=1e-6)
    np.testing.assert_allclose(vectors(one_token_array)[0], as_strings[0], atol=1e-6)
    assert one_token_array.usage.prompt_tokens == len(ids[0])
    bodies = [r["body"] for r in recorded_requests(engine_url, "/embeddings")[-3:]]
    assert bodies[1]["input"] == ids and bodies[2]["input"] == ids[0]


def test_base64_is_the_float32_bytes_of_the_float_vectors(client: openai.OpenAI, engine_url: str) -> None:
    texts = ["Sort a list in place.", "Send bytes over a socket."]
    floats = vectors(client.embeddings.create(model=MODEL, input=texts, encoding_format="float"))
    raw = client.embeddings.create(model=MODEL, input=texts, encoding_format="base64")
    decoded = np.array([np.frombuffer(base64.b64decode(d.embedding), dtype="<f4") for d in raw.data])
    np.testing.assert_allclose(decoded, floats, atol=1e-7)
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    by_default = vectors(client.embeddings.create(model=MODEL, input=texts))
    np.testing.assert_allclose(by_default, floats, atol=1e-7)
    assert recorded_requests(engine_url, "/embeddings")[-1]["body"]["encoding_format"] == "base64"


def test_dimensions_shorten_and_renormalize(client: openai.OpenAI) -> None:
    text = "Decode a JSON document into Python objects."
    full = vectors(client.embeddings.create(model=MODEL, input=text, encoding_format="float"))[0]
    short = vectors(client.embeddings.create(model=MODEL, input=text, dimensions=64, encoding_format="float"))[0]
    assert short.shape == (64,)
    assert np.linalg.norm(short) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(short, full[:64] / np.linalg.norm(full[:64]), atol=1e-6)
    same = vectors(client.embeddings.create(model=MODEL, input=text, dimensions=256, encoding_format="float"))[0]
    np.testing.assert_allclose(same, full, atol=1e-7)


def test_a_paraphrase_is_closer_than_unrelated_text(client: openai.OpenAI) -> None:
    triples = [
        ("How do I open a file for reading?", "What is the way to read a file?", "The weather is sunny today."),
        ("Sort the list in place.", "Sorts the list in place, modifying it.", "Parse an HTTP header."),
        ("Wait for the thread to finish.", "Block until the thread terminates.", "Encode the string as base64."),
        ("The request to the server timed out.", "The server failed to respond in time.", "Return the square root of x."),
        ("I love pizza with cheese.", "Cheese pizza is what I love.", "Quantum physics describes particles."),
    ]
    for text, paraphrase, unrelated in triples:
        v = vectors(client.embeddings.create(model=MODEL, input=[text, paraphrase, unrelated], encoding_format="float"))
        assert v[0] @ v[1] > v[0] @ v[2] + 0.1, (text, v[0] @ v[1], v[0] @ v[2])


def test_deterministic_and_independent_of_batch(client: openai.OpenAI) -> None:
    texts = ["Create a temporary directory.", "Make a new temp folder.", "!!!", "日本語のテキスト"]
    first = vectors(client.embeddings.create(model=MODEL, input=texts, encoding_format="float"))
    again = vectors(client.embeddings.create(model=MODEL, input=texts, encoding_format="float"))
    alone = vectors(client.embeddings.create(model=MODEL, input=texts[2], encoding_format="float"))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(alone[0], first[2], atol=1e-7)
    # Texts the model knows nothing of still get distinct unit vectors.
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert abs(first[2] @ first[3]) < 0.5


def _bad_request(client: openai.OpenAI, **kwargs: object) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model=MODEL, **kwargs)
    return info.value


@pytest.mark.parametrize("bad_input", ["", [], [""], ["ok", ""], [[]], [1.5], ["text", [1, 2]], {"text": "x"}])
def test_empty_or_malformed_input_is_a_400_naming_input(client: openai.OpenAI, bad_input: object) -> None:
    error = _bad_request(client, input=bad_input)
    assert error.param == "input"
    assert error.body["type"] == "invalid_request_error"


def test_more_than_2048_inputs_is_a_400(client: openai.OpenAI) -> None:
    client.embeddings.create(model=MODEL, input=["a"] * 2048)
    error = _bad_request(client, input=["a"] * 2049)
    assert error.param == "input" and "2048" in error.message


def test_an_input_over_8192_tokens_is_a_400(client: openai.OpenAI) -> None:
    ok = [1000] * 8192
    client.embeddings.create(model=MODEL, input=[ok])
    error = _bad_request(client, input=["short", " hello" * 8193])
    assert error.param == "input" and "8192" in error.message and "input[1]" in error.message


def test_more_than_300000_tokens_a_request_is_a_400(client: openai.OpenAI) -> None:
    error = _bad_request(client, input=[[1000] * 8000] * 38)  # 304,000 tokens
    assert error.param == "input" and "300000" in error.message


def test_token_ids_outside_the_encoding_are_a_400(client: openai.OpenAI) -> None:
    assert _bad_request(client, input=[[1, 2, 300_000]]).param == "input"
    assert _bad_request(client, input=[-1]).param == "input"


def test_dimensions_out_of_range_are_a_400(client: openai.OpenAI) -> None:
    assert _bad_request(client, input="x", dimensions=257).param == "dimensions"
    assert _bad_request(client, input="x", dimensions=0).param == "dimensions"
    assert _bad_request(client, input="x", encoding_format="int8").param == "encoding_format"  # type: ignore[arg-type]


def test_unknown_model_is_a_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="local-text", input="x")


def test_raw_response_has_the_api_fields(engine_url: str) -> None:
    r = httpx.post(
        f"{engine_url}/embeddings",
        json={"model": MODEL, "input": ["a b", "c d"], "encoding_format": "float", "user": "u-1"},
        headers={"Authorization": f"Bearer {TEST_KEY}"},
        timeout=30,
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) == {"object", "data", "model", "usage"}
    assert set(body["data"][0]) == {"object", "index", "embedding"}
    assert set(body["usage"]) == {"prompt_tokens", "total_tokens"}
    assert all(isinstance(x, float) for x in body["data"][1]["embedding"])


# --------------------------------------------------------------------------- WordLlama, aliases, encodings

CL100K = tiktoken_offline.get_encoding("cl100k_base")
API_NAMES = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")


def test_the_api_embedding_names_serve_the_local_model_without_being_listed(client: openai.OpenAI) -> None:
    text = "Where is my parcel?"
    direct = vectors(client.embeddings.create(model=MODEL, input=text, encoding_format="float"))
    listed = [m.id for m in client.models.list().data]
    for name in API_NAMES:
        r = client.embeddings.create(model=name, input=text, encoding_format="float")
        assert r.model == name and name not in listed
        np.testing.assert_allclose(vectors(r), direct, atol=1e-7)
        assert r.usage.prompt_tokens == len(CL100K.encode(text))


def test_token_ids_are_decoded_with_the_named_models_encoding(client: openai.OpenAI) -> None:
    text = "My order arrived with a cracked screen; how do I return it?"
    direct = vectors(client.embeddings.create(model=MODEL, input=text, encoding_format="float"))[0]
    assert CL100K.encode(text) != ENC.encode(text)  # the two encodings differ on this text
    for name in API_NAMES:
        as_cl100k = vectors(client.embeddings.create(model=name, input=[CL100K.encode(text)], encoding_format="float"))[0]
        np.testing.assert_allclose(as_cl100k, direct, atol=1e-6)
    as_o200k = vectors(client.embeddings.create(model=MODEL, input=[ENC.encode(text)], encoding_format="float"))[0]
    np.testing.assert_allclose(as_o200k, direct, atol=1e-6)


def test_langchain_default_openai_embeddings_give_the_direct_vectors(client: openai.OpenAI, engine_url: str) -> None:
    from langchain_openai import OpenAIEmbeddings

    # LangChain's defaults: text-embedding-ada-002, texts sent as cl100k_base token ids.
    lc = OpenAIEmbeddings(base_url=engine_url, api_key=TEST_KEY, max_retries=0)
    texts = ["How do I get my money back?", "These running shoes were comfy for a half marathon."]
    got = np.array(lc.embed_documents(texts))
    query = np.array(lc.embed_query(texts[0]))
    sent = recorded_requests(engine_url, "/embeddings")[-1]["body"]
    assert sent["model"] == "text-embedding-ada-002" and sent["input"] == [CL100K.encode(texts[0])]
    direct = vectors(client.embeddings.create(model=MODEL, input=texts, encoding_format="float"))
    np.testing.assert_allclose(got, direct, atol=1e-6)
    np.testing.assert_allclose(query, direct[0], atol=1e-6)


def test_everyday_questions_find_the_row_that_answers_them(client: openai.OpenAI) -> None:
    rows = [
        "Refunds are issued to your original payment method within 5 days of receiving the return.",
        "This garden hose is sturdy and does not kink, great for watering the lawn.",
        "Wore these running sneakers for my first half marathon, no blisters at all.",
        "The blender crushes ice easily and makes smooth smoothies.",
        "Orders usually ship within two business days; tracking is emailed once it leaves the warehouse.",
        "The tent kept us dry during a rainy weekend of camping.",
    ]
    queries = {"how do I get my money back": 0, "comfortable shoes for a marathon": 2,
               "when will my package arrive": 4}
    v = vectors(client.embeddings.create(model="text-embedding-3-small", input=rows + list(queries)))
    for (query, want), q in zip(queries.items(), v[len(rows):]):
        assert int(np.argmax(v[: len(rows)] @ q)) == want, query


_NO_NETWORK = r"""
import json, socket, sys
attempts = []
real_connect = socket.socket.connect

def guarded(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        attempts.append(repr(address))
        raise OSError("network blocked by the test")
    return real_connect(self, address)

socket.socket.connect = guarded
socket.socket.connect_ex = lambda self, address: guarded(self, address) or 0
from fastapi.testclient import TestClient
from pathlib import Path
from local_engine.config import EngineConfig
from local_engine.server import create_app
config = EngineConfig(data_dir=Path(sys.argv[1]), cache_dir=Path(sys.argv[2]))
with TestClient(create_app(config)) as c:
    r = c.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "offline", "encoding_format": "float"})
    print(json.dumps({"status": r.status_code, "n": len(r.json()["data"][0]["embedding"]), "attempts": attempts}))
"""


def test_the_engine_starts_and_embeds_with_the_network_blocked(tmp_path) -> None:  # noqa: ANN001
    import json
    import os
    import subprocess
    import sys

    from tests.enginerunner import ROOT

    blackhole = "http://10.255.255.1:9"  # unroutable: a download through it could only hang or fail
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HTTP_PROXY": blackhole, "HTTPS_PROXY": blackhole,
           "http_proxy": blackhole, "https_proxy": blackhole, "HF_HOME": str(tmp_path / "hf")}
    cache = os.environ.get("PLAYGROUND_TEST_CACHE", str(ROOT / ".cache" / "engine"))
    out = subprocess.run([sys.executable, "-c", _NO_NETWORK, str(tmp_path), cache], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "n": 256, "attempts": []}
    assert not (tmp_path / "hf").exists()  # nothing was fetched into a hub cache either
