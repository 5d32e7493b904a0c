"""Shared fixtures: a scratch PostgreSQL server for tests that need a real database."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from citadel_stack import postgres
from citadel_stack.ports import free_port


# make test's first phase runs tests side by side (pytest-xdist, `--dist loadgroup`). Tests marked `long` (they
# wait a minute or more) form one lane and those marked `heavy` (a whole acceptance run, a model server under load)
# another: each lane runs one test after another on one worker, started first, and every worker takes single tests
# once its lane is done. Left to xdist's `load` distribution, the first worker got every long test and the others,
# done with the short ones, idled for minutes (2026-12-06: one worker idle from 74 s to the phase's end at 528 s);
# sent one by one, the heavy ones ran at once and each took two to four times as long.
LANES = {"long": "long-lane", "heavy": "heavy-lane"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which names each item's group from these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of a lane first (in their order), then the others; each lane's tests grouped for pytest-xdist."""
    for item in items:
        lane = next((group for marker, group in LANES.items() if item.get_closest_marker(marker)), None)
        if lane is not None:
            item.add_marker(pytest.mark.xdist_group(lane))
    items.sort(key=lambda item: 0 if item.get_closest_marker("xdist_group") else 1)


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
