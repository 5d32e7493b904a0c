"""Redaction: no secret reaches the evidence, the console or a log written by the suite."""
from __future__ import annotations

import re
from typing import Any, Iterable

MASK = "[REDACTED]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer <key>   (headers as text, and as JSON "authorization": "Bearer <key>")
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{4,}"), r"\1" + MASK),
    # Qdrant's api-key header and key-like query or JSON fields
    (re.compile(r"(?i)((?:api[-_]?key|x-api-key|password|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+"), r"\1" + MASK),
    # passwords inside URLs and DSNs: scheme://user:password@host
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@"), r"\1" + MASK + "@"),
)
_SENSITIVE_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie", "set-cookie"})


class Redactor:
    """Masks known secret values and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember a secret value so that it is masked wherever it appears."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    @property
    def secrets(self) -> frozenset[str]:
        """The secret values known to this redactor (for the after-run scan)."""
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        """The text with every known secret and credential-shaped value masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            value = value.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def headers(self, headers: Any) -> dict[str, str]:
        """A copy of HTTP headers with credentials masked."""
        return {k: (MASK if k.lower() in _SENSITIVE_HEADERS else self.text(str(v))) for k, v in dict(headers).items()}

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with secrets masked in every string and sensitive key."""
        if isinstance(value, dict):
            return {
                k: (MASK if isinstance(k, str) and k.lower() in _SENSITIVE_HEADERS else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value
