"""Structured JSON-lines log of the gateway: one object per request, plus lifecycle events.

Nothing written here may contain an API key or a DSN; callers pass only safe fields, and
``redact_secrets`` strips passwords from any text that might hold a connection string.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact_secrets(text: str) -> str:
    """Replace passwords in URLs (``scheme://user:pw@``) and ``password=...`` pairs with ``***``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m.group(1)}***", text)


class JsonLinesLog:
    """Appends one JSON object per line to a file; safe to call from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, level: str, **fields: Any) -> None:
        """Write ``{"ts", "level", **fields}`` as one line."""
        record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "level": level, **fields}
        line = json.dumps(record, default=str, ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._file.close()
