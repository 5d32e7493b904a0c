"""Credentials that must not open the gateway, by the words the feature files use for them."""
from __future__ import annotations

import secrets
from typing import Any

from citadel_acceptance.checks.api.verdicts import error_body_problems

_CREDENTIALS = {
    "no API key": lambda: False,
    "an API key the system never issued": lambda: f"Bearer ctk_{secrets.token_urlsafe(32)}",
    "a malformed authorization header": lambda: f"Token {secrets.token_hex(16)}",
}


def authorization_for(description: str) -> bool | str:
    """The Authorization header to send (False: none at all) for a described credential."""
    try:
        return _CREDENTIALS[description]()
    except KeyError:
        raise ValueError(f"unknown credential {description!r}; known: {', '.join(_CREDENTIALS)}") from None


def refusal_problems(status: int, headers: dict[str, str], body: Any) -> list[str]:
    """401 with a `WWW-Authenticate` challenge and an error body that says why, in OpenAI's `{"error": {...}}` or
    FastAPI's `{"detail": ...}` convention (`error_style` tells which). Returns the problems found, [] when none."""
    problems = []
    if status != 401:
        problems.append(f"expected 401, got {status}")
    if not any(k.lower() == "www-authenticate" for k in headers):
        problems.append("expected a WWW-Authenticate header naming the Bearer scheme, there was none")
    if status == 401:
        problems += error_body_problems(body)
    return problems


def echo_problems(credential: bool | str, headers: dict[str, str], body: Any) -> list[str]:
    """The refusal repeats no part of the credential that was sent."""
    if not isinstance(credential, str):
        raise ValueError("only a credential that was sent can be checked for being repeated")
    token = credential.split(" ", 1)[-1]
    seen = f"{headers} {body}"
    return [f"the answer repeats the credential that was sent"] if token and token in seen else []
