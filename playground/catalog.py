"""What each model can do and what it costs, read from data/models.toml."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "models.toml"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    known: bool  # False: not in the table; capabilities are guesses, prices unknown
    endpoints: tuple[str, ...]
    encoding: str = "o200k_base"
    reasoning: bool = False
    context_window: int | None = None
    max_output: int | None = None
    input_price: float | None = None  # $ per 1M tokens
    cached_input_price: float | None = None
    output_price: float | None = None
    dimensions: int | None = None
    fixed_dimensions: bool = False
    fine_tunable: bool = False
    fine_tune_training_price: float | None = None
    image_prices: dict[str, float] = field(default_factory=dict)
    unsupported: frozenset[str] = frozenset()
    note: str = ""

    def supports(self, param: str) -> bool:
        return param not in self.unsupported

    def why_unsupported(self, param: str) -> str | None:
        """A sentence for the UI beside a disabled control, or None when allowed."""
        if param not in self.unsupported:
            return None
        if self.reasoning:
            return f"{self.id} is a reasoning model: it takes no {param}."
        return f"{self.id} does not take {param}."

    @property
    def max_tokens_param(self) -> str:
        return "max_completion_tokens" if self.reasoning else "max_tokens"

    def cost(self, prompt_tokens: int, completion_tokens: int = 0) -> float | None:
        """Dollars for one request, or None when the price is unknown."""
        if self.input_price is None:
            return None
        return (prompt_tokens * self.input_price + completion_tokens * (self.output_price or 0.0)) / 1e6


def as_billed(info: ModelInfo, provider: str, price: tuple[float | None, float | None] = (None, None)) -> ModelInfo:
    """The model as this provider bills it. OpenAI's table prices what OpenAI and Azure bill;
    the local engine bills nothing; any other server serving a model under an OpenAI name
    bills what it bills: only the user's price per 1M (input, output) tokens, else unknown."""
    if provider in ("openai", "azure"):
        return info
    if provider == "local":
        zero = dict.fromkeys(info.image_prices, 0.0)
        return replace(info, input_price=0.0, cached_input_price=0.0, output_price=0.0,
                       fine_tune_training_price=0.0 if info.fine_tunable else None, image_prices=zero)
    if price == (None, None):
        return replace(info, input_price=None, cached_input_price=None, output_price=None,
                       fine_tune_training_price=None, image_prices={})
    prompt, completion = price[0] or 0.0, price[1] or 0.0
    return replace(info, input_price=prompt, cached_input_price=prompt, output_price=completion,
                   fine_tune_training_price=None, image_prices={})


@dataclass(frozen=True)
class Catalog:
    checked: str
    source: str
    models: dict[str, ModelInfo]

    def info(self, model_id: str) -> ModelInfo:
        """The model's entry. A dated snapshot takes its family's entry, a fine-tuned model
        (ft:base:...) its base's (fine-tuned inference prices differ: not in the table);
        an unknown model gets permissive defaults and no price."""
        if model_id in self.models:
            return self.models[model_id]
        base = base_model_of(model_id)
        if base:
            parent = self.info(base)
            if parent.known:
                return replace(parent, id=model_id)
        for known in sorted(self.models, key=len, reverse=True):
            # Dated snapshots: gpt-4o-2024-08-06 -> gpt-4o.
            rest = model_id.removeprefix(known + "-")
            if rest != model_id and rest[:1].isdigit():
                return replace(self.models[known], id=model_id)
        return replace(self.models["__default__"], id=model_id)


def base_model_of(model_id: str) -> str | None:
    """'ft:gpt-4o-mini-2024-07-18:org:suffix:id' -> 'gpt-4o-mini-2024-07-18'."""
    if model_id.startswith("ft:"):
        parts = model_id.split(":")
        return parts[1] if len(parts) > 1 else None
    return None


@functools.cache
def load_catalog(path: Path = DATA_FILE) -> Catalog:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    reasoning_unsupported = frozenset(raw.get("reasoning_unsupported", ()))
    models: dict[str, ModelInfo] = {}
    entries = {**raw["models"], "__default__": {**raw["defaults"], "known": False}}
    for model_id, entry in entries.items():
        reasoning = entry.get("reasoning", False)
        models[model_id] = ModelInfo(
            id=model_id,
            known=entry.get("known", True),
            endpoints=tuple(entry.get("endpoints", ())),
            encoding=entry.get("encoding", "o200k_base"),
            reasoning=reasoning,
            context_window=entry.get("context_window"),
            max_output=entry.get("max_output"),
            input_price=entry.get("input"),
            cached_input_price=entry.get("cached_input"),
            output_price=entry.get("output"),
            dimensions=entry.get("dimensions"),
            fixed_dimensions=entry.get("fixed_dimensions", False),
            fine_tunable=entry.get("fine_tunable", False),
            fine_tune_training_price=entry.get("fine_tune_training"),
            image_prices=dict(entry.get("image_prices", {})),
            unsupported=reasoning_unsupported if reasoning else frozenset(entry.get("unsupported", ())),
            note=entry.get("note", ""),
        )
    return Catalog(checked=raw["checked"], source=raw["source"], models=models)


def model_info(model_id: str) -> ModelInfo:
    return load_catalog().info(model_id)
