"""One JSON object per line: one per request, plus start and stop. Never an API key."""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO


class JsonLineLog:
    """Writes ``{"ts", "level", **fields}`` lines to a stream; safe to call from any thread."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    @classmethod
    def to(cls, path: Path | None) -> JsonLineLog:
        """A log appending to `path`, or to stderr when `path` is None."""
        if path is None:
            return cls(sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path.open("a", encoding="utf-8", buffering=1))

    def write(self, level: str, **fields: Any) -> None:
        """Write one line."""
        record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "level": level, **fields}
        line = json.dumps(record, default=str, ensure_ascii=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
