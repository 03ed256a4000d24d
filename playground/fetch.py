"""Fetching a URL a provider handed us (an image result): never more than we bargained for.

http(s) only, at every redirect hop too (a redirect may point at file:, or at a service
on the app server's own network that the provider should not reach through us); a timeout
for the whole transfer; a size cap, counted as the bytes arrive.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit

import httpx

MAX_FETCH_BYTES = 20 * 1024 * 1024  # an API image is a few MB at most
MAX_REDIRECTS = 3


class FetchRefused(ValueError):
    """A provider URL we would not fetch, or whose answer we would not keep; says why."""


def fetch_provider_url(url: str, *, timeout: float = 30.0, max_bytes: int = MAX_FETCH_BYTES) -> bytes:
    deadline = time.monotonic() + timeout
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                raise FetchRefused(f"The provider's image URL is not http(s) ({urlsplit(url).scheme or 'no scheme'}:); it was not fetched.")
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchRefused(f"The provider's image did not arrive within {timeout:.0f} s.")
            with client.stream("GET", url, timeout=left) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                response.raise_for_status()
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchRefused(f"The provider's image is larger than {max_bytes // (1024 * 1024)} MB; it was not kept.")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchRefused(f"The provider's image is larger than {max_bytes // (1024 * 1024)} MB; it was not kept.")
                    if time.monotonic() > deadline:
                        raise FetchRefused(f"The provider's image did not arrive within {timeout:.0f} s.")
                    chunks.append(chunk)
                return b"".join(chunks)
    raise FetchRefused(f"The provider's image URL redirected more than {MAX_REDIRECTS} times; it was not fetched.")
