"""A server's own tokenizer, for logit bias on models whose vocabulary is not o200k_base.

llama.cpp's server and vLLM both serve POST /tokenize and /detokenize at the server's root
(llama.cpp: {"content"} -> {"tokens"} and {"tokens"} -> {"content"}; vLLM: {"model",
"prompt"} -> {"tokens"} and {"model", "tokens"} -> {"prompt"}). One body carries both
spellings. Probed only on the host of the configured base URL, with the configured key,
never following a redirect elsewhere.

ServerTokenizer quacks like the part of tiktoken.Encoding that logit bias uses (name, n_vocab,
encode, decode_single_token_bytes), so playground.logit_bias works with either.
"""

from __future__ import annotations

import httpx

from playground.providers import safe_host

PROBE_TIMEOUT_S = 5.0
UNKNOWN_VOCAB = 2**31  # the server says no size: ids are checked by decoding them


class ServerTokenizerError(Exception):
    """The server's tokenizer failed mid-way (down, or an answer not in either shape)."""


class ServerTokenizer:
    def __init__(self, base_url: str, api_key: str | None, model: str) -> None:
        self.root = safe_host(base_url)
        self.model = model
        self.name = f"the server's tokenizer for {model}"
        self.n_vocab = UNKNOWN_VOCAB
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.root, headers=headers, timeout=PROBE_TIMEOUT_S, follow_redirects=False)
        self._encoded: dict[str, list[int]] = {}
        self._decoded: dict[int, bytes | None] = {}

    def _post(self, path: str, body: dict) -> dict:
        try:
            response = self._http.post(path, json={"model": self.model, **body})
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServerTokenizerError(f"{self.root}{path} failed: {type(exc).__name__}") from exc
        if not isinstance(answer, dict):
            raise ServerTokenizerError(f"{self.root}{path} answered something other than a JSON object")
        return answer

    def encode(self, text: str, disallowed_special: object = ()) -> list[int]:
        if text not in self._encoded:
            tokens = self._post("/tokenize", {"content": text, "prompt": text, "add_special": False,
                                              "add_special_tokens": False}).get("tokens")
            if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
                raise ServerTokenizerError(f"{self.root}/tokenize gave no list of token ids")
            self._encoded[text] = tokens
        return self._encoded[text]

    def decode_single_token_bytes(self, token_id: int) -> bytes:
        if token_id not in self._decoded:
            try:
                answer = self._post("/detokenize", {"tokens": [token_id]})
            except ServerTokenizerError:
                answer = {}
            text = answer.get("content", answer.get("prompt"))
            self._decoded[token_id] = text.encode() if isinstance(text, str) and text else None
        found = self._decoded[token_id]
        if found is None:
            raise KeyError(token_id)  # as tiktoken does for an id it has no token for
        return found


def probe(base_url: str, api_key: str | None, model: str) -> ServerTokenizer | None:
    """The server's tokenizer when it serves /tokenize (checked on one word), else None."""
    tokenizer = ServerTokenizer(base_url, api_key, model)
    try:
        tokenizer.encode("hello")
    except ServerTokenizerError:
        return None
    return tokenizer
