"""The model picker: the provider's models that serve an endpoint."""

from __future__ import annotations

import re
from dataclasses import replace

import streamlit as st

from components.connection import available_models, current_connection, deployment_model
from components.state import keep, remember
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

    A model asked for by another page (st.session_state["open_with_model:<key>"]) is
    selected first, once. (A share link restores the model with the other controls.)
    The choice survives runs that do not draw the picker.
    """
    keep(key)
    connection = current_connection()
    if connection.provider == "azure":
        info = _deployment_picker(endpoint, key=key, label=label, container=container)
    else:
        info = _model_picker(endpoint, key=key, label=label, container=container)
    if info is not None:
        remember(key)
    return info


def _model_picker(endpoint: str, *, key: str, label: str, container) -> ModelInfo | None:  # noqa: ANN001
    choices = models_for(endpoint, available_models())
    wanted = st.session_state.pop(f"open_with_model:{key}", None)
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


def _deployment_picker(endpoint: str, *, key: str, label: str, container) -> ModelInfo | None:  # noqa: ANN001
    """Azure: a deployment of this resource. Capabilities are those of the model it serves."""
    deployments = available_models()
    by_model = {d: deployment_model(d) or d for d in deployments}
    fitting = [d for d in deployments if endpoint in model_info(by_model[d]).endpoints or not model_info(by_model[d]).known]
    wanted = st.session_state.pop(f"open_with_model:{key}", None)
    if wanted:
        st.session_state[key] = wanted
    if fitting:
        if st.session_state.get(key) not in fitting:
            st.session_state[key] = fitting[0]
        deployment = container.selectbox(
            f"{label} (deployment)", fitting, key=key,
            format_func=lambda d: d if by_model[d] == d else f"{d} ({by_model[d]})",
        )
    else:
        deployment = container.text_input(
            f"{label}: deployment name", key=key,
            help="This resource did not list its deployments (newer api-versions do not): type the name.",
        ).strip()
        if not deployment:
            container.info("Enter the name of a deployment on this Azure resource.")
            return None
    return replace(model_info(by_model.get(deployment, deployment)), id=deployment)


def capabilities_of(model: str) -> ModelInfo:
    """A model's entry by name; on Azure, a deployment's takes its model's capabilities."""
    served = deployment_model(model) if current_connection().provider == "azure" else None
    return replace(model_info(served), id=model) if served else model_info(model)
