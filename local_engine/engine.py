"""The engine's shared state: its settings and the models it serves."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .config import EngineConfig
from .errors import model_not_found


@dataclass
class ModelCard:
    """One entry of GET /v1/models, and the object that serves it."""

    id: str
    kind: str  # "text", "embedding" or "image"
    owned_by: str = "local-engine"
    created: int = field(default_factory=lambda: int(time.time()))
    served_by: Any = None  # the model object (a text model, an embedder...)

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


class Engine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._models: dict[str, ModelCard] = {}
        self._lock = threading.Lock()

    def register(self, card: ModelCard) -> None:
        with self._lock:
            self._models[card.id] = card

    def unregister(self, model_id: str) -> bool:
        with self._lock:
            return self._models.pop(model_id, None) is not None

    def models(self) -> list[ModelCard]:
        with self._lock:
            return list(self._models.values())

    def card(self, model_id: str, kind: str | None = None) -> ModelCard:
        """The model, or the API's 404 (also when it exists but serves another endpoint)."""
        with self._lock:
            card = self._models.get(model_id)
        if card is None or (kind is not None and card.kind != kind):
            raise model_not_found(model_id)
        return card
