"""Branch probabilities from the returned alternatives hold against the full distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground.logprobs import Alternative, TokenInfo
from playground.whatif import branch_points, most_likely_branches, p_same

VOCAB = 5_000


def exact_p_same(p: np.ndarray, chosen: int, temperature: float, top_p: float) -> tuple[float, bool]:
    """The local engine's sampler (local_engine/sampling.py) on the full distribution: the
    probability of drawing `chosen`, and whether it is in the nucleus."""
    if temperature == 0:
        return float(int(np.argmax(p)) == chosen), int(np.argmax(p)) == chosen
    with np.errstate(divide="ignore"):
        z = np.log(p) / temperature
    q = np.exp(z - z.max())
    q /= q.sum()
    order = np.argsort(-q, kind="stable")
    cumulative = np.cumsum(q[order])
    keep = order[: int(np.searchsorted(cumulative, top_p)) + 1] if top_p < 1 else order
    inside = chosen in set(keep.tolist())
    return (float(q[chosen] / q[keep].sum()) if inside else 0.0), inside


def distributions(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = rng.choice(["zipf", "peaked", "flat", "two"])
    if shape == "zipf":
        p = 1 / np.arange(1, VOCAB + 1) ** rng.uniform(0.8, 2.0)
    elif shape == "peaked":
        p = rng.dirichlet(np.full(VOCAB, 0.01))
    elif shape == "flat":
        p = rng.uniform(0.5, 1.0, VOCAB)
    else:
        p = np.full(VOCAB, 1e-7)
        p[rng.integers(VOCAB)] = 0.45
        p[rng.integers(VOCAB)] = 0.45
    p = rng.permutation(p)
    return p / p.sum()


@pytest.mark.parametrize("seed", range(30))
def test_the_stated_interval_holds_the_exact_probability(seed: int) -> None:
    p = distributions(seed)
    rng = np.random.default_rng(1000 + seed)
    k = int(rng.choice([1, 5, 20]))
    top = np.argsort(-p, kind="stable")[:k]
    for chosen in (int(top[0]), int(top[-1]), int(rng.choice(top)), int(rng.integers(VOCAB))):
        for temperature in (0.0, 0.2, 0.7, 1.0, 1.5):
            for top_p in (1.0, 0.9, 0.5, 0.1):
                same, nucleus = p_same(math.log(p[chosen]), [math.log(p[t]) for t in top], chosen in set(top.tolist()),
                                       temperature=temperature, top_p=top_p, vocab_size=VOCAB)
                exact, inside = exact_p_same(p, chosen, temperature, top_p)
                assert exact in same, (temperature, top_p, k, exact, same)
                if nucleus != "uncertain":
                    assert inside == (nucleus == "inside")


def test_exact_where_the_alternatives_suffice() -> None:
    p = np.array([0.5, 0.3, 0.1] + [0.1 / 997] * 997)
    listed = [math.log(x) for x in p[:3]]
    same, _ = p_same(math.log(0.3), listed, True, temperature=1.0, top_p=1.0, vocab_size=1000)
    assert same.exact and math.isclose(same.low, 0.3)
    # top_p 0.75 at T=1 closes the nucleus after the second token: 0.3 / 0.8, whatever the tail holds.
    same, nucleus = p_same(math.log(0.3), listed, True, temperature=1.0, top_p=0.75, vocab_size=1000)
    assert nucleus == "inside" and same.exact and math.isclose(same.low, 0.3 / 0.8)
    # The third token falls outside that nucleus for certain.
    same, nucleus = p_same(math.log(0.1), listed, True, temperature=1.0, top_p=0.75, vocab_size=1000)
    assert nucleus == "outside" and same.high == 0
    # Greedy keeps only the most likely token.
    assert p_same(math.log(0.5), listed, True, temperature=0, top_p=1, vocab_size=1000)[0].low == 1
    assert p_same(math.log(0.3), listed, True, temperature=0, top_p=1, vocab_size=1000)[0].high == 0


def token(index: int, logprob: float, top: list[tuple[str, float]], text: str) -> TokenInfo:
    return TokenInfo(index, text, None, logprob, text.encode(), None,
                     tuple(Alternative(t, lp, t.encode()) for t, lp in top))


def test_branch_points_rank_the_positions_a_colder_sample_leaves() -> None:
    sure = token(0, math.log(0.97), [(" the", math.log(0.97)), (" a", math.log(0.02))], " the")
    coin = token(1, math.log(0.45), [(" cat", math.log(0.5)), (" dog", math.log(0.45))], " dog")
    points = branch_points([sure, coin], temperature=0.2, top_p=1.0)
    assert [b.index for b in most_likely_branches(points)][0] == 1
    assert points[0].p_different.high < 0.01
    assert points[1].p_different.low > 0.6  # at T=0.2 " cat" wins nearly always


def test_token_diff_finds_where_two_runs_part_and_the_logprob_gaps() -> None:
    from playground.token_diff import first_divergence, token_diff

    def run(words: list[tuple[str, float]]) -> list[TokenInfo]:
        return [token(i, lp, [(w, lp)], w) for i, (w, lp) in enumerate(words)]

    a = run([("The", -0.1), (" cat", -1.0), (" sat", -0.5), (" down", -0.2)])
    b = run([("The", -0.1), (" dog", -1.2), (" sat", -2.5), (" down", -0.2), (".", -0.3)])
    segments = token_diff(a, b)
    assert [s.kind for s in segments] == ["same", "changed", "same", "same", "only_b"]
    assert first_divergence(segments) == 1
    assert segments[2].logprob_gap == pytest.approx(2.0)
    assert first_divergence(token_diff(a, a)) is None
