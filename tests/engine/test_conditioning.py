"""Requests condition the local text model: retrieval of corpus passages, and `suffix`."""

from __future__ import annotations

import math
import os
import re

import openai
import pytest

MODEL = "local-text"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def test_chat_answers_use_the_words_of_the_subject(client: openai.OpenAI) -> None:
    question = "How do I join path components?"
    doc = _words(os.path.join.__doc__ or "") | _words("Join two or more pathname components, inserting '/' as needed.")
    on_subject = 0
    for seed in range(4):
        r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}],
                                           temperature=1, seed=seed, max_tokens=40)
        on_subject += bool((_words(r.choices[0].message.content or "") - _words(question)) & doc)
    assert on_subject >= 2


def test_conditioned_logprobs_are_the_distribution_they_sample_from(client: openai.OpenAI) -> None:
    # Greedy text: each token is the argmax, so its logprob is the first of the top list,
    # and the top list of a step is sorted and sums to at most 1.
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What does json.dumps do?"}],
                                       temperature=0, max_tokens=12, logprobs=True, top_logprobs=5)
    for item in r.choices[0].logprobs.content:
        tops = [t.logprob for t in item.top_logprobs]
        assert item.logprob == pytest.approx(tops[0]) and tops == sorted(tops, reverse=True)
        assert sum(math.exp(t) for t in tops) <= 1 + 1e-6


def test_suffix_keeps_the_insertion_that_fits_best(client: openai.OpenAI) -> None:
    prompt, suffix = "Return the", " of the file, or None if the file is empty."
    for seed in range(3):
        r = client.completions.create(model=MODEL, prompt=prompt, suffix=suffix, max_tokens=6, temperature=1, seed=seed,
                                      logprobs=0)
        choice = r.choices[0]
        assert suffix not in choice.text and choice.finish_reason in ("stop", "length")
        assert "".join(choice.logprobs.tokens) == choice.text  # the logprobs are the insertion's own
        assert r.usage.completion_tokens >= len(choice.logprobs.tokens)  # every candidate is billed
    streamed = client.completions.create(model=MODEL, prompt=prompt, suffix=suffix, max_tokens=6, temperature=1,
                                         seed=0, stream=True)
    first = client.completions.create(model=MODEL, prompt=prompt, suffix=suffix, max_tokens=6, temperature=1, seed=0)
    assert "".join(c.choices[0].text for c in streamed if c.choices) == first.choices[0].text


def test_the_chosen_insertion_has_the_best_fit_of_the_candidates() -> None:
    import numpy as np

    from local_engine import infill, lm
    from local_engine.sampling import SamplingParams

    model = lm.base_model(os.environ.get("PLAYGROUND_TEST_CACHE", ".cache/engine"))
    enc = model.encoding
    prompt, suffix = enc.encode("Return the"), enc.encode(" of the file, or None if the file is empty.")
    filling = infill.Infilling(model, [enc.eot_token, *prompt], SamplingParams(max_tokens=6), np.random.default_rng(3),
                               suffix, candidates=6)
    chosen = [t.id for chunk in filling for t in chunk.tokens]
    assert len(filling.fits) == 6 and filling.fit == max(filling.fits)
    expected = model.score([enc.eot_token, *prompt], chosen).sum() + model.score([enc.eot_token, *prompt, *chosen],
                                                                                  suffix).sum()
    assert filling.fit == pytest.approx(expected, abs=1e-6)
