"""What the load engine keeps about each request: one typed record, times in run seconds.

Every time is `time.perf_counter()` minus the run's start, in seconds (float). A time the request
never reached (no first byte, no content) is None. Derived latencies follow the measurement glossary
of DESIGN.md and are None whenever a term they need is missing, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestSpec:
    """One request the engine will send: what a request factory returns.

    `url` is absolute, or a path joined to the engine's `base_url`. `stream` says whether the answer
    is read as server-sent events; by default it follows `json["stream"]`.
    """

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    stream: bool | None = None

    @property
    def streamed(self) -> bool:
        """Whether the answer is read as server-sent events."""
        if self.stream is not None:
            return self.stream
        return isinstance(self.json, dict) and bool(self.json.get("stream"))


@dataclass
class RequestRecord:
    """One request of a run, as the client saw it.

    Times (run seconds): `scheduled` is when the schedule wanted it sent; `issued` when the engine
    handed it to the HTTP client; `sent` when its first byte was written to the socket; `first_byte`
    when the first byte of the answer arrived; `first_content` when the first chunk carrying content
    arrived (an upper bound where `first_content_uncertain`: the read that returned it also returned
    later bytes, and is stamped with their arrival); `chunk_times` every content chunk's arrival; `end`
    when the last byte arrived (or the request failed). `timestamps` says how arrivals were stamped: "kernel" (the socket's receive
    timestamp) or "loop" (the event loop's clock when the bytes were handed over).
    """

    index: int
    request_id: str
    scheduled: float
    issued: float | None = None
    sent: float | None = None
    first_byte: float | None = None
    first_content: float | None = None
    chunk_times: list[float] = field(default_factory=list)
    end: float | None = None
    status: int | None = None
    output_tokens: int | None = None
    error: str = ""
    done_marker: bool = False
    streamed: bool = False
    warmup: bool = False
    timestamps: str = "loop"
    first_content_uncertain: bool = False  # the first content chunk shared its read with later bytes (sse.py)
    worker: int = 0  # the rank of the worker that sent it (workers.py; 0 when one worker sends everything)

    @property
    def ok(self) -> bool:
        """True when the request completed with a 2xx answer and no error."""
        return not self.error and self.status is not None and 200 <= self.status < 300

    @property
    def schedule_lag(self) -> float | None:
        """Sent − scheduled: how late the client sent it."""
        return None if self.sent is None else self.sent - self.scheduled

    @property
    def ttft(self) -> float | None:
        """First content chunk − sent (streamed answers only)."""
        if self.sent is None or self.first_content is None:
            return None
        return self.first_content - self.sent

    @property
    def e2e(self) -> float | None:
        """Last byte − sent."""
        if self.sent is None or self.end is None:
            return None
        return self.end - self.sent

    @property
    def e2e_from_scheduled(self) -> float | None:
        """Last byte − scheduled send time: the latency a user of an open-loop schedule saw."""
        return None if self.end is None else self.end - self.scheduled

    @property
    def tpot(self) -> float | None:
        """(E2E − TTFT) / (output tokens − 1), output tokens from the server's usage; else None."""
        e2e, ttft = self.e2e, self.ttft
        if e2e is None or ttft is None or self.output_tokens is None or self.output_tokens < 2:
            return None
        return (e2e - ttft) / (self.output_tokens - 1)

    @property
    def itls(self) -> list[float]:
        """Every gap between consecutive content chunks of this request."""
        times = self.chunk_times
        return [b - a for a, b in zip(times, times[1:])]

    def as_row(self) -> dict[str, Any]:
        """A flat, CSV-ready view (chunk times joined with spaces)."""
        return {
            "index": self.index, "request_id": self.request_id, "warmup": self.warmup,
            "scheduled_s": self.scheduled, "issued_s": self.issued, "sent_s": self.sent,
            "first_byte_s": self.first_byte, "first_content_s": self.first_content,
            "first_content_uncertain": self.first_content_uncertain, "end_s": self.end,
            "status": self.status, "ok": self.ok, "error": self.error, "done_marker": self.done_marker,
            "streamed": self.streamed, "output_tokens": self.output_tokens, "content_chunks": len(self.chunk_times),
            "schedule_lag_s": self.schedule_lag, "ttft_s": self.ttft, "e2e_s": self.e2e,
            "e2e_from_scheduled_s": self.e2e_from_scheduled, "tpot_s": self.tpot, "timestamps": self.timestamps,
            "worker": self.worker,
            "chunk_times_s": " ".join(f"{t:.6f}" for t in self.chunk_times),
        }
