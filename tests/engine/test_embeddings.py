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
