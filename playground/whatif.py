"""Where a finished run would have branched under another temperature and top_p.

At each position the API returns the chosen token's logprob and its k most likely
alternatives (k <= 20 on chat, <= 5 on completions). These logprobs are the model's
distribution p before temperature and top_p (the local engine documents it; OpenAI's are
the same), so the distribution a sample at temperature T and nucleus top_p draws from is

    q[j] = p[j]^(1/T) / Z,  Z = sum over the whole vocabulary of p[j]^(1/T),

cut to the nucleus (the smallest set of most likely tokens whose q sums to >= top_p) and
renormalized; T = 0 takes the most likely token. Penalties and logit_bias are not modelled.

Only the returned alternatives are known. The rest of the vocabulary holds the mass
R = 1 - (what was returned), each unseen token at most as likely as the least likely
alternative shown (m), and there are at most V - k of them. With a = 1/T, the unseen part of Z,
sum p^a, is then bounded:

  a > 1 (T < 1, convex): smallest when R is spread evenly, N * (R/N)^a; largest when it is
        packed into tokens of probability m: floor(R/m) * m^a + remainder^a.
  a < 1 (T > 1, concave): the other way round.
  a = 1: exactly R.

The completions endpoint appends the chosen token to its top list when it is not among the
most likely; a chosen token listed last is therefore not taken to be one of the top ones
(which only widens the bounds when it was).

Every probability below is an interval [low, high] that holds for every vocabulary
consistent with what was returned; low == high where the alternatives suffice (T = 1
without a nucleus, T = 0, or a nucleus that closes inside the returned alternatives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, Sequence

from playground.logprobs import TokenInfo, rebuild_text

O200K_VOCAB = 200_019  # tokens of o200k_base, the local engine's and current OpenAI models' encoding

Nucleus = Literal["inside", "outside", "uncertain"]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    @property
    def exact(self) -> bool:
        return math.isclose(self.low, self.high, rel_tol=1e-9, abs_tol=1e-12)

    def __contains__(self, value: float) -> bool:
        return self.low - 1e-9 <= value <= self.high + 1e-9


@dataclass(frozen=True)
class BranchPoint:
    index: int  # position in the run's token list
    token: str
    p_different: Interval  # probability that a sample at the new settings picks another token
    nucleus: Nucleus  # where the chosen token falls against the new top_p


def _unseen_power_sum(mass: float, cap: float, count: int, a: float) -> Interval:
    """Bounds of sum(x_i^a) over `count` values in [0, cap] that sum to `mass`."""
    if mass <= 0 or count <= 0:
        return Interval(0.0, 0.0)
    if a == 1:
        return Interval(mass, mass)
    spread = count * (mass / count) ** a
    if cap <= 0:
        packed = spread
    else:
        full = math.floor(mass / cap)
        rest = mass - full * cap
        packed = full * cap**a + (rest**a if rest > 0 else 0.0)
    return Interval(min(spread, packed), max(spread, packed))


def p_same(chosen_logprob: float, alternatives: Sequence[float], chosen_listed: bool, *,
           temperature: float, top_p: float, vocab_size: int = O200K_VOCAB) -> tuple[Interval, Nucleus]:
    """The probability of drawing the chosen token again at (temperature, top_p), and whether it
    lies inside the new nucleus. `alternatives` are the returned logprobs (the chosen token's
    among them when `chosen_listed`)."""
    probs = sorted((math.exp(lp) for lp in alternatives), reverse=True)
    p_c = math.exp(chosen_logprob)
    if temperature <= 0:
        # Greedy: the top alternative is the most likely token of the whole vocabulary.
        top_is_chosen = chosen_listed and bool(probs) and p_c >= probs[0] * (1 - 1e-9)
        if top_is_chosen and sum(p >= probs[0] * (1 - 1e-9) for p in probs) > 1:
            return Interval(0.0, 1.0), "uncertain"  # a tie: the API does not say which id wins
        return (Interval(1.0, 1.0), "inside") if top_is_chosen else (Interval(0.0, 0.0), "outside")
    if not probs:
        return Interval(0.0, 1.0), "uncertain"

    a = 1 / temperature
    known = sum(probs) + (0.0 if chosen_listed else p_c)
    # Every weight is taken relative to the most likely token's, so p^a does not underflow at small T.
    scale = max(probs[0], p_c)
    unseen = _unseen_power_sum(max(0.0, 1 - known) / scale, probs[-1] / scale,
                               vocab_size - len(probs) - (0 if chosen_listed else 1), a)
    weights = [(p / scale) ** a for p in probs]
    w_c = (p_c / scale) ** a
    listed_sum = sum(weights)
    z_low = listed_sum + (0.0 if chosen_listed else w_c) + unseen.low
    z_high = listed_sum + (0.0 if chosen_listed else w_c) + unseen.high

    # Mass (numerator) strictly above the chosen token, and so whether it can be in the nucleus.
    if chosen_listed:
        above = sum(w for p, w in zip(probs, weights) if p > p_c * (1 + 1e-9))
        tied_or_above = sum(w for p, w in zip(probs, weights) if p >= p_c * (1 - 1e-9)) - w_c  # ties: either order
        share_above = Interval(above / z_high, tied_or_above / z_low)
    else:  # unseen tokens may sit above it too
        share_above = Interval(listed_sum / (listed_sum + w_c + unseen.high),
                               (listed_sum + unseen.high) / (listed_sum + unseen.high + w_c))
    if top_p >= 1:
        nucleus: Nucleus = "inside"
    elif share_above.low >= top_p:
        nucleus = "outside"
    elif share_above.high < top_p:
        nucleus = "inside"
    else:
        nucleus = "uncertain"
    if top_p >= 1:
        return Interval(w_c / z_high, w_c / z_low), nucleus
    if nucleus == "outside":
        return Interval(0.0, 0.0), nucleus

    # The nucleus closes at the first listed position whose cumulative share reaches top_p;
    # that position moves later as Z grows, so every cut between the ones at z_low and z_high
    # can happen. With the cut inside the listed tokens, P(same) = w_c / (weights up to the cut).
    def cut(z: float) -> int | None:
        cumulative = 0.0
        for i, w in enumerate(weights):
            cumulative += w
            if cumulative / z >= top_p:
                return i
        return None

    first, last = cut(z_low), cut(z_high)
    values: list[float] = []
    # Ranks (0-based) the chosen token may hold: the API does not say how ties are ordered.
    rank_first = sum(p > p_c * (1 + 1e-9) for p in probs)
    rank_last = sum(p >= p_c * (1 - 1e-9) for p in probs) - 1
    for end in range(first if first is not None else len(weights), (last if last is not None else len(weights) - 1) + 1):
        if chosen_listed and rank_first <= end:
            values.append(w_c / sum(weights[: end + 1]))
        if not chosen_listed or rank_last > end:
            values.append(0.0)
    if last is None:
        # The cut may pass beyond the listed tokens: the nucleus mass S is then only known to
        # lie in [max(top_p, listed share), 1].
        values.append(w_c / z_high)
        values.append(min(1.0, w_c / (z_low * top_p), w_c / listed_sum if chosen_listed else 1.0))
    if nucleus == "uncertain":
        values.append(0.0)
    return Interval(max(0.0, min(values)), min(1.0, max(values))), nucleus


def branch_points(tokens: Sequence[TokenInfo], *, temperature: float, top_p: float,
                  vocab_size: int = O200K_VOCAB) -> list[BranchPoint]:
    """Each generated token with logprobs, with the chance a sample at the new settings differs there."""
    points = []
    for token in tokens:
        if token.is_prompt or token.logprob is None:
            continue
        # The completions API adds the chosen token to its top list when it is not among the
        # most likely: listed last, it may be such an extra, so it is not taken to be a top one.
        listed = token.rank is not None and token.rank < len(token.top)
        alternatives = [alt.logprob for i, alt in enumerate(token.top) if listed or i + 1 != token.rank]
        same, nucleus = p_same(token.logprob, alternatives, listed,
                               temperature=temperature, top_p=top_p, vocab_size=vocab_size)
        points.append(BranchPoint(token.index, token.token, Interval(1 - same.high, 1 - same.low), nucleus))
    return points


def most_likely_branches(points: Sequence[BranchPoint], limit: int = 10) -> list[BranchPoint]:
    """The positions where the run most likely parts from a sample at the new settings."""
    ranked = sorted(points, key=lambda b: (b.p_different.low + b.p_different.high, b.p_different.high), reverse=True)
    return [b for b in ranked[:limit] if b.p_different.high > 0]


# --- continuing a run from an alternative ------------------------------------------------


@dataclass
class Branch:
    """A run continued from an alternative token at one position of its parent."""

    id: int
    parent: int | None  # None: the original run
    position: int | None  # index in the parent's generated tokens where it parts
    tokens: list[TokenInfo]  # the chosen alternative first, then what the model wrote after it
    prompt: str  # the text `tokens` continue (for the original: its prompt)

    @property
    def mean_logprob(self) -> float | None:
        lps = [t.logprob for t in self.tokens if t.logprob is not None]
        return sum(lps) / len(lps) if lps else None


def _generated(tokens: Sequence[TokenInfo]) -> list[TokenInfo]:
    return [t for t in tokens if not t.is_prompt]


def _alternative_token(at: TokenInfo, alternative: int, index: int) -> TokenInfo:
    alt = at.top[alternative]
    return TokenInfo(index, alt.token, None, alt.logprob, alt.bytes, None, at.top)


def branch_base(prompt: str, tokens: Sequence[TokenInfo], position: int) -> str:
    """The text a branch at `position` continues: the prompt and the generated tokens before it,
    rebuilt from bytes so split characters stay whole."""
    return prompt + rebuild_text(_generated(tokens)[:position])


def branch_prompt(prompt: str, tokens: Sequence[TokenInfo], position: int, alternative: int) -> str:
    """The prompt of the run that continues after the alternative chosen at `position`."""
    generated = _generated(tokens)
    return branch_base(prompt, generated, position) + rebuild_text([_alternative_token(generated[position], alternative, position)])


def branch_tokens(tokens: Sequence[TokenInfo], position: int, alternative: int,
                  continuation: Sequence[TokenInfo]) -> list[TokenInfo]:
    """The branch as the token view shows it: the chosen alternative (with its logprob and
    the alternatives of that position), then the continuation, indexed from 0."""
    first = _alternative_token(_generated(tokens)[position], alternative, 0)
    rest = [replace(t, index=i + 1) for i, t in enumerate(_generated(continuation))]
    return [first, *rest]


def transcript_prompt(messages: Sequence[dict]) -> str:
    """A conversation as one completion prompt, for continuing a chat reply through the
    completions endpoint (the chat API has no assistant prefill). This is the app's plain
    transcript, not the model's own chat template."""
    lines = [f"{m.get('role', 'user')}: {m.get('content') or ''}" for m in messages]
    return "\n\n".join(lines) + "\n\nassistant: "
