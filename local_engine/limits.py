"""How much one request may ask of the text model, checked before any work starts.

- logit_bias: at most MAX_LOGIT_BIAS entries (the API's 300).
- Generated tokens: choices (prompts x best_of, or n) x max_tokens at most
  MAX_GENERATED_TOKENS, eight context windows; beyond that a 400 naming the parameter.
  (A request within the bound still stops as soon as its client disconnects.)
"""

from __future__ import annotations

from typing import Any

from .errors import invalid

MAX_LOGIT_BIAS = 300
MAX_GENERATED_TOKENS = 8 * 8192


def check_logit_bias_size(bias: dict[str, Any] | None) -> None:
    if bias and len(bias) > MAX_LOGIT_BIAS:
        raise invalid(
            f"Invalid 'logit_bias': too many entries. Expected at most {MAX_LOGIT_BIAS}, got {len(bias)}.",
            "logit_bias",
        )


def check_generation_budget(choices: int, max_tokens: int, param: str = "n") -> None:
    if choices * max_tokens > MAX_GENERATED_TOKENS:
        raise invalid(
            f"This request asks for {choices} choice(s) of up to {max_tokens} tokens "
            f"({choices * max_tokens:,} tokens); the local engine generates at most "
            f"{MAX_GENERATED_TOKENS:,} tokens per request. Lower n, best_of or max_tokens.",
            param,
        )
