"""Shared fixtures: a scratch PostgreSQL server for tests that need a real database."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from citadel_stack import postgres
from citadel_stack.ports import free_port


DURATIONS = Path(__file__).with_name("durations.json")  # tools/durations.py writes it from a run's JUnit XML
UNKNOWN_SLOW_S, LONG_S, FAST_S = 15.0, 60.0, 0.05  # for tests the file does not name


def expected_seconds(item: pytest.Item, known: dict[str, float]) -> float:
    """How long a test took in the run that wrote durations.json, or a guess from its marks."""
    if item.nodeid in known:
        return known[item.nodeid]
    if item.get_closest_marker("long"):
        return LONG_S
    return UNKNOWN_SLOW_S if item.get_closest_marker("slow") else FAST_S


def balanced_order(items: list[pytest.Item], workers: int, cost: dict[str, float]) -> list[pytest.Item]:
    """The items as `workers` consecutive shares of the sizes `--dist worksteal` hands out first, the longest tests
    spread over the shares so that their totals are near equal (greedy: each test, longest first, to the share with
    the least so far that has room), each share longest first. A worker that runs dry later steals the tail of
    another's share: its shortest tests."""
    sizes, left = [], len(items)
    for i in range(workers):  # worksteal: len(pending) // nodes_remaining to each node in turn
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    shares: list[list[pytest.Item]] = [[] for _ in range(workers)]
    totals = [0.0] * workers
    for item in sorted(items, key=lambda it: -cost[it.nodeid]):  # stable: equal costs keep collection order
        share = min((i for i in range(workers) if len(shares[i]) < sizes[i]), key=lambda i: totals[i])
        shares[share].append(item)
        totals[share] += cost[item.nodeid]
    return [item for share in shares for item in share]


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` have deselected: the shares must be of what runs
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Side by side (pytest-xdist, `--dist worksteal`): the order of `balanced_order`, from durations.json.
    One at a time: tests marked `long` first, then the others, each in collection order."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if workers < 2:
        items.sort(key=lambda item: 0 if item.get_closest_marker("long") else 1)
        return
    known = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    cost = {item.nodeid: expected_seconds(item, known) for item in items}
    items[:] = balanced_order(items, workers, cost)


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
