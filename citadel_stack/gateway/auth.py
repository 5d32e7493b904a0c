"""Bearer API keys: parsing the header, hashing, and looking the hash up (with an optional short cache)."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Awaitable, Callable

from citadel_stack.faults import ACCEPT_UNKNOWN_KEY, AUTH_OPTIONAL

from .database import ApiKey
from .errors import GatewayError, invalid_api_key

# RFC 6750 b64token; the scheme name is case-insensitive.
BEARER_HEADER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$")
MAX_KEY_LENGTH = 1024
# Cache positive lookups at most this long, so a revoked key stops working within it.
MAX_CACHE_TTL_S = 5.0

UNKNOWN_KEY_UNDER_FAULT = ApiKey(id=None, name=f"unknown key (fault {ACCEPT_UNKNOWN_KEY.name})", role="user")
ANONYMOUS_UNDER_FAULT = ApiKey(id=None, name=f"anonymous (fault {AUTH_OPTIONAL.name})", role="user")


def key_sha256(key: str) -> str:
    """The sha256 hex digest under which a key is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_bearer(header: str | None) -> str:
    """The key in an ``Authorization: Bearer <key>`` header; 401 GatewayError if missing or malformed."""
    if header is None or not header.strip():
        raise invalid_api_key("no API key provided")
    match = BEARER_HEADER.match(header)
    if not match or len(match.group(1)) > MAX_KEY_LENGTH:
        raise invalid_api_key("the Authorization header is not 'Bearer <API key>'")
    return match.group(1)


class Authenticator:
    """Checks Bearer keys against the stored hashes.

    ``lookup`` returns the active (non-revoked) key for a hash or None. Positive answers may be
    cached for ``cache_ttl_s`` (0 disables the cache, at most ``MAX_CACHE_TTL_S``).
    ``accept_unknown`` is the ``accept_unknown_key`` fault.
    """

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[ApiKey | None]],
        accept_unknown: bool = False,
        cache_ttl_s: float = 0.0,
        optional: bool = False,
        echo: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 <= cache_ttl_s <= MAX_CACHE_TTL_S:
            raise ValueError(f"cache_ttl_s must be within 0-{MAX_CACHE_TTL_S} s, got {cache_ttl_s}")
        self._lookup = lookup
        self._accept_unknown = accept_unknown
        self._optional = optional  # fault auth_optional
        self._echo = echo  # fault echo_credential
        self._ttl = cache_ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, ApiKey]] = {}

    async def authenticate(self, authorization: str | None) -> ApiKey:
        """The key behind an Authorization header value; raises a 401 GatewayError otherwise."""
        try:
            digest = key_sha256(parse_bearer(authorization))
        except GatewayError as error:
            if self._optional:
                return ANONYMOUS_UNDER_FAULT
            raise invalid_api_key("no API key or not 'Bearer <API key>'", echo=authorization) if self._echo else error
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._lookup(digest)
        if found is None:
            self._cache.pop(digest, None)
            if self._accept_unknown:
                return UNKNOWN_KEY_UNDER_FAULT
            raise invalid_api_key("the API key is unknown or revoked", echo=authorization if self._echo else None)
        if self._ttl > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self._ttl, found)
        return found
