"""`suffix` on /v1/completions: insertions chosen so that the suffix follows them well.

The model reads left to right, so it cannot condition a token on text that comes after it.
Instead, for each choice the route draws CANDIDATES insertions after the prompt (with the
request's sampling parameters and the choice's own random stream) and keeps the one with the
highest

    log p(insertion | prompt) + log p(suffix | prompt + insertion)

(the noisy-channel reading of fill-in-the-middle: how likely the text is, times how well the
suffix continues it). The suffix is scored as it would be read after the insertion, `suffix`
tokenized on its own. The returned text is the insertion only (the API does not echo the
suffix); its logprobs are those of its own tokens. Usage counts the tokens of every candidate,
as with best_of. Streaming sends the chosen insertion once it is chosen.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .lm import TextModel
from .sampling import Chunk, Generation, SamplingParams

CANDIDATES = 4


class Infilling:
    """One choice with a suffix; behaves as a `sampling.Generation` (iterate, then read its fields)."""

    def __init__(self, model: TextModel, context: Sequence[int], params: SamplingParams, rng: np.random.Generator,
                 suffix: Sequence[int], candidates: int = CANDIDATES) -> None:
        self.model, self.context, self.params, self.rng = model, list(context), params, rng
        self.suffix = list(suffix)
        self.candidates = candidates
        self.finish_reason: str | None = None
        self.n_tokens = 0  # every candidate's tokens (billed)
        self.sum_logprob = 0.0  # of the chosen insertion
        self.text = ""
        self.fit = float("-inf")  # log p(insertion) + log p(suffix | prompt + insertion)
        self.chosen_tokens = 0
        self.fits: list[float] = []  # every candidate's, in the order drawn

    @property
    def mean_logprob(self) -> float:
        return self.sum_logprob / self.chosen_tokens if self.chosen_tokens else 0.0

    def __iter__(self) -> Iterator[Chunk]:
        best: tuple[float, Generation, list[Chunk]] | None = None
        for _ in range(self.candidates):
            gen = Generation(self.model, list(self.context), self.params, self.rng)
            chunks = list(gen)
            self.n_tokens += gen.n_tokens
            inserted = [t.id for c in chunks for t in c.tokens]
            fit = gen.sum_logprob + float(self.model.score(self.context + inserted, self.suffix).sum())
            self.fits.append(fit)
            if best is None or fit > best[0]:
                best = (fit, gen, chunks)
        assert best is not None
        self.fit, gen, chunks = best
        self.finish_reason, self.sum_logprob, self.text = gen.finish_reason, gen.sum_logprob, gen.text
        self.chosen_tokens = gen.n_tokens
        yield from chunks
