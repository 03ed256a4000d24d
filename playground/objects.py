"""Reading provider objects defensively: an optional field a provider left out is None,
never an AttributeError (compatible servers and older API versions omit many)."""

from __future__ import annotations

from typing import Any


def read(obj: Any, *path: str, default: Any = None) -> Any:
    """obj.a.b.c (or obj["a"]["b"]["c"]), or `default` where any step is missing or None."""
    for name in path:
        if obj is None:
            return default
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return default if obj is None else obj
