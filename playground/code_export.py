""""View code": a run's exact request as Python (openai SDK), curl and JSON.

The key is never written out: the code reads it from the environment
(OPENAI_API_KEY, or AZURE_OPENAI_API_KEY for Azure, the SDK's own variable names).
A server that takes no key (the local engine, many compatible servers) gets a placeholder.
"""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from playground.providers import DEFAULT_AZURE_API_VERSION, Connection
from playground.requests import TextRequest

OPENAI_KEY_VAR = "OPENAI_API_KEY"
AZURE_KEY_VAR = "AZURE_OPENAI_API_KEY"
NO_KEY_PLACEHOLDER = "not-needed"


def public_url(url: str) -> str:
    """The URL without user info, query or fragment (where keys hide)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _needs_key(connection: Connection) -> bool:
    return connection.provider in ("openai", "azure") or connection.has_key


def _path(request: TextRequest) -> str:
    return "/completions" if request.endpoint == "completions" else "/chat/completions"


def json_body(request: TextRequest) -> str:
    return json.dumps(request.body(), indent=2, ensure_ascii=False)


def _py(value: Any, indent: int) -> str:
    """A Python literal for a JSON value, laid out like the JSON (double-quoted strings)."""
    pad = " " * indent
    inner = " " * (indent + 4)
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(_py(v, indent) for v in value) + "]"
        return "[\n" + "".join(f"{inner}{_py(v, indent + 4)},\n" for v in value) + pad + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{json.dumps(str(k), ensure_ascii=False)}: {_py(v, indent + 4)}" for k, v in value.items()]
        one_line = "{" + ", ".join(items) + "}"
        if len(one_line) + indent <= 88 and all(not isinstance(v, (dict, list)) for v in value.values()):
            return one_line
        return "{\n" + "".join(f"{inner}{item},\n" for item in items) + pad + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def python_code(request: TextRequest, connection: Connection) -> str:
    lines = ["import os", ""] if _needs_key(connection) else []
    if connection.provider == "azure":
        lines += [
            "from openai import AzureOpenAI",
            "",
            "client = AzureOpenAI(",
            f"    azure_endpoint={_py(public_url(connection.azure_endpoint or ''), 4)},",
            f"    api_version={_py(connection.api_version or DEFAULT_AZURE_API_VERSION, 4)},",
            f'    api_key=os.environ["{AZURE_KEY_VAR}"],',
            ")",
        ]
    else:
        lines += ["from openai import OpenAI", "", "client = OpenAI("]
        if _needs_key(connection):
            lines.append(f'    api_key=os.environ["{OPENAI_KEY_VAR}"],')
        else:
            lines.append(f'    api_key="{NO_KEY_PLACEHOLDER}",  # this server takes no key')
        if connection.base_url:
            lines.append(f"    base_url={_py(public_url(connection.base_url), 4)},")
        lines.append(")")
    method = "client.completions.create" if request.endpoint == "completions" else "client.chat.completions.create"
    model_comment = "  # the deployment name" if connection.provider == "azure" else ""
    lines += ["", f"response = {method}("]
    lines.append(f"    model={_py(request.model, 4)},{model_comment}")
    for name, value in request.params.items():
        lines.append(f"    {name}={_py(value, 4)},")
    lines.append(")")
    text = "choice.text" if request.endpoint == "completions" else "choice.message.content"
    delta = "choice.text" if request.endpoint == "completions" else "choice.delta.content"
    if request.streamed:
        lines += [
            "for chunk in response:",
            "    for choice in chunk.choices:",
            f"        print({delta} or \"\", end=\"\", flush=True)",
            "    if chunk.usage:",
            "        print(\"\\n\", chunk.usage)",
        ]
    else:
        lines += [
            "for choice in response.choices:",
            f"    print({text})",
            "print(response.usage)",
        ]
    return "\n".join(lines) + "\n"


def curl_command(request: TextRequest, connection: Connection) -> str:
    body = request.body()
    if connection.provider == "azure":
        endpoint = public_url(connection.azure_endpoint or "https://NAME.openai.azure.com")
        version = connection.api_version or DEFAULT_AZURE_API_VERSION
        body.pop("model")  # the deployment in the URL names the model
        url = f"{endpoint}/openai/deployments/{request.model}{_path(request)}?api-version={version}"
        auth = [f'-H "api-key: ${AZURE_KEY_VAR}"']
    else:
        base = public_url(connection.base_url) if connection.base_url else "https://api.openai.com/v1"
        url = base + _path(request)
        auth = [f'-H "Authorization: Bearer ${OPENAI_KEY_VAR}"'] if _needs_key(connection) else []
    parts = [f"curl {shlex.quote(url)}"]
    if request.streamed:
        parts.append("--no-buffer")
    parts.append('-H "Content-Type: application/json"')
    parts += auth
    parts.append("-d " + shlex.quote(json.dumps(body, indent=2, ensure_ascii=False)))
    return " \\\n  ".join(parts) + "\n"
