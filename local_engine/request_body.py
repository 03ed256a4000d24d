"""JSON request bodies, parsed with every malformed case a 400 in the API's words."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import invalid

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json(raw: bytes) -> Any:
    """The body's JSON value; a 400 when it is not JSON, nests too deeply or holds a lone
    surrogate (a `\\ud800` escape with no pair: not text, and not encodable in a reply)."""
    try:
        value = json.loads(raw or b"null")
    except RecursionError:
        raise invalid("The JSON body of your request is nested too deeply.") from None
    except ValueError:
        raise invalid("We could not parse the JSON body of your request. Send valid JSON.") from None
    if _SURROGATE_ESCAPE.search(raw):  # rare: only then pay for the check
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise invalid("The JSON body of your request holds a lone surrogate (\\ud800-\\udfff): "
                          "strings must be valid Unicode text.") from None
        except RecursionError:
            raise invalid("The JSON body of your request is nested too deeply.") from None
    return value
