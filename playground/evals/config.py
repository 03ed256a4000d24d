"""An eval's configurations: a provider connection, a model and its parameters.

The connection holds the key, so a configuration is saved (history, spec, export) only
through `public()`, which drops it. Parameters are rows of the parameter table
(playground/params.py), by name: its ranges and checks apply. A cell is one streamed
completion with token probabilities, so the rows that change that are fixed here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import openai

from playground.catalog import ModelInfo, model_info
from playground.params import Param, params_for
from playground.providers import PROVIDER_LABELS, Connection, make_client
from playground.requests import Endpoint, ParamProblem, TextRequest, build_request, check_request

MAX_CONFIGS = 4
MAX_REPEATS = 20
ALTERNATIVES = 5  # top logprobs per token: the label grader and the token view read them

# One output per cell, streamed (time to first token), with its token probabilities.
FIXED = frozenset({"model", "stream", "n", "best_of", "logprobs", "top_logprobs"})


def tunable(endpoint: str) -> dict[str, Param]:
    """The parameter-table rows a configuration sets on this endpoint, in table order."""
    return {name: row for name, row in params_for(endpoint).items() if name not in FIXED and not row.on_page}


@dataclass
class EvalConfig:
    model: str
    connection: Connection
    params: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    info: ModelInfo | None = field(default=None, compare=False, repr=False)  # Azure: the deployment's model

    @property
    def label(self) -> str:
        return self.name or self.model

    def capabilities(self) -> ModelInfo:
        return self.info or model_info(self.model)

    def client(self) -> openai.OpenAI:
        return make_client(self.connection)

    def public(self) -> dict[str, Any]:
        """Everything but the key: what history, specs and exports keep."""
        return {"name": self.name, "model": self.model, "params": dict(self.params),
                "connection": self.connection.public()}

    @classmethod
    def from_public(cls, data: dict[str, Any], connection: Connection | None = None) -> EvalConfig:
        """A saved configuration; its connection has no key until the caller gives one."""
        saved = data.get("connection") or {}
        connection = connection or Connection(
            saved.get("provider", "local"), base_url=saved.get("base_url"),
            azure_endpoint=saved.get("azure_endpoint"), api_version=saved.get("api_version"))
        return cls(str(data["model"]), connection, dict(data.get("params") or {}), str(data.get("name") or ""))

    def describe(self) -> str:
        rows = {**tunable("completions"), **tunable("chat")}
        changed = [f"{k}={v}" for k, v in self.params.items() if k in rows and v != rows[k].unset and v not in (None, [], {})]
        return f"{self.label} · {PROVIDER_LABELS[self.connection.provider]}" + (f" · {', '.join(changed)}" if changed else "")


def settings_of(params: dict[str, Any], endpoint: Endpoint = "completions") -> dict[str, Any]:
    """The controls (parameter-table names) a cell sends; a parameter the table does not
    have on this endpoint, or a value out of its range, is refused (ValueError)."""
    rows = tunable(endpoint)
    unknown = sorted(set(params) - set(rows))
    if unknown:
        raise ValueError(f"unknown parameter {', '.join(unknown)} on {endpoint}; the parameters are {', '.join(rows)}")
    for name, value in params.items():
        if problem := rows[name].problem(value):
            raise ValueError(f"{name} {problem}")
    return {**params, "stream": True, "n": 1, "best_of": 1,
            "logprobs": True if endpoint == "chat" else ALTERNATIVES, "top_logprobs": ALTERNATIVES}


def max_tokens_of(config: EvalConfig, endpoint: Endpoint) -> int:
    return int(config.params.get("max_tokens", params_for(endpoint)["max_tokens"].default))


def request_for(config: EvalConfig, endpoint: Endpoint, *, prompt: str | None = None,
                messages: list[dict[str, Any]] | None = None) -> tuple[TextRequest, list[ParamProblem]]:
    """The request one cell sends, and what the API would refuse in it."""
    info = config.capabilities()
    settings = settings_of(config.params, endpoint)
    if not info.supports("logprobs"):
        settings["logprobs"] = params_for(endpoint)["logprobs"].unset
    request = build_request(endpoint, info, settings, prompt=prompt, messages=messages)
    return request, check_request(request, info)


def connection_from_spec(data: dict[str, Any], *, local_url: str | None = None, local_key: str | None = None) -> Connection:
    """A connection as a spec file names it. Keys come from the environment variable the spec
    names (`api_key_env`), never from the file itself."""
    if "api_key" in data:
        raise ValueError("a spec must not hold a key: name its environment variable with api_key_env")
    provider = data.get("provider", "local")
    if provider not in PROVIDER_LABELS:
        raise ValueError(f"provider must be one of {', '.join(PROVIDER_LABELS)}, not {provider!r}")
    env = data.get("api_key_env")
    key = os.environ.get(env) if env else None
    if env and not key:
        raise ValueError(f"the environment variable {env} (the key of provider {provider}) is not set")
    if provider == "local":
        return Connection("local", api_key=key or local_key, base_url=data.get("base_url") or local_url)
    if provider == "azure":
        return Connection("azure", api_key=key, azure_endpoint=data.get("azure_endpoint"),
                          api_version=data.get("api_version"))
    return Connection(provider, api_key=key, base_url=data.get("base_url"))
