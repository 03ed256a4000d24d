"""The engine's shared state: its settings, the models it serves, its files and jobs.

Domain code: no HTTP here (routes reach this through `request.app.state.engine`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import EngineConfig
from .errors import model_not_found
from .files import FileStore
from .projects import sees

if TYPE_CHECKING:
    from .fine_tune import FineTuning


@dataclass
class ModelCard:
    """One entry of GET /v1/models, and the object that serves it."""

    id: str
    kind: str  # "text", "embedding" or "image"
    owned_by: str = "local-engine"
    created: int = field(default_factory=lambda: int(time.time()))
    served_by: Any = None  # the model object (a text model, an embedder...)
    project: str | None = None  # a fine-tuned model's project; None: a base model, served to every project

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


@dataclass
class Engine:
    config: EngineConfig
    files: FileStore = field(init=False)
    fine_tuning: FineTuning | None = None  # started once the text model is loaded
    _models: dict[str, ModelCard] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.files = FileStore(self.config.data_dir / "files")

    def register(self, card: ModelCard) -> None:
        with self._lock:
            self._models[card.id] = card

    def unregister(self, model_id: str) -> bool:
        with self._lock:
            return self._models.pop(model_id, None) is not None

    def models(self, project: str | None) -> list[ModelCard]:
        """The models `project` may use (None: the base models only)."""
        with self._lock:
            return [card for card in self._models.values() if sees(project, card.project)]

    def card(self, model_id: str, kind: str | None = None, *, project: str | None) -> ModelCard:
        """The model, or the API's 404 (also when it exists but serves another endpoint, or
        is another project's fine-tune). project None: the base models only."""
        with self._lock:
            card = self._models.get(model_id)
        if card is None or (kind is not None and card.kind != kind) or not sees(project, card.project):
            raise model_not_found(model_id)
        return card
