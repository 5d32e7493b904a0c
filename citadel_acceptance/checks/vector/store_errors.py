"""What the vector store's client raises, said in one sentence: never a traceback of qdrant-client's internals.

A store that does not answer, or answers what qdrant-client cannot read (an HTML page, a JSON list: not a
Qdrant), or answers an unexpected status, is "environment not ready"; a store that refuses the suite's key
(401/403) is a suite configuration error. `guarded` wraps a client so that every call converts, the one place
the vector probes need; `unguarded` gives back the raw client where a caller reads the status itself.
"""
from __future__ import annotations

import functools
import json
from contextlib import contextmanager
from typing import Any, Iterator

import httpx

from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.report.evidence import ENVIRONMENT_NOT_READY


def answer_text(content: bytes, limit: int = 200) -> str:
    """A store's error answer in words: Qdrant's `status.error` (or `error`, `detail`) where the body is JSON,
    else its text, shortened and on one line; never raw bytes."""
    text = content.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        status = data.get("status")
        found = status.get("error") if isinstance(status, dict) else None
        text = str(found or data.get("error") or data.get("detail") or text)
    text = " ".join(text.split()) or "an empty answer"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short(exc: BaseException, limit: int = 160) -> str:
    """`Type: message` of an exception, on one line and shortened."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def as_sentence(exc: BaseException, url: str, doing: str) -> BaseException:
    """The one-sentence error for what qdrant-client (or httpx, talking to the store) raised while `doing`
    ("to query_points on 'documents'"); `exc` itself where it is none of the store's errors."""
    from qdrant_client.common.client_exceptions import QdrantException
    from qdrant_client.http.exceptions import ApiException, ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, UnexpectedResponse):
        said = f"HTTP {exc.status_code}: {answer_text(exc.content)}"
        if exc.status_code in (401, 403):
            return SuiteConfigError(f"the vector store at {url} refused the suite's key {doing} ({said}): give "
                                    "[secrets] qdrant_api_key a key that may do it")
        return EnvironmentNotReady(f"{ENVIRONMENT_NOT_READY}: expected Qdrant's answer from the vector store at {url} "
                                   f"{doing}, got {said}")
    if isinstance(exc, ResponseHandlingException):
        source = exc.source
        if isinstance(source, (httpx.HTTPError, OSError)):
            return EnvironmentNotReady(f"{ENVIRONMENT_NOT_READY}: the vector store at {url} did not answer {doing} "
                                       f"({_short(source)})")
        return EnvironmentNotReady(f"{ENVIRONMENT_NOT_READY}: expected Qdrant's answer from the vector store at {url} "
                                   f"{doing}, got one qdrant-client cannot read ({_short(source)}): is [vector] url a "
                                   "Qdrant?")
    if isinstance(exc, (httpx.HTTPError, ApiException, QdrantException)):
        return EnvironmentNotReady(f"{ENVIRONMENT_NOT_READY}: the vector store at {url} did not answer {doing} "
                                   f"({_short(exc)})")
    return exc


@contextmanager
def store_errors(url: str, doing: str) -> Iterator[None]:
    """Inside: the store's transport errors and unexpected answers leave as one sentence (see `as_sentence`),
    their client's traceback cut off; any other exception passes unchanged."""
    try:
        yield
    except Exception as exc:
        converted = as_sentence(exc, url, doing)
        if converted is exc:
            raise
        raise converted from None


class GuardedClient:
    """A QdrantClient whose every call says a failure of the store in one sentence (everything else is the client's)."""

    def __init__(self, client: Any, url: str) -> None:
        self.unguarded, self.url = client, url

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.unguarded, name)
        if not callable(found):
            return found

        @functools.wraps(found)
        def call(*args: Any, **kwargs: Any) -> Any:
            on = f" on {args[0]!r}" if args and isinstance(args[0], str) else ""
            with store_errors(self.url, f"to {name}{on}"):
                return found(*args, **kwargs)

        return call


def guarded(client: Any, url: str) -> Any:
    """`client` with every call converting the store's errors (a client already guarded stays as it is)."""
    return client if isinstance(client, GuardedClient) else GuardedClient(client, url)


def unguarded(client: Any) -> Any:
    """The raw client behind a guard (the client itself where it has none)."""
    return client.unguarded if isinstance(client, GuardedClient) else client
