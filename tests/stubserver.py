"""A hostile OpenAI-compatible server for tests, and a record of every request it gets.

Every string it returns (model ids, owners, texts, logprob tokens, error messages and
params, fine-tuning job errors, file names) carries Markdown and HTML that would load
`http://payload.invalid/...` if the app rendered it. It speaks just enough of the API for
every page to draw: models, completions and chat (streamed or not), embeddings, files,
fine-tuning jobs (without optional fields such as user_provided_suffix), image variations.
A prompt containing FAIL gets a 400 whose message and param carry the payload.

It also drops what a request asks for, as some real servers do: it always returns one
choice (whatever n asks: llama.cpp), ignores echo, and with `quirks` it can leave out
logprobs ("no_logprobs": a LiteLLM proxy's streamed completions) and a stream's usage
("no_stream_usage"); with "non_object_chunk" a stream's second event is a bare JSON string
(`data: "keep-alive"`), not a chunk. With "tokenize" it serves llama.cpp's POST /tokenize and /detokenize
at its root, with a toy vocabulary of its own: one token per character, id TOY_VOCAB_BASE +
its code point (ids that mean something else in o200k_base, or nothing).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

PAYLOAD_HOST = "payload.invalid"
TOY_VOCAB_BASE = 100_000


def payload(tag: str) -> str:
    base = f"http://{PAYLOAD_HOST}/{tag}"
    return (
        f"![{tag}]({base}.png) <img src=\"{base}-html.png\"> [click]({base}/link) "
        f":red[{tag}] <script>fetch('{base}/js')</script> **{tag}**"
    )


MODEL_IDS = [f"gpt-4o-mini{payload('model')}", f"text-embedding-3-small{payload('embedding')}", "dall-e-2"]


def _logprob(tag: str) -> dict[str, Any]:
    text = payload(tag)
    return {"token": text, "logprob": -0.5, "bytes": list(text.encode()), "top_logprobs": [
        {"token": payload(tag + "-alt"), "logprob": -1.5, "bytes": list(payload(tag + "-alt").encode())}]}


class Recorded:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)


class _Handler(BaseHTTPRequestHandler):
    server: _StubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw and self.headers.get("Content-Type", "").startswith("application/json") else {}
        except ValueError:
            return {}

    def _send(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int = 400) -> None:
        self._send(status, {"error": {"message": payload("error"), "type": "invalid_request_error",
                                      "param": payload("param"), "code": payload("code")}})

    def _stream(self, chunks: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for i, chunk in enumerate(chunks):
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            if i == 0 and "non_object_chunk" in self.server.quirks:
                self.wfile.write(b'data: "keep-alive"\n\n')  # JSON, but not a chunk
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True

    def _record(self, body: dict[str, Any]) -> None:
        self.server.recorded.add({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._record({})
        path = self.path.split("?")[0]
        now = int(time.time())
        if path.endswith("/models"):
            self._send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": now, "owned_by": payload("owner")} for m in self.server.models]})
        elif path.endswith("/fine_tuning/jobs"):
            self._send(200, {"object": "list", "has_more": False, "data": [{
                "id": "ftjob-hostile", "object": "fine_tuning.job", "created_at": now, "model": MODEL_IDS[0],
                "status": "failed", "fine_tuned_model": None, "training_file": "file-hostile",
                "error": {"message": payload("job-error"), "code": payload("job-code"), "param": None},
            }]})
        elif path.endswith("/events"):
            self._send(200, {"object": "list", "has_more": False, "data": [{
                "id": "ftevent-1", "object": "fine_tuning.job.event", "created_at": now, "level": "error",
                "message": payload("event"), "type": "message"}]})
        elif path.endswith("/checkpoints"):
            self._send(200, {"object": "list", "has_more": False, "data": []})
        elif path.endswith("/files"):
            self._send(200, {"object": "list", "data": [{
                "id": "file-hostile", "object": "file", "bytes": 10, "created_at": now,
                "filename": payload("filename"), "purpose": "fine-tune"}]})
        elif "/fine_tuning/jobs/" in path:
            self._send(200, {"id": "ftjob-hostile", "object": "fine_tuning.job", "created_at": now,
                             "model": MODEL_IDS[0], "status": "failed",
                             "error": {"message": payload("job-error")}})
        else:
            self._error(404)

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        self._record(body)
        path = self.path.split("?")[0]
        if "FAIL" in json.dumps(body):
            self._error(400)
            return
        if path in ("/tokenize", "/detokenize") and "tokenize" in self.server.quirks:
            if path == "/tokenize":
                self._send(200, {"tokens": [TOY_VOCAB_BASE + ord(c) for c in str(body.get("content", ""))]})
            else:
                ids = [t - TOY_VOCAB_BASE for t in body.get("tokens", [])]
                self._send(200, {"content": "".join(chr(i) for i in ids if 0 < i < 0x110000)})
            return
        now = int(time.time())
        model = body.get("model") or MODEL_IDS[0]
        quirks = self.server.quirks
        if path.endswith("/chat/completions"):
            lp = None if "no_logprobs" in quirks else {"content": [_logprob("chat-token")]}
            if body.get("stream"):
                self._stream([
                    {"id": "c1", "object": "chat.completion.chunk", "created": now, "model": model,
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": payload("chat")},
                                  "logprobs": lp, "finish_reason": None}]},
                    {"id": "c1", "object": "chat.completion.chunk", "created": now, "model": model,
                     "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
                     **({} if "no_stream_usage" in quirks else
                        {"usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})},
                ])
            else:
                self._send(200, {"id": "c1", "object": "chat.completion", "created": now, "model": model,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": payload("chat")},
                                              "logprobs": lp, "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
        elif path.endswith("/completions"):
            text = payload("completion")
            lp = {"tokens": [text], "token_logprobs": [-0.5], "top_logprobs": [{text: -0.5, payload("alt"): -1.0}],
                  "text_offset": [0]}
            choice = {"index": 0, "text": text, "logprobs": None if "no_logprobs" in quirks else lp, "finish_reason": "stop"}
            usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
            if body.get("stream"):
                last = [] if "no_stream_usage" in quirks else [
                    {"id": "t1", "object": "text_completion", "created": now, "model": model, "choices": [], "usage": usage}]
                self._stream([{"id": "t1", "object": "text_completion", "created": now, "model": model,
                               "choices": [choice]}, *last])
            else:
                self._send(200, {"id": "t1", "object": "text_completion", "created": now, "model": model,
                                 "choices": [choice], "usage": usage})
        elif path.endswith("/embeddings"):
            inputs = body.get("input")
            count = len(inputs) if isinstance(inputs, list) else 1
            self._send(200, {"object": "list", "model": model, "usage": {"prompt_tokens": count, "total_tokens": count},
                             "data": [{"object": "embedding", "index": i, "embedding": [1.0, float(i), 0.5]}
                                      for i in range(count)]})
        elif path.endswith("/images/variations"):
            self._send(200, {"created": now, "data": [{"url": f"http://{PAYLOAD_HOST}/variation.png"}]})
        else:
            self._error(400)


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True
    recorded: Recorded
    models: list[str]
    quirks: frozenset[str]


@contextlib.contextmanager
def stub_server(*, models: list[str] | None = None, quirks: tuple[str, ...] = ()) -> Iterator[tuple[str, Recorded]]:
    """("http://127.0.0.1:PORT/v1", the record of its requests), served on a thread; `models`
    replaces the listed model ids, `quirks` names what it drops (see the module's docstring)."""
    server = _StubServer(("127.0.0.1", 0), _Handler)
    server.recorded = Recorded()
    server.models = MODEL_IDS if models is None else models
    server.quirks = frozenset(quirks)
    thread = threading.Thread(target=server.serve_forever, name="stub-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server.recorded
    finally:
        server.shutdown()
        server.server_close()
