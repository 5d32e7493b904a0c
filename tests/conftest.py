"""Shared fixtures: a scratch PostgreSQL server for tests that need a real database."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from citadel_stack import postgres
from citadel_stack.ports import free_port


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_stacks() -> Iterator[None]:
    """The self-test's shared stack (tests.harness.shared_stack) ends with the session."""
    yield
    from tests.harness import stop_shared_stacks

    stop_shared_stacks()


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory) -> Iterator[str]:
    """A superuser DSN: CITADEL_TEST_PG_DSN when set, else a scratch server started for the session."""
    given = os.environ.get("CITADEL_TEST_PG_DSN")
    if given:
        yield given
        return
    log = tmp_path_factory.mktemp("pg") / "postgres.log"
    instance = postgres.start(free_port(), log)
    try:
        yield instance.superuser_conninfo()
    finally:
        postgres.stop(Path(instance.data_dir), instance.bindir, log)
