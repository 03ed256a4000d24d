"""The model picker: the provider's models that serve an endpoint."""

from __future__ import annotations

import re

import streamlit as st

from components.connection import available_models
from playground.catalog import ModelInfo, model_info

_NOT_TEXT = re.compile(r"whisper|tts|dall-e|embed|moderation|audio|realtime|transcribe|image|search|sora|computer-use")
_FALLBACK = {"chat": "local-text", "completions": "local-text", "embeddings": "local-embedding", "image_variations": "local-image"}


def models_for(endpoint: str, models: list[str]) -> list[str]:
    """Known models that serve `endpoint`, then unknown ones that plausibly do."""
    known, unknown = [], []
    for model in models:
        info = model_info(model)
        if info.known:
            if endpoint in info.endpoints:
                known.append(model)
        elif endpoint == "embeddings":
            if "embed" in model:
                unknown.append(model)
        elif endpoint == "image_variations":
            if "dall-e-2" in model or "image" in model:
                unknown.append(model)
        elif not _NOT_TEXT.search(model):
            unknown.append(model)
    return known + unknown


def model_picker(endpoint: str, *, key: str, label: str = "Model", container=st) -> ModelInfo | None:
    """A selectbox of models for `endpoint`; None (with a message) when there are none.

    A model asked for by another page (st.session_state["open_with_model"]) or by the
    URL (?model=...) is selected first.
    """
    choices = models_for(endpoint, available_models())
    wanted = st.session_state.pop(f"open_with_model:{key}", None) or st.query_params.get("model")
    if wanted and wanted in choices:
        st.session_state[key] = wanted
    if not choices:
        container.warning(f"This provider lists no model for {endpoint.replace('_', ' ')}. Check the connection in the sidebar.")
        return None
    if st.session_state.get(key) not in choices:
        preferred = _FALLBACK.get(endpoint)
        st.session_state[key] = preferred if preferred in choices else choices[0]
    model = container.selectbox(label, choices, key=key)
    return model_info(model)
