"""Projects: whose files, fine-tuning jobs, fine-tuned models and stored responses a request sees.

As on OpenAI, a request names its project in the `OpenAI-Project` header; without one it
works in the default project (the empty name), where everything made before projects
existed is. Files, jobs, fine-tuned models and stored responses belong to the project that
made them; the base models belong to none and serve every project. Anything of another
project is answered exactly as something that does not exist (a 404 in the API's wording).

The header is read in one place (`of_request`), and whether a project sees a thing is
decided in one place (`sees`), which the stores ask on every lookup. The header is trusted:
whoever holds the engine's key may name any project (the app that started the engine keeps
the key and sets the header for each of its users).
"""

from __future__ import annotations

from typing import Any

HEADER = "openai-project"
DEFAULT = ""  # the default project: no header (an empty name can never be a named project's)


def of_request(request: Any) -> str:
    """The project a request works in: its OpenAI-Project header, else the default project."""
    return (request.headers.get(HEADER) or DEFAULT).strip()


def sees(project: str | None, owner: str | None) -> bool:
    """Whether `project` may see a thing owned by `owner` (owner None: a base model, everyone's;
    project None: no project, which sees only those)."""
    return owner is None or owner == project


def saved_owner(entry: dict[str, Any]) -> str:
    """The project a saved entry belongs to; entries saved before projects, the default one."""
    owner = entry.get("project")
    return owner if isinstance(owner, str) else DEFAULT
