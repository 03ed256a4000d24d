"""The engine bounds each request: body sizes, work, keys, and malformed input (always a 4xx
in OpenAI's error shape, never a 5xx)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.enginerunner import engine_pid

MODEL = "local-text"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
JSON = {**AUTH, "Content-Type": "application/json"}
MB = 1024 * 1024
EOT = "199999"  # o200k_base's <|endoftext|>: banned, so a generation runs to max_tokens


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _multipart(fields: list[tuple[str, str | None, bytes]], boundary: str = "zz") -> tuple[bytes, dict]:
    parts = []
    for name, filename, value in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"}


MALFORMED_POSTS = [
    ("/completions", b'{"model":"local-text","prompt":' + _deep(100_000) + b"}"),
    ("/chat/completions", b'{"model":"local-text","messages":' + _deep(100_000) + b"}"),
    ("/embeddings", b'{"model":"local-embedding","input":' + _deep(100_000) + b"}"),
    ("/fine_tuning/jobs", b'{"model":"local-text","training_file":' + _deep(100_000) + b"}"),
    ("/chat/completions", b'{"model":"local-text","messages":[{"role":"user","content":' + _deep(900) + b"}]}"),
    ("/completions", b'{"model":"local-text","prompt":"x","logit_bias":' + b'{"1":' * 900 + b"1" + b"}" * 901),
    ("/completions", b'{"model":"local-\\ud800","prompt":"x"}'),
    ("/chat/completions", b'{"model":"local-\\udc00","messages":[{"role":"user","content":"x"}]}'),
    ("/embeddings", b'{"model":"local-\\ud800","input":"x"}'),
    ("/completions", b'{"model":"local-text","prompt":"\\ud800 hi","max_tokens":1}'),
    ("/completions", b'{"model":"local-text","prompt":"\xff\xfe"}'),
    ("/completions", b"[1,2]"),
    ("/completions", b"{not json"),
    ("/fine_tuning/jobs", b'"just a string"'),
    ("/completions", b'{"model":"local-text","prompt":"x","n":64,"max_tokens":8000}'),
    ("/chat/completions", b'{"model":"local-text","messages":[{"role":"user","content":"x"}],"n":128,"max_completion_tokens":4000}'),
    ("/completions", json.dumps({"model": MODEL, "prompt": "x", "logit_bias": {str(i): 1 for i in range(301)}}).encode()),
]


@pytest.mark.parametrize("path, body", MALFORMED_POSTS, ids=range(len(MALFORMED_POSTS)))
def test_malformed_json_is_a_4xx_in_openai_shape(engine_url: str, path: str, body: bytes) -> None:
    r = httpx.post(engine_url + path, content=body, headers=JSON, timeout=60)
    assert 400 <= r.status_code < 500, r.text[:300]
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]


def test_malformed_uploads_and_urls_are_4xx(engine_url: str) -> None:
    not_utf8, headers = _multipart([("purpose", None, b"fine-tune"), ("file", "a.jsonl", b'{"a":1}\xff\n')])
    cases = [
        httpx.post(f"{engine_url}/files", content=b"garbage", headers={**AUTH, "Content-Type": "multipart/form-data; boundary=zz"}),
        httpx.post(f"{engine_url}/files", content=not_utf8, headers=headers),
        httpx.post(f"{engine_url}/images/variations", content=b"garbage", headers={**AUTH, "Content-Type": "multipart/form-data"}),
        httpx.get(f"{engine_url}/models/local-%ED%A0%80", headers=AUTH),
        httpx.get(f"{engine_url}/files/%ff", headers=AUTH),
        httpx.get(f"{engine_url}/files?limit=abc", headers=AUTH),
        httpx.get(f"{engine_url}/fine_tuning/jobs/%ED%A0%80", headers=AUTH),
        httpx.delete(f"{engine_url}/models/%ED%A0%80", headers=AUTH),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.request.url, r.text[:300])
        assert r.json()["error"]["message"]
    # What the engine recorded of those requests still reads back.
    assert httpx.get(engine_url.removesuffix("/v1") + "/local/requests", headers=AUTH).status_code == 200


def _json_blocks(size: int) -> Iterator[bytes]:
    """A completions body of exactly `size` bytes (size >= 1 MB): a valid JSON prompt of words."""
    head, tail = b'{"model":"local-text","max_tokens":1,"prompt":"', b'"}'
    words = b"the quick brown fox jumps over a lazy dog while parsing json; " * (MB // 64 + 1)
    left = size - len(head) - len(tail)
    yield head
    while left > 0:
        block = words[: min(MB, left)]
        left -= len(block)
        yield block
    yield tail


def _post_raw(url: str, size: int, chunked: bool, key: str = TEST_KEY) -> bytes:
    """POST a `size`-byte JSON body while reading the answer (the server may answer before
    the body is sent); returns the status line."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    sock.sendall(
        f"POST {parts.path}/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )

    def send_body() -> None:
        try:
            for block in _json_blocks(size):
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the rest is not wanted

    sender = threading.Thread(target=send_body)
    sender.start()
    answer = b""
    try:
        while b"\r\n" not in answer:
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    except OSError:
        pass
    sender.join()
    sock.close()
    return answer.split(b"\r\n")[0]


def _memory_kb(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


def test_three_50_mb_bodies_at_once_are_refused_with_bounded_memory(start_engine) -> None:
    with start_engine("--api-key", TEST_KEY) as url:
        pid = engine_pid(url)
        before = _memory_kb(pid)
        for chunked in (False, True):  # declared sizes are refused at once; chunked ones as they pass the limit
            with ThreadPoolExecutor(3) as pool:
                answers = list(pool.map(_post_raw, [url] * 3, [50 * MB] * 3, [chunked] * 3))
            assert answers == [b"HTTP/1.1 413 Request Entity Too Large"] * 3
        peak = _memory_kb(pid)["VmHWM"]
        print(f"\nengine peak RSS refusing 3x50 MB bodies: {peak / 1024:.0f} MB (at start {before['VmHWM'] / 1024:.0f} MB)")
        assert peak < 400 * 1024
        # Still serving.
        ok = httpx.post(f"{url}/completions", json={"model": MODEL, "prompt": "x", "max_tokens": 1}, headers=AUTH)
        assert ok.status_code == 200


def test_uploads_stream_to_disk_within_their_own_limit(start_engine) -> None:
    with start_engine("--api-key", TEST_KEY, "--max-upload-bytes", str(40 * MB)) as url:
        pid = engine_pid(url)
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        content = os.urandom(MB) * 32
        before = _memory_kb(pid)["VmHWM"]
        uploaded = client.files.create(file=("big.bin", content), purpose="user_data")
        assert uploaded.bytes == len(content)
        assert client.files.content(uploaded.id).read() == content
        # Copied in blocks: the peak grows by far less than the 32 MB file.
        assert _memory_kb(pid)["VmHWM"] - before < 16 * 1024
        with pytest.raises(openai.APIStatusError) as err:
            client.files.create(file=("bigger.bin", content * 2), purpose="user_data")
        assert err.value.status_code == 413


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("stream", [False, True])
def test_work_stops_when_the_client_gives_up(start_engine, stream: bool) -> None:
    with start_engine("--api-key", TEST_KEY) as url:
        pid = engine_pid(url)
        body = {"model": MODEL, "prompt": "def", "n": 64, "max_tokens": 1000, "logit_bias": {EOT: -100}, "stream": stream}
        with httpx.Client(timeout=1.0) as impatient:
            if stream:  # a few chunks, then the client hangs up
                with impatient.stream("POST", f"{url}/completions", json=body, headers=AUTH) as r:
                    for count, _ in enumerate(r.iter_bytes()):
                        if count == 3:
                            break
            else:  # the client's timeout fires while the engine works
                with pytest.raises(httpx.TimeoutException):
                    impatient.post(f"{url}/completions", json=body, headers=AUTH)
        time.sleep(1.0)
        after_giving_up = _cpu_seconds(pid)
        time.sleep(3.0)
        burnt = _cpu_seconds(pid) - after_giving_up
        assert burnt < 0.5, f"the engine kept working {burnt:.1f} CPU seconds after the client left"


def test_every_route_but_health_and_image_urls_needs_the_key(engine_url: str) -> None:
    root = engine_url.removesuffix("/v1")
    for path in ("/local/requests", "/v1/files", "/v1/models", "/v1/fine_tuning/jobs", "/openapi.json", "/docs"):
        r = httpx.get(root + path)
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "invalid_api_key"
    assert httpx.delete(root + "/local/requests").status_code == 401
    assert httpx.get(root + "/health").status_code == 200
    assert httpx.get(root + "/images-public/" + "0" * 32 + ".png").status_code == 404  # open, but unknown


def test_api_key_from_the_environment(start_engine, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "env-" + os.urandom(8).hex()
    monkeypatch.setenv("LOCAL_ENGINE_API_KEY", secret)
    with start_engine() as url:
        assert httpx.get(f"{url}/models").status_code == 401
        assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_a_multipart_body_on_an_azure_deployment_route_streams_through(start_engine) -> None:
    """The deployment route adds its model to a multipart body as it passes, never holding it whole."""
    with start_engine("--api-key", TEST_KEY, "--azure-deployment", "pictures=local-image") as url:
        pid = engine_pid(url)
        root = url.removesuffix("/v1")
        padding = os.urandom(MB) * 32  # an over-large picture: refused by the route, after streaming through
        body, headers = _multipart([("image", "a.png", padding), ("model", None, b"pictures"), ("n", None, b"1")])
        before = _memory_kb(pid)["VmHWM"]
        answer = httpx.post(f"{root}/openai/deployments/pictures/images/variations", params={"api-version": "2024-10-21"},
                            content=body, headers={**headers, "api-key": TEST_KEY}, timeout=120)
        assert answer.status_code == 400 and "image" in answer.json()["error"]["message"].lower()
        assert _memory_kb(pid)["VmHWM"] - before < 16 * 1024
