"""What psycopg raises inside a database probe, said in one sentence: never a traceback of the driver's internals.

- a missing table or column is a failure (`SchemaLacks`): the database answered, and its schema lacks what the
  plan says it holds;
- a statement cancelled by the server (its `statement_timeout`) is a failure (`StatementTimedOut`);
- a server that cannot be reached, or drops the connection, is "environment not ready", naming the DSN's host,
  port and database, never its password;
- a refused privilege, or any other refusal of the suite's statement, is a suite configuration error.

`database_errors` is the context manager that converts; `stated` puts it around a probe whose first argument is
the DSN.
"""
from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.report.evidence import ENVIRONMENT_NOT_READY

Probe = TypeVar("Probe", bound=Callable[..., Any])
MISSING = re.compile(r'(relation|column) "([^"]+)" does not exist')


class SchemaLacks(AssertionError):
    """The database answered, and lacks a table or column a check reads: a failure, in one sentence."""


class StatementTimedOut(AssertionError):
    """The server cancelled a statement of the suite (its statement_timeout): a failure, in one sentence."""


def where_of(dsn: str) -> str:
    """Where a DSN points, for a message: `at HOST:PORT/DATABASE`, never its user's password."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "of the profile's DSN"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"at {host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or '?'}"


def said(exc: BaseException, dsn: str = "") -> str:
    """`Type: first line of the message`, shortened, the DSN's password (if any) masked."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0].strip()}" if lines else type(exc).__name__
    try:
        password = conninfo_to_dict(dsn).get("password") if dsn else None
    except psycopg.Error:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text if len(text) <= 200 else text[:197] + "..."


def as_sentence(exc: psycopg.Error, dsn: str, doing: str) -> Exception:
    """The one-sentence error for what psycopg raised while `doing` ("to read the schema")."""
    where = where_of(dsn)
    if isinstance(exc, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn)):
        found = MISSING.search(str(exc))
        kind = "table" if isinstance(exc, psycopg.errors.UndefinedTable) else "column"
        what = f'{kind} "{found.group(2)}"' if found else f"a {kind}"
        return SchemaLacks(f"expected {what} in the database {where} ({doing}), its schema lacks it "
                           f"({said(exc, dsn)})")
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StatementTimedOut(f"the database {where} cancelled the suite's statement {doing}: it ran past the "
                                 f"server's statement_timeout ({said(exc, dsn)})")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return SuiteConfigError(f"the database {where} refused the DSN's role {doing} ({said(exc, dsn)}): give the "
                                "role of that [secrets] DSN the privilege, or name one that has it")
    if isinstance(exc, psycopg.OperationalError):
        return EnvironmentNotReady(f"{ENVIRONMENT_NOT_READY}: the database {where} cannot be reached {doing} "
                                   f"({said(exc, dsn)})")
    return SuiteConfigError(f"the database {where} refused the suite's statement {doing} ({said(exc, dsn)})")


@contextmanager
def database_errors(dsn: str, doing: str) -> Iterator[None]:
    """Inside: psycopg's errors leave as one sentence (see `as_sentence`), the driver's traceback cut off."""
    try:
        yield
    except psycopg.Error as exc:
        raise as_sentence(exc, dsn, doing) from None


def stated(doing: str) -> Callable[[Probe], Probe]:
    """A probe (first argument: the DSN) whose psycopg errors are said in one sentence, `doing` naming its work."""
    def wrap(probe: Probe) -> Probe:
        @functools.wraps(probe)
        def call(*args: Any, **kwargs: Any) -> Any:
            dsn = str(args[0] if args else kwargs.get("dsn", ""))
            with database_errors(dsn, doing):
                return probe(*args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap
