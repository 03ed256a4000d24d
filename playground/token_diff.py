"""Two runs' outputs aligned token by token: where they part, and how far their logprobs differ.

Tokens are matched by their bytes (difflib's longest matching blocks), so a token split
differently in the two runs shows as a change, not as a shift of everything after it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, Sequence

from playground.logprobs import TokenInfo

Kind = Literal["same", "changed", "only_a", "only_b"]


@dataclass(frozen=True)
class DiffSegment:
    kind: Kind
    a: tuple[TokenInfo, ...]
    b: tuple[TokenInfo, ...]

    @property
    def logprob_gap(self) -> float | None:
        """For matching tokens: the largest |logprob a - logprob b| among them (how differently
        the two runs rated the same text); None when one side has no logprobs."""
        if self.kind != "same":
            return None
        gaps = [abs(x.logprob - y.logprob) for x, y in zip(self.a, self.b) if x.logprob is not None and y.logprob is not None]
        return max(gaps) if gaps else None


def _key(token: TokenInfo) -> bytes:
    return token.bytes if token.bytes is not None else token.token.encode()


def token_diff(a: Sequence[TokenInfo], b: Sequence[TokenInfo]) -> list[DiffSegment]:
    """Segments covering both outputs in order; matching runs are split token by token so each
    pair carries its own logprob gap."""
    a = [t for t in a if not t.is_prompt]
    b = [t for t in b if not t.is_prompt]
    matcher = difflib.SequenceMatcher(a=[_key(t) for t in a], b=[_key(t) for t in b], autojunk=False)
    segments: list[DiffSegment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments += [DiffSegment("same", (x,), (y,)) for x, y in zip(a[i1:i2], b[j1:j2])]
        elif op == "replace":
            segments.append(DiffSegment("changed", tuple(a[i1:i2]), tuple(b[j1:j2])))
        elif op == "delete":
            segments.append(DiffSegment("only_a", tuple(a[i1:i2]), ()))
        else:
            segments.append(DiffSegment("only_b", (), tuple(b[j1:j2])))
    return segments


def first_divergence(segments: Sequence[DiffSegment]) -> int | None:
    """Index, in run A's generated tokens, where the two outputs first part; None if identical."""
    position = 0
    for segment in segments:
        if segment.kind != "same":
            return position
        position += len(segment.a)
    return None
