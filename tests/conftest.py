"""Shared fixtures: a scratch PostgreSQL server for tests that need a real database."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from citadel_stack import postgres
from citadel_stack.ports import free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first (in their order), then the others: with tests side by side, a long test
    dispatched last keeps one worker busy while the other has nothing left to do."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("long") else 1)


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
