"""Running an eval: every (row, configuration, repeat) cell, in worker threads.

Cells fill `Eval.cells` as they finish, so a page can poll them and a cancelled run keeps
every finished cell; running again runs only the cells still missing (resume). A 429 is
waited out (the server's retry-after, else a doubling pause) and retried, and the wait is
shown in `Progress.waiting`. Nothing here touches Streamlit.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import openai

from playground import runner
from playground.counting import count_chat, count_prompt
from playground.errors import Problem, explain
from playground.evals.config import MAX_CONFIGS, MAX_REPEATS, EvalConfig, max_tokens_of, request_for
from playground.evals.dataset import Dataset, Template
from playground.evals.graders import Grade, Grader, Services, grade
from playground.history import tokens_from_json, tokens_to_json
from playground.logprobs import TokenInfo
from playground.requests import TextRequest

Key = tuple[int, int, int]  # row, configuration, repeat
MAX_ATTEMPTS = 6  # a rate-limited cell is tried this often before it fails
MAX_WAIT_S = 60.0
DEFAULT_CONCURRENCY = 4


@dataclass
class Cell:
    text: str = ""
    tokens: list[TokenInfo] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    latency: float | None = None
    ttft: float | None = None
    cost: float | None = None
    error: Problem | None = None
    grades: list[Grade] = field(default_factory=list)
    waits: int = 0  # rate-limit waits before it went through

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": tokens_to_json(self.tokens), "usage": self.usage, "latency": self.latency,
                "ttft": self.ttft, "cost": self.cost, "error": None if self.error is None else asdict(self.error),
                "grades": [g.to_json() for g in self.grades], "waits": self.waits}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cell:
        return cls(data.get("text") or "", tokens_from_json(data.get("tokens") or []), data.get("usage"),
                   data.get("latency"), data.get("ttft"), data.get("cost"),
                   None if data.get("error") is None else Problem(**data["error"]),
                   [Grade.from_json(g) for g in data.get("grades") or []], int(data.get("waits") or 0))


@dataclass
class Eval:
    dataset: Dataset
    template: Template
    configs: list[EvalConfig]
    graders: list[Grader]
    repeats: int = 1
    name: str = "eval"
    cells: dict[Key, Cell] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def keys(self) -> list[Key]:
        """Every cell, row by row."""
        return [(r, c, k) for r in range(len(self.dataset.rows)) for c in range(len(self.configs)) for k in range(self.repeats)]

    def missing(self) -> list[Key]:
        """Cells not run yet, or failed: what a resume runs."""
        return [key for key in self.keys() if key not in self.cells or self.cells[key].error is not None]

    def expected(self, row: int) -> str | None:
        column = self.template.expected
        return self.dataset.rows[row].get(column) if column else None

    def problems(self) -> list[str]:
        """What keeps this eval from running, in words (empty when it can run)."""
        out = list(self.template.problems(self.dataset))
        if not 1 <= len(self.configs) <= MAX_CONFIGS:
            out.append(f"Use 1 to {MAX_CONFIGS} configurations.")
        if not 1 <= self.repeats <= MAX_REPEATS:
            out.append(f"Repeats must be 1 to {MAX_REPEATS}.")
        if not self.graders:
            out.append("Add a grader.")
        for grader in self.graders:
            out += [f"Grader {grader.label}: {p}." for p in grader.problems()]
            if grader.kind in ("embedding", "rubric") and not 0 <= grader.judge < len(self.configs):
                out.append(f"Grader {grader.label}: its configuration {grader.judge + 1} does not exist.")
            if grader.kind in ("exact", "contains", "numeric", "label", "embedding") and not self.template.expected:
                out.append(f"Grader {grader.label} needs the expected-answer column.")
        for i, config in enumerate(self.configs):
            try:
                _, found = self.request(0, i) if self.dataset.rows else (None, [])
            except ValueError as exc:
                found = [str(exc)]
            out += [f"Configuration {i + 1} ({config.label}): {p}" for p in found]
        return out

    def request(self, row: int, config: int) -> tuple[TextRequest, list[Any]]:
        prompt, messages = self.template.prompt_for(self.dataset.rows[row])
        return request_for(self.configs[config], self.template.endpoint, prompt=prompt, messages=messages)

    def row_input(self, row: int) -> str:
        prompt, messages = self.template.prompt_for(self.dataset.rows[row])
        return prompt if prompt is not None else "\n\n".join(m["content"] for m in messages or [])

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop cells so the next run makes them again (re-run a cell or a column)."""
        for key in keys:
            self.cells.pop(key, None)

    def column(self, config: int) -> list[Key]:
        return [key for key in self.keys() if key[1] == config]


# --- cost before the run ----------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    config: str
    cells: int
    prompt_tokens: int
    max_completion_tokens: int
    dollars: float | None  # at most: every cell writing max_tokens; None when the price is unknown


def estimate(ev: Eval, keys: Iterable[Key] | None = None) -> list[Estimate]:
    """Per configuration: the prompt tokens counted here and the most it can cost."""
    keys = list(ev.missing() if keys is None else keys)
    out = []
    for index, config in enumerate(ev.configs):
        mine = [k for k in keys if k[1] == index]
        prompt_tokens = 0
        for row, _, _ in mine:
            prompt, messages = ev.template.prompt_for(ev.dataset.rows[row])
            try:
                prompt_tokens += count_prompt(prompt, config.model) if prompt is not None else count_chat(messages or [], config.model)
            except Exception:  # an encoding that cannot load offline: count as o200k would
                prompt_tokens += len((prompt or "").split()) * 2
        completion = len(mine) * max_tokens_of(config, ev.template.endpoint)
        out.append(Estimate(config.label, len(mine), prompt_tokens, completion, config.capabilities().cost(prompt_tokens, completion)))
    return out


# --- running ----------------------------------------------------------------------------


@dataclass
class Progress:
    """A run going on (or done). `waiting` says which cell waits out a rate limit."""

    total: int
    done: int = 0
    failed: int = 0
    waits: int = 0
    waiting_cells: dict[Key, str] = field(default_factory=dict)  # cells waiting out a rate limit, and why
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    started: float = field(default_factory=time.monotonic)
    elapsed: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def waiting(self) -> str:
        """What waits out a rate limit now ("" when nothing does)."""
        with self.lock:
            return "; ".join(self.waiting_cells.values())

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


def is_rate_limit(problem: Problem) -> bool:
    """A 429 worth waiting out (not a used-up quota, which waiting does not cure)."""
    return "(429)" in problem.title and "quota" not in problem.action.lower()


def backoff_seconds(problem: Problem, attempt: int) -> float:
    """The server's retry-after when it gave one, else 1, 2, 4… seconds; at most MAX_WAIT_S."""
    wait = problem.retry_after if problem.retry_after is not None else 2.0**attempt
    return max(0.05, min(wait, MAX_WAIT_S))


def services_for(ev: Eval, clients: list[openai.OpenAI]) -> Services:
    """The embedding and rubric graders' calls, through their configuration's connection."""

    def embed(grader: Grader, texts: list[str]) -> list[list[float]]:
        client = clients[grader.judge]
        try:
            response = client.embeddings.create(model=grader.embedding_model, input=texts)
        except openai.OpenAIError as exc:
            problem = explain(exc, secrets=ev.configs[grader.judge].connection.secrets, where=str(client.base_url))
            raise RuntimeError(f"{problem.title} {problem.detail}") from None
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

    def judge(grader: Grader, prompt: str) -> str:
        config = ev.configs[grader.judge]
        endpoint = "chat" if "chat" in config.capabilities().endpoints else "completions"
        if endpoint == "chat":
            request, _ = request_for(config, "chat", messages=[{"role": "user", "content": prompt}])
        else:
            request, _ = request_for(config, "completions", prompt=prompt + "\n\nScore:")
        result = runner.run(clients[grader.judge], request)
        if result.error is not None:
            raise RuntimeError(f"{result.error.title} {result.error.detail}")
        return result.text

    return Services(embed, judge)


def grade_cell(ev: Eval, key: Key, cell: Cell, services: Services | None) -> None:
    row = key[0]
    cell.grades = [grade(g, cell.text, ev.expected(row), tokens=cell.tokens, row_input=ev.row_input(row), services=services)
                   for g in ev.graders]


def _run_cell(ev: Eval, key: Key, clients: list[openai.OpenAI], services: Services, progress: Progress) -> Cell | None:
    """One cell, waiting out rate limits; None when cancelled before it finished."""
    row, index, _ = key
    config = ev.configs[index]
    cell = Cell()
    try:
        request, problems = ev.request(row, index)
    except ValueError as exc:  # a parameter the table refuses
        request, problems = None, [str(exc)]
    if problems:
        cell.error = Problem("The request was not sent.", "; ".join(str(p) for p in problems), "Change the configuration.")
        return cell
    for attempt in range(MAX_ATTEMPTS):
        result = runner.run(clients[index], request, should_stop=progress.cancel.is_set)
        if result.stopped or progress.cancelled:
            return None
        if result.error is not None and is_rate_limit(result.error) and attempt < MAX_ATTEMPTS - 1:
            wait = backoff_seconds(result.error, attempt)
            with progress.lock:
                progress.waits += 1
                progress.waiting_cells[key] = f"{config.label}: rate limited, retrying row {row + 1} in {wait:.1f} s (attempt {attempt + 2})"
            cell.waits += 1
            cancelled = progress.cancel.wait(wait)
            with progress.lock:
                progress.waiting_cells.pop(key, None)
            if cancelled:
                return None
            continue
        break
    choice = result.choices[0] if result.choices else None
    cell.text = choice.text if choice else ""
    cell.tokens = choice.tokens if choice else []
    cell.usage, cell.latency, cell.ttft, cell.error = result.usage, result.latency_s, result.ttft_s, result.error
    cell.cost = result.cost  # priced once, by the runner
    if cell.error is None:
        grade_cell(ev, key, cell, services)
    return cell


def run_cells(ev: Eval, keys: Iterable[Key] | None = None, *, concurrency: int = DEFAULT_CONCURRENCY,
              progress: Progress | None = None) -> Progress:
    """Run the cells (by default the missing ones) and wait; returns the progress record."""
    keys = list(ev.missing() if keys is None else keys)
    progress = progress or Progress(len(keys))
    clients = [config.client() for config in ev.configs]
    services = services_for(ev, clients)

    def work(key: Key) -> None:
        if progress.cancelled:
            return
        cell = _run_cell(ev, key, clients, services, progress)
        if cell is None:
            return
        ev.cells[key] = cell  # one dict assignment: safe while the page reads
        with progress.lock:
            progress.done += 1
            progress.failed += cell.error is not None

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval") as pool:
            list(pool.map(work, keys))
    finally:
        for client in clients:
            client.close()
        progress.elapsed = time.monotonic() - progress.started
    return progress


def start(ev: Eval, keys: Iterable[Key] | None = None, *, concurrency: int = DEFAULT_CONCURRENCY) -> Progress:
    """Run in a background thread; returns at once. `progress.cancel.set()` stops the run,
    keeping every finished cell."""
    keys = list(ev.missing() if keys is None else keys)
    progress = Progress(len(keys))
    progress.thread = threading.Thread(target=run_cells, args=(ev, keys), kwargs={"concurrency": concurrency, "progress": progress},
                                       daemon=True, name=f"eval-{ev.id[:8]}")
    progress.thread.start()
    return progress


def regrade(ev: Eval, clients: list[openai.OpenAI] | None = None) -> None:
    """Grade every finished cell again (after the graders changed); no new completions."""
    services = services_for(ev, clients) if clients is not None else None
    for key, cell in ev.cells.items():
        if cell.error is None:
            grade_cell(ev, key, cell, services)
