"""The fine-tuned layer that generalizes: a small MLP over the embedding of the context, gated.

For a context (token ids, oldest first) the head reads
  x   = [whole: embedding of the text of the last CONTEXT_TOKENS tokens but the last few ;
         recent: embedding of the text of the last RECENT_TOKENS tokens]  (WordLlama, 2 x 256)
        standardized with the training positions' mean and spread,
  b1  = a hash bucket of the last token, b2 = one of the last two tokens,
and computes
  hidden = tanh(recent A + a0 + E1[b1] + E2[b2])                          (HIDDEN units)
  q      = softmax(hidden U + s (beta whole Imprint + whole W) + alpha ln p_below + u0)
                                        over `outputs`: the tokens the training targets use;
                                        s = sigmoid(hidden r + r0) switches the content part
                                        on where the answer depends on the prompt, and
                                        alpha ln p_below lets the head lean on the model
                                        under it where that one knows (an exact phrase)
  g      = sigmoid(hidden v + whole vx + v0)   the gate: how far to trust the head here
  p(w)   = (1 - g) p_below(w) + g q(w)  with p_below the model under the head (base n-gram,
                                        earlier layers); q(w) = 0 outside `outputs`.
So it is one mixing step `Step(1 - g, outputs, g q)` (see `lm`); every id keeps the nonzero
probability p_below gives it. The embedding carries the meaning of the whole prompt, so a
post worded unlike any training post still lands near the training posts on its subject;
the hashed last tokens tell the head where in the answer it is.

Training (`Trainer`) is minibatch gradient descent (Adam) on the mean of -ln p(target) over
the batch's target tokens (plus GATE_COST * g, so the head takes over only where it beats
p_below), the gradients written out below (`Trainer.loss_and_gradients`), with p_below held
fixed per target position.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

CONTEXT_TOKENS = 512
RECENT_TOKENS = 3
HIDDEN = 64
BUCKETS = 2048
BASE_LEARNING_RATE = 0.01  # Adam's step size at learning_rate_multiplier = 1
WEIGHT_DECAY = 0.01  # AdamW decoupled decay (times the step size) on A, U, E1, E2
RESIDUAL_DECAY = 10.0  # the same on W, the learned change to the imprinted content weights
IMPRINT_SPREAD = 5.0  # spread of the imprinted content logits over the training positions
_PARAMS = ("A", "a0", "E1", "E2", "U", "W", "beta", "alpha", "u0", "r", "r0", "v", "vx", "v0")
LOG_FLOOR = -30.0
GATE_COST = 0.05  # a cost per unit of gate: the head is used only where it improves on p_below  # log p_below is clipped here


def _buckets(context: Sequence[int]) -> tuple[int, int]:
    last = int(context[-1]) if len(context) else -1
    prev = int(context[-2]) if len(context) > 1 else -1
    b1 = ((last + 1) * 2654435761) % BUCKETS
    b2 = (((prev + 1) * 1000003 + last + 1) * 2246822519) % BUCKETS
    return b1, b2


class Featurizer:
    """Token contexts -> (x before standardization, bucket 1, bucket 2)."""

    def __init__(self, encoding, embedder) -> None:
        self.encoding, self.embedder = encoding, embedder
        self._eot = encoding.eot_token

    def _text(self, ids: Sequence[int]) -> str:
        """The tokens' text (special and unassigned ids left out); " " when there is none."""
        ids = [int(t) for t in ids if int(t) < self._eot]
        try:
            raw = self.encoding.decode_bytes(ids)
        except KeyError:  # an unassigned id among them: decode one by one
            raw = b"".join(self._token_bytes(t) for t in ids)
        return raw.decode("utf-8", errors="replace") or " "

    def _token_bytes(self, token: int) -> bytes:
        try:
            return self.encoding.decode_single_token_bytes(token)
        except KeyError:
            return b""

    def __call__(self, contexts: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        texts = [self._text(c[-CONTEXT_TOKENS:-RECENT_TOKENS]) for c in contexts]
        recent = [self._text(c[-RECENT_TOKENS:]) for c in contexts]
        vectors = self.embedder.embed(texts + recent)
        x = np.concatenate([vectors[: len(texts)], vectors[len(texts) :]], axis=1)
        b = np.array([_buckets(c) for c in contexts], dtype=np.int64).reshape(-1, 2)
        return x, b[:, 0], b[:, 1]


@dataclass
class Head:
    """The trained weights (see the module docstring); `steps` is what the text model calls."""

    outputs: np.ndarray  # int64, sorted: the token ids the head can predict
    mean: np.ndarray  # feature standardization
    scale: np.ndarray
    params: dict[str, np.ndarray]
    imprint: np.ndarray  # (whole features, outputs): fixed after `initial`
    featurizer: Featurizer | None = None
    below: object = None  # the text model under this head (its p_below); set when served

    @classmethod
    def initial(cls, outputs: np.ndarray, x: np.ndarray, target: np.ndarray, seed: int) -> Head:
        """Fresh weights; the content weights W start "imprinted" (Qi et al., 2018): column j is
        the mean context of the positions whose target is outputs[j], scaled to logits of
        spread IMPRINT_SPREAD, so the untrained head is already a nearest-centroid classifier."""
        rng = np.random.default_rng(seed)
        d = x.shape[1]
        half = d // 2
        known = target >= 0
        target_counts = np.bincount(target[known], minlength=len(outputs)).astype(np.float64)
        prior = np.log((target_counts + 1.0) / (target_counts.sum() + len(target_counts)))
        mean, scale = x.mean(axis=0), _spread(x)
        whole = ((x - mean) / scale)[:, :half]
        sums = np.zeros((half, len(outputs)))
        np.add.at(sums.T, target[known], whole[known])
        centroids = sums / np.maximum(target_counts, 1)
        spread = float((whole @ centroids).std()) if len(whole) > 1 else 0.0
        imprint = centroids * (IMPRINT_SPREAD / spread if spread > 0 else 0.0)
        params = {
            "A": rng.standard_normal((half, HIDDEN)).astype(np.float32) / np.sqrt(half),
            "a0": np.zeros(HIDDEN, np.float32),
            "E1": (0.1 * rng.standard_normal((BUCKETS, HIDDEN))).astype(np.float32),
            "E2": (0.1 * rng.standard_normal((BUCKETS, HIDDEN))).astype(np.float32),
            "U": (0.1 * rng.standard_normal((HIDDEN, len(outputs))) / np.sqrt(HIDDEN)).astype(np.float32),
            "W": np.zeros((half, len(outputs)), np.float32),
            "beta": np.zeros(1, np.float32),  # the imprint is switched on by training
            "alpha": np.full(1, 0.5, np.float32),
            "u0": prior.astype(np.float32),
            "r": np.zeros(HIDDEN, np.float32),
            "r0": np.zeros(1, np.float32),
            "v": np.zeros(HIDDEN, np.float32),
            "vx": np.zeros(half, np.float32),
            "v0": np.zeros(1, np.float32),
        }
        return cls(outputs.astype(np.int64), mean, scale, params, imprint.astype(np.float32))

    @functools.cached_property
    def signature(self) -> str:
        digest = hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes() for v in self.params.values()))
        return f"head-{len(self.outputs)}-{digest.hexdigest()[:16]}"

    def copy(self) -> Head:
        return Head(self.outputs, self.mean, self.scale, {k: v.copy() for k, v in self.params.items()}, self.imprint,
                    self.featurizer, self.below)

    # -- forward -------------------------------------------------------------------------

    def forward(self, x: np.ndarray, b1: np.ndarray, b2: np.ndarray, p_below: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hidden, q over outputs, g) for features x (n, d) as the featurizer gives them and
        p_below (n, outputs), the model under the head at those ids."""
        hidden, _, _, q, g, _ = self._forward(x, b1, b2, _log(p_below))
        return hidden, q, g

    def _forward(self, x: np.ndarray, b1: np.ndarray, b2: np.ndarray, log_below: np.ndarray):
        p = self.params
        whole, recent = self.split(x)
        hidden = np.tanh(recent @ p["A"] + p["a0"] + p["E1"][b1] + p["E2"][b2])
        imprinted = whole @ self.imprint
        content = p["beta"][0] * imprinted + whole @ p["W"]
        switch = _sigmoid(hidden @ p["r"] + p["r0"][0])
        z = hidden @ p["U"] + switch[:, None] * content + p["alpha"][0] * log_below + p["u0"]
        z -= z.max(axis=1, keepdims=True)
        q = np.exp(z)
        q /= q.sum(axis=1, keepdims=True)
        g = _sigmoid(hidden @ p["v"] + whole @ p["vx"] + p["v0"][0])
        return hidden, content, switch, q, g, imprinted

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standardized features: (the whole context's part, the recent tokens' part)."""
        xs = (x - self.mean) / self.scale
        half = xs.shape[1] // 2
        return xs[:, :half], xs[:, half:]

    def steps(self, context: Sequence[int]):
        from .lm import Step

        x, b1, b2 = self.featurizer([context])
        _, q, g = self.forward(x, b1, b2, self._below_at_outputs(context)[None, :])
        gate = float(g[0])
        return [Step(1.0 - gate, self.outputs, (gate * q[0]).astype(np.float32))]

    # -- saving ----------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, outputs=self.outputs, mean=self.mean, scale=self.scale, imprint=self.imprint, **self.params)
        tmp.replace(path)

    def _below_at_outputs(self, context: Sequence[int]) -> np.ndarray:
        if len(self.outputs) > 64:
            return self.below.next_dist(context).probs[self.outputs]
        return np.exp([self.below.logprob_of(context, int(t)) for t in self.outputs])

    @classmethod
    def load(cls, path: Path, featurizer: Featurizer) -> Head:
        with np.load(path) as data:
            return cls(data["outputs"], data["mean"], data["scale"], {k: data[k] for k in _PARAMS}, data["imprint"],
                       featurizer)


@dataclass
class Positions:
    """Every target position of some examples, with what training needs of the model below."""

    x: np.ndarray  # (n, d) features
    b1: np.ndarray
    b2: np.ndarray
    target: np.ndarray  # index into head.outputs, -1 when the head cannot produce it
    p_target: np.ndarray  # p_below(target)
    p_outputs: np.ndarray  # (n, len(outputs)) p_below over the head's outputs
    p_best: np.ndarray  # max of p_below over the whole vocabulary
    best: np.ndarray  # its id
    target_id: np.ndarray  # the target token id
    example: np.ndarray  # which example each position belongs to

    def take(self, examples: np.ndarray) -> Positions:
        rows = np.flatnonzero(np.isin(self.example, examples))
        return Positions(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


class Trainer:
    """Adam on a head's parameters; `step` returns the batch's loss and token accuracy."""

    def __init__(self, head: Head, learning_rate: float, total_steps: int = 0) -> None:
        self.head, self.peak, self.total = head, learning_rate, total_steps
        self.lr = learning_rate
        self.m = {k: np.zeros_like(v) for k, v in head.params.items()}
        self.s = {k: np.zeros_like(v) for k, v in head.params.items()}
        self.t = 0

    def evaluate(self, pos: Positions) -> tuple[float, float]:
        """(mean -ln p(target), share of positions where the target is the argmax) of the full mixture."""
        if len(pos.target) == 0:
            return 0.0, 0.0
        _, q, g = self.head.forward(pos.x, pos.b1, pos.b2, pos.p_outputs)
        return _loss(q, g, pos), _accuracy(self.head.outputs, q, g, pos)

    def loss_and_gradients(self, pos: Positions) -> tuple[float, float, dict[str, np.ndarray]]:
        """Loss and accuracy before the update, and d loss / d parameter.

        With m = (1 - g) pb_t + g q_t the probability of the target t:
          dL/dz_j      = -(g q_t / m) (1[j = t] - q_j)        (z: the head's logits)
          dL/dgatelogit = -((q_t - pb_t) / m) g (1 - g)
        each divided by the number of positions, then back through tanh to A, a0, E1, E2.
        """
        p, head = self.head.params, self.head
        n = len(pos.target)
        whole, recent = head.split(pos.x)
        log_below = _log(pos.p_outputs)
        hidden, content, switch, q, g, imprinted = head._forward(pos.x, pos.b1, pos.b2, log_below)
        loss, acc = _loss(q, g, pos), _accuracy(head.outputs, q, g, pos)
        known = pos.target >= 0
        rows = np.arange(n)
        q_t = np.where(known, q[rows, np.maximum(pos.target, 0)], 0.0)
        m = np.maximum((1 - g) * pos.p_target + g * q_t, 1e-30)
        dz = q * (g * q_t / m)[:, None]
        dz[rows[known], pos.target[known]] -= (g * q_t / m)[known]
        dgl = (GATE_COST - (q_t - pos.p_target) / m) * g * (1 - g)  # NLL + GATE_COST * g
        dz /= n
        dgl /= n
        grads = {
            "U": hidden.T @ dz, "W": whole.T @ (dz * switch[:, None]), "u0": dz.sum(axis=0),
            "beta": np.array([(dz * switch[:, None] * imprinted).sum()]),
            "alpha": np.array([(dz * log_below).sum()]),
            "v": hidden.T @ dgl, "vx": whole.T @ dgl, "v0": np.array([dgl.sum()]),
        }
        dsl = (dz * content).sum(axis=1) * switch * (1 - switch)  # d loss / d switch logit
        grads["r"], grads["r0"] = hidden.T @ dsl, np.array([dsl.sum()])
        dpre = (dz @ p["U"].T + dgl[:, None] * p["v"] + dsl[:, None] * p["r"]) * (1 - hidden**2)
        grads["A"] = recent.T @ dpre
        grads["a0"] = dpre.sum(axis=0)
        for name, b in (("E1", pos.b1), ("E2", pos.b2)):
            table = np.zeros_like(p[name])
            np.add.at(table, b, dpre)
            grads[name] = table
        return loss, acc, grads

    def step(self, pos: Positions) -> tuple[float, float]:
        loss, acc, grads = self.loss_and_gradients(pos)
        self.t += 1
        if self.total:  # linear decay to zero over the job
            self.lr = self.peak * max(0.0, 1 - (self.t - 1) / self.total)
        b1, b2 = 0.9, 0.999
        for name, grad in grads.items():
            self.m[name] = b1 * self.m[name] + (1 - b1) * grad
            self.s[name] = b2 * self.s[name] + (1 - b2) * grad**2
            mhat = self.m[name] / (1 - b1**self.t)
            shat = self.s[name] / (1 - b2**self.t)
            decay = 1.0
            if name in ("A", "U", "W", "E1", "E2"):  # AdamW's decoupled weight decay
                decay -= self.lr * (RESIDUAL_DECAY if name == "W" else WEIGHT_DECAY)
            self.head.params[name] = (decay * self.head.params[name] - self.lr * mhat / (np.sqrt(shat) + 1e-8)).astype(np.float32)
        return loss, acc


def _loss(q: np.ndarray, g: np.ndarray, pos: Positions) -> float:
    known = pos.target >= 0
    q_t = np.where(known, q[np.arange(len(q)), np.maximum(pos.target, 0)], 0.0)
    m = np.maximum((1 - g) * pos.p_target + g * q_t, 1e-30)
    return float(-np.log(m).mean())


def _accuracy(outputs: np.ndarray, q: np.ndarray, g: np.ndarray, pos: Positions) -> float:
    mix = (1 - g)[:, None] * pos.p_outputs + g[:, None] * q
    j = mix.argmax(axis=1)
    best_head = mix[np.arange(len(j)), j]
    predicted = np.where(best_head >= (1 - g) * pos.p_best, outputs[j], pos.best)
    return float(np.mean(predicted == pos.target_id))


def _spread(x: np.ndarray) -> np.ndarray:
    """One scale per half (whole, recent): the features' overall spread, so directions keep their meaning."""
    half = x.shape[1] // 2
    out = np.empty(x.shape[1], np.float32)
    for part in (slice(0, half), slice(half, None)):
        out[part] = float(np.sqrt(((x[:, part] - x[:, part].mean(axis=0)) ** 2).mean())) + 1e-6
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _log(p: np.ndarray) -> np.ndarray:
    return np.maximum(np.log(np.maximum(p, 1e-300)), LOG_FLOOR)
