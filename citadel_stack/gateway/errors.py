"""OpenAI-shaped error bodies and the exception the routes raise to produce them."""

from __future__ import annotations

from typing import Any, Mapping


def openai_error_body(
    message: str,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The body OpenAI answers errors with: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


class GatewayError(Exception):
    """An error the gateway answers with an OpenAI-shaped body and the given HTTP status."""

    def __init__(
        self,
        status_code: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = openai_error_body(message, type=type, param=param, code=code)
        self.headers = dict(headers or {})


def invalid_api_key(reason: str, echo: str | None = None) -> GatewayError:
    """401 for a missing, malformed, unknown or revoked key; ``reason`` must never contain the key.

    ``echo`` is the refused header, repeated only under the ``echo_credential`` fault.
    """
    repeated = f" (received {echo!r})" if echo else ""
    return GatewayError(
        401,
        f"Invalid authentication: {reason}{repeated}. Send 'Authorization: Bearer <API key>'.",
        type="invalid_request_error",
        code="invalid_api_key",
        headers={"WWW-Authenticate": "Bearer"},
    )


def bad_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    """400 for a request the gateway cannot accept."""
    return GatewayError(400, message, type="invalid_request_error", param=param, code=code)


def service_unavailable(message: str) -> GatewayError:
    """503 when the model service behind a model cannot be reached."""
    return GatewayError(503, message, type="service_unavailable", code="service_unavailable")


# The OpenAI error type for a plain HTTP status (used for 404/405 from routing and the like).
STATUS_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "timeout",
}


def error_type_for_status(status_code: int) -> str:
    """The OpenAI error type used for a bare HTTP status."""
    return STATUS_ERROR_TYPES.get(status_code, "server_error" if status_code >= 500 else "invalid_request_error")
