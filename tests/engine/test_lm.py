"""The n-gram model itself, in-process: a proper distribution over the full vocabulary."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from local_engine import chat_template, lm
from local_engine.sampling import SamplingParams, StopBuffer, TokenInfo, choose

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PLAYGROUND_TEST_CACHE", ROOT / ".cache" / "engine"))


@pytest.fixture(scope="module")
def model() -> lm.TextModel:
    return lm.TextModel.load(CACHE)


def ctx_of(model: lm.TextModel, text: str) -> list[int]:
    return [model.encoding.eot_token, *model.encoding.encode(text)]


@pytest.mark.parametrize("text", ["", "Return the", "zzqx unlikely words 한국어", "The default value is"])
def test_every_id_has_probability_and_they_sum_to_one(model: lm.TextModel, text: str) -> None:
    probs = model.next_probs(ctx_of(model, text))
    assert probs.dtype == np.float32
    assert probs.shape == (model.vocab_size,) == (200_019,)
    assert probs.min() > 0
    assert abs(probs.sum(dtype=np.float64) - 1.0) < 1e-4
    logp = model.next_logprobs(ctx_of(model, text))
    assert abs(np.exp(logp.astype(np.float64)).sum() - 1.0) < 1e-4


def test_the_model_learned_docstring_english(model: lm.TextModel) -> None:
    enc = model.encoding
    ids, _ = model.top_k(model.next_dist(ctx_of(model, "Return the number of")), 20)
    words = {enc.decode([i]).strip() for i in ids.tolist()}
    assert words & {"bytes", "items", "elements", "lines", "seconds", "characters"}
    # a common continuation beats a random one
    ctx = ctx_of(model, "If the file does not")
    assert model.logprob_of(ctx, enc.encode(" exist")[0]) > model.logprob_of(ctx, enc.encode(" banana")[0]) + 5


def test_score_matches_the_dense_distribution(model: lm.TextModel) -> None:
    enc = model.encoding
    ctx = [enc.eot_token]
    target = enc.encode("Return a new list of the items in the dictionary.")
    scores = model.score(ctx, target)
    seq = list(ctx)
    for tok, s in zip(target, scores):
        dense = float(model.next_logprobs(seq)[tok])
        assert math.isclose(s, dense, abs_tol=2e-5)
        seq.append(tok)


def test_top_k_matches_a_full_sort(model: lm.TextModel) -> None:
    for text in ["", "Return the", "os.path", "한국어"]:
        dist = model.next_dist(ctx_of(model, text))
        ids, lps = model.top_k(dist, 20)
        full = np.lexsort((np.arange(model.vocab_size), -dist.probs))[:20]
        assert ids.tolist() == full.tolist()
        assert np.allclose(lps, np.log(dist.probs[full].astype(np.float64)))


def test_cache_round_trip_gives_the_same_model(model: lm.TextModel, tmp_path: Path) -> None:
    built = lm.TextModel.load(tmp_path)  # trains (nothing cached there yet) and writes the cache
    assert list(tmp_path.glob("text-lm-*.npz"))
    loaded = lm.TextModel.load(tmp_path)
    ctx = ctx_of(model, "Return the")
    assert np.array_equal(built.next_probs(ctx), loaded.next_probs(ctx))
    assert np.array_equal(built.next_probs(ctx), model.next_probs(ctx))


def test_adaptation_mixes_in_the_examples(model: lm.TextModel) -> None:
    enc = model.encoding
    eot = enc.eot_token
    example = [eot, *enc.encode("Bake the cake at 180 degrees for forty minutes."), eot]
    tuned = model.adapted([example], weight=4.0, order=8)
    ctx = [eot, *enc.encode("Bake the cake at 180 degrees for")]
    target = enc.encode(" forty")[0]
    assert tuned.logprob_of(ctx, target) > -0.5 > model.logprob_of(ctx, target)
    probs = tuned.next_probs(ctx)
    assert probs.min() > 0 and abs(probs.sum(dtype=np.float64) - 1) < 1e-4
    assert math.isclose(float(np.log(probs[target])), tuned.logprob_of(ctx, target), abs_tol=2e-5)
    # weight 0 is the base model; the layer survives JSON
    same = model.adapted([example], weight=0.0)
    assert np.allclose(same.next_probs(ctx), model.next_probs(ctx))
    again = model.with_adaptations([lm.Adaptation.from_json(a.to_json()) for a in tuned.adaptations])
    assert np.array_equal(again.next_probs(ctx), tuned.next_probs(ctx))
    assert model.adaptations == []  # the base is untouched


def test_chat_template_counts_exactly(model: lm.TextModel) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}]},
    ]
    text = chat_template.render(messages)
    assert text == "System.\n\nBe brief.\n\nUser.\n\nHello\nthere\n\nAssistant.\n\n"
    assert chat_template.count_prompt_tokens(model.encoding, messages) == len(model.encoding.encode(text))


# --------------------------------------------------------------------------- sampling units


def info(i: int) -> TokenInfo:
    return TokenInfo(i, -1.0, [], b"")


def test_stop_buffer_holds_back_a_stop_that_spans_tokens() -> None:
    buf = StopBuffer(["END"])
    out = []
    for i, piece in enumerate(["abc E", "N", "D tail"]):
        chunk, stopped = buf.feed(info(i), piece)
        if chunk:
            out.append(chunk.text)
        if stopped:
            break
    assert stopped and "".join(out) == "abc "
    buf = StopBuffer(["END"])
    texts = [buf.feed(info(0), "abc E")[0].text, buf.feed(info(1), "Nx")[0].text]
    assert texts == ["abc ", "ENx"]


def test_choose_follows_temperature_bias_and_top_p(model: lm.TextModel) -> None:
    dist = model.next_dist(ctx_of(model, "Return the"))
    top = int(np.argmax(dist.probs))
    rng = np.random.default_rng(0)
    assert choose(dist, SamplingParams(temperature=0), {}, rng) == top
    assert choose(dist, SamplingParams(temperature=1, top_p=1e-6), {}, rng) == top
    assert choose(dist, SamplingParams(temperature=0, logit_bias={top: -100}), {}, rng) != top
    assert choose(dist, SamplingParams(temperature=1.5, logit_bias={42: 100}), {}, rng) == 42
    assert choose(dist, SamplingParams(temperature=0, frequency_penalty=2.0), {top: 5}, rng) != top
