"""Branch probabilities from the returned alternatives hold against the local engine's own
full distribution at every position (issue: what-ifs at a token)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from local_engine import lm, retrieval
from local_engine.sampling import is_special
from playground.logprobs import from_completion_logprobs
from playground.whatif import branch_points
from tests.enginerunner import ROOT

PROMPT = "Return the number of items in a"


@pytest.fixture(scope="module")
def model() -> lm.TextModel:
    cache = os.environ.get("PLAYGROUND_TEST_CACHE", ROOT / ".cache" / "engine")
    retrieval.retriever(cache)  # the engine answers with the model conditioned on the prompt
    return lm.TextModel.load(cache)


def exact_p_same(probs: np.ndarray, chosen: int, temperature: float, top_p: float) -> float:
    """local_engine/sampling.py's draw on the whole vocabulary."""
    with np.errstate(divide="ignore"):
        z = np.log(probs) / temperature
    q = np.exp(z - z.max())
    q /= q.sum()
    order = np.argsort(-q, kind="stable")
    keep = order[: int(np.searchsorted(np.cumsum(q[order]), top_p)) + 1] if top_p < 1 else order
    return float(q[chosen] / q[keep].sum()) if chosen in set(keep.tolist()) else 0.0


@pytest.mark.parametrize(("temperature", "top_p"), [(0.2, 1.0), (0.7, 0.9), (1.5, 0.5)])
def test_every_position_is_within_the_stated_bound(client, model, temperature, top_p):
    response = client.completions.create(model="local-text", prompt=PROMPT, max_tokens=24, logprobs=5, seed=7,
                                         extra_body={"logit_bias": {str(model.encoding.eot_token): -100}})
    tokens = from_completion_logprobs(response.choices[0].logprobs, encoding=model.encoding)
    points = branch_points(tokens, temperature=temperature, top_p=top_p, vocab_size=model.encoding.n_vocab)
    assert len(points) == len(tokens) > 10
    context = [model.encoding.eot_token, *model.encoding.encode(PROMPT)]
    model = retrieval.condition(model, model.encoding.encode(PROMPT))
    for token, point in zip(tokens, points):
        probs = np.asarray(model.next_dist(context).probs, dtype=np.float64)
        assert math.isclose(math.log(probs[token.token_id]), token.logprob, abs_tol=1e-4)
        exact_different = 1 - exact_p_same(probs, token.token_id, temperature, top_p)
        assert exact_different in point.p_different, (token.index, exact_different, point)
        assert not is_special(model, token.token_id)
        context.append(token.token_id)
