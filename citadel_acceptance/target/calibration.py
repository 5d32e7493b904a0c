"""How fast this machine serves the embedded stack's models: the figures its relaxed thresholds are written against.

Machines of one kind differ several-fold in speed, so the embedded profile never hard-codes what a 135M model
on two CPU cores can do: when the stack starts (or a run attaches to one not yet calibrated), the suite asks
the model services themselves, bypassing the gateway (whose faults must not be calibrated away):

- `chat_answer_ms`: the median of a few single chat answers of the load's prompt and answer length, one at
  a time (a typical answer: the slowest of so few is one neighbour's hiccup away from ten times the rest);
- `chat_capacity_rps`: answers per second the chat service completes with a few clients asking back to
  back for a few seconds (closed loop), its sustained capacity;
- `embedding_ms`: the median of a few single embeddings of a short question, where an embedding service runs.

A profile override names a figure and a factor (`calibrated = "chat_answer_ms"`, `factor = 3`); see
citadel_acceptance.config.thresholds. The plan profile never calibrates.
"""
from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

QUESTION = "Who takes care of the deployment of the new gateway, and how fast?"  # like the embedding scenario's


class CalibrationError(RuntimeError):
    """A model service did not answer the calibration's requests; the message says which and how."""


@dataclass(frozen=True)
class ChatService:
    """Where to send the calibration's chat requests, and what to ask."""

    url: str
    model: str
    prompt: str
    max_tokens: int


@dataclass(frozen=True)
class EmbeddingService:
    """Where to send the calibration's embedding requests."""

    url: str
    model: str


def calibrate(chat: ChatService, embeddings: EmbeddingService | None = None, samples: int = 6,
              clients: int = 4, capacity_s: float = 4.0, timeout_s: float = 120.0) -> dict[str, float]:
    """Measure the figures (see the module's docstring); every request has a timeout."""
    with httpx.Client(timeout=timeout_s) as client:
        _chat(client, chat, "warm-up")
        single = [_timed(lambda i=i: _chat(client, chat, f"single {i}")) for i in range(samples)]
        figures = {"chat_answer_ms": round(statistics.median(single), 1),
                   "chat_capacity_rps": _capacity(chat, clients, capacity_s, timeout_s)}
        if embeddings is not None:
            _embed(client, embeddings)
            times = [_timed(lambda: _embed(client, embeddings)) for _ in range(samples)]
            figures["embedding_ms"] = round(statistics.median(times), 1)
    return figures


def describe(figures: dict[str, float]) -> str:
    """One line for the console and the evidence."""
    parts = [f"one chat answer {figures['chat_answer_ms']:g} ms (median of a few)",
             f"capacity {figures['chat_capacity_rps']:g} answers/s"]
    if "embedding_ms" in figures:
        parts.append(f"one embedding {figures['embedding_ms']:g} ms (median)")
    return ", ".join(parts)


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _chat(client: httpx.Client, chat: ChatService, tag: str) -> None:
    body = {"model": chat.model, "max_tokens": chat.max_tokens, "temperature": 0,
            "messages": [{"role": "user", "content": f"{chat.prompt} (calibration {tag} {uuid.uuid4().hex[:6]})"}]}
    _post(client, f"{chat.url}/v1/chat/completions", body)


def _embed(client: httpx.Client, service: EmbeddingService) -> None:
    _post(client, f"{service.url}/v1/embeddings", {"model": service.model, "input": QUESTION})


def _post(client: httpx.Client, url: str, body: dict) -> None:
    try:
        response = client.post(url, json=body, headers={"X-Request-ID": str(uuid.uuid4())})
    except httpx.HTTPError as exc:
        raise CalibrationError(f"POST {url} failed during calibration ({type(exc).__name__}: {exc})") from exc
    if response.status_code != 200:
        raise CalibrationError(f"POST {url} answered HTTP {response.status_code} during calibration: "
                               f"{response.text[:200]!r}")


def _capacity(chat: ChatService, clients: int, seconds: float, timeout_s: float) -> float:
    """Answers per second completed by `clients` asking back to back for `seconds` (closed loop)."""
    deadline = time.monotonic() + seconds

    def ask(worker: int) -> tuple[int, float]:
        done, last = 0, time.monotonic()
        with httpx.Client(timeout=timeout_s) as client:
            while time.monotonic() < deadline:
                _chat(client, chat, f"capacity {worker}-{done}")
                done, last = done + 1, time.monotonic()
        return done, last

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(ask, range(clients)))
    completed = sum(done for done, _ in results)
    elapsed = max(last for _, last in results) - started
    return round(completed / elapsed, 3) if elapsed > 0 and completed else 0.0
