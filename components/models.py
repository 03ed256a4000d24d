"""The model picker: the provider's models that serve an endpoint."""

from __future__ import annotations

import re
from dataclasses import replace

import streamlit as st

from components.connection import available_models, billed, current_connection, deployment_model
from components.plain import inert
from components.state import persistent
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

    The choice is kept for the session. A model the current provider does not offer (the
    user switched provider) stays chosen, marked and explained, never silently replaced;
    `not_offered` says so, for the page to hold its Run button. A model asked for by another
    page (st.session_state["open_with_model:<key>"], fine-tuning's "Try it") is chosen once,
    with the note that page left for it ("open_note:<key>"), if any.
    """
    if wanted := st.session_state.pop(f"open_with_model:{key}", None):
        st.session_state[key] = wanted
    if note := st.session_state.pop(f"open_note:{key}", None):
        container.warning(inert(note), icon=":material/info:")
    if current_connection().provider == "azure":
        info = _deployment_picker(endpoint, key=key, label=label, container=container)
    else:
        info = _model_picker(endpoint, key=key, label=label, container=container)
    return None if info is None else billed(info)


def _kept_choice(key: str, choices: list[str], preferred: str | None) -> list[str]:
    """The options: the provider's, plus the kept choice when it has gone. A first visit
    (nothing chosen yet) takes `preferred` or the first."""
    wanted = st.session_state.get(key)
    if not wanted:
        st.session_state[key] = preferred if preferred in choices else choices[0]
        return choices
    return choices if wanted in choices else [*choices, wanted]


def _fitting_deployments(endpoint: str) -> tuple[list[str], dict[str, str]]:
    """Azure: this resource's deployments whose model serves `endpoint`, and each one's model."""
    deployments = available_models()
    by_model = {d: deployment_model(d) or d for d in deployments}
    fitting = [d for d in deployments if endpoint in model_info(by_model[d]).endpoints or not model_info(by_model[d]).known]
    return fitting, by_model


def choose_first(endpoint: str, *, key: str) -> None:
    """Choose the picker's first model now, before it is drawn, when none is chosen yet
    (a page that writes its controls into the URL early needs the model)."""
    if st.session_state.get(key):
        return
    if current_connection().provider == "azure":
        choices, preferred = _fitting_deployments(endpoint)[0], None
    else:
        choices, preferred = models_for(endpoint, available_models()), _FALLBACK.get(endpoint)
    if choices:
        _kept_choice(key, choices, preferred)


def _model_picker(endpoint: str, *, key: str, label: str, container) -> ModelInfo | None:  # noqa: ANN001
    choices = models_for(endpoint, available_models())
    if not choices:
        container.warning(f"This provider lists no model for {endpoint.replace('_', ' ')}. Check the connection in the sidebar.")
        return None
    options = _kept_choice(key, choices, _FALLBACK.get(endpoint))
    model = persistent(container.selectbox, label, key=key, options=options,
                       format_func=lambda m: m if m in choices else f"{m} (not offered here)")
    if model not in choices:
        container.warning(_not_offered_text(model), icon=":material/warning:")
    return model_info(model)


def _deployment_picker(endpoint: str, *, key: str, label: str, container) -> ModelInfo | None:  # noqa: ANN001
    """Azure: a deployment of this resource. Capabilities are those of the model it serves."""
    fitting, by_model = _fitting_deployments(endpoint)
    if fitting:
        options = _kept_choice(key, fitting, None)
        deployment = persistent(
            container.selectbox, f"{label} (deployment)", key=key, options=options,
            format_func=lambda d: f"{d} (not offered here)" if d not in fitting else d if by_model[d] == d else f"{d} ({by_model[d]})",
        )
        if deployment not in fitting:
            container.warning(_not_offered_text(deployment), icon=":material/warning:")
    else:
        st.session_state.setdefault(key, "")
        deployment = persistent(
            container.text_input, f"{label}: deployment name", key=key,
            help="This resource did not list its deployments (newer api-versions do not): type the name.",
        ).strip()
        if not deployment:
            container.info("Enter the name of a deployment on this Azure resource.")
            return None
    return replace(model_info(by_model.get(deployment, deployment)), id=deployment)


def _not_offered_text(model: str) -> str:
    return (f"{model} is not offered by {current_connection().label}: it is kept so that switching back finds it; "
            "pick another model to run here.")


def not_offered(endpoint: str, model: str) -> str | None:
    """Why `model` cannot run on the current provider, or None when it is offered."""
    models = available_models()
    if current_connection().provider == "azure" and not models:
        return None  # deployments typed by name: not listed
    if model in models_for(endpoint, models) or model in models:
        return None
    return _not_offered_text(model)


def capabilities_of(model: str) -> ModelInfo:
    """A model's entry by name; on Azure, a deployment's takes its model's capabilities."""
    served = deployment_model(model) if current_connection().provider == "azure" else None
    return billed(replace(model_info(served), id=model) if served else model_info(model))
