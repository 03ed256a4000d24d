"""Provider-given URLs are fetched with an http(s)-only check, a timeout and a size cap."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from playground.fetch import FetchRefused, fetch_provider_url


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/redirect-to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/huge":  # no Content-Length: counted as it streams
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"x" * 65536)
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"image")


@contextlib.contextmanager
def _server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetches_only_http_and_only_so_much() -> None:
    with _server() as root:
        assert fetch_provider_url(f"{root}/ok") == b"image"
        for url, words in [
            ("file:///etc/passwd", "not http(s)"),
            (f"{root}/redirect-to-file", "not http(s)"),
            (f"{root}/loop", "redirected more than"),
            (f"{root}/huge", "larger than"),
        ]:
            with pytest.raises(FetchRefused, match=words.replace("(", r"\(").replace(")", r"\)")):
                fetch_provider_url(url, max_bytes=1024 * 1024)
