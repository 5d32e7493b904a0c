"""Server-sent events read from raw bytes as they arrive, so each event keeps its arrival time.

Lines may end in LF or CRLF; an empty line ends an event; `data:` lines are joined with newlines
(the SSE rules that OpenAI-compatible streams use). Comments and other fields are ignored.

An event's time is the arrival stamp of the bytes that completed it. When one read of the socket delivered the
first content chunk and later bytes too, that stamp is the later bytes' arrival (transport.StampedStream), so the
first chunk's time is only an upper bound: `StreamState.first_content_uncertain` says so, rather than pass the
stamp off as exact.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamState:
    """What has been learnt from one streamed answer so far."""

    content_times: list[float] = field(default_factory=list)
    first_content_uncertain: bool = False  # the read that carried the first content chunk carried later bytes too
    done_marker: bool = False
    output_tokens: int | None = None
    error: str = ""
    undecodable: int = 0


def chunk_has_content(event: dict[str, Any]) -> bool:
    """Whether an OpenAI-style chunk carries generated text (chat `delta.content` or completion `text`)."""
    for choice in event.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict) and delta.get("content"):
            return True
        if choice.get("text"):
            return True
    return False


def usage_output_tokens(body: Any) -> int | None:
    """`usage.completion_tokens` of a chunk or an answer, when the server sent it."""
    usage = body.get("usage") if isinstance(body, dict) else None
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) else None


class SseReader:
    """Feed it raw bytes with their arrival time; it updates a `StreamState`."""

    def __init__(self) -> None:
        self.state = StreamState()
        self._pending = b""
        self._data: list[bytes] = []
        self._first_content_read: int | None = None

    def feed(self, raw: bytes, arrival: float, read: int | None = None) -> None:
        """Take the bytes that arrived at `arrival` (run seconds), delivered by the socket's read number `read`
        (None: each part its own read, as far as anyone can tell)."""
        state = self.state
        if raw and read is not None and read == self._first_content_read:
            state.first_content_uncertain = True  # a later part of the read that carried the first content
        buffer = self._pending + raw
        start = 0
        while True:
            newline = buffer.find(b"\n", start)
            if newline < 0:
                break
            line = buffer[start:newline]
            start = newline + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    first = not state.content_times
                    self._dispatch(b"\n".join(self._data), arrival)
                    self._data = []
                    if first and state.content_times:
                        self._first_content_read = read
                        # bytes after the first content chunk in this part came with it, stamped as one
                        state.first_content_uncertain = bool(buffer[start:].strip())
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
        self._pending = buffer[start:]

    def close(self, arrival: float) -> None:
        """The stream ended: an event not followed by an empty line still counts."""
        if self._pending.startswith(b"data:"):
            value = self._pending[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        self._pending = b""
        if self._data:
            self._dispatch(b"\n".join(self._data), arrival)
            self._data = []

    def _dispatch(self, data: bytes, arrival: float) -> None:
        state = self.state
        if data.strip() == b"[DONE]":
            state.done_marker = True
            return
        try:
            event = json.loads(data)
        except ValueError:
            state.undecodable += 1
            return
        if not isinstance(event, dict):
            state.undecodable += 1
            return
        if event.get("error"):
            state.error = state.error or f"stream error: {event['error']}"
        tokens = usage_output_tokens(event)
        if tokens is not None:
            state.output_tokens = tokens
        if chunk_has_content(event):
            state.content_times.append(arrival)
