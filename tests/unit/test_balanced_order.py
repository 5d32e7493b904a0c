"""make test's side-by-side order: worksteal's first shares, each with its part of the longest tests."""
from __future__ import annotations

from types import SimpleNamespace

from tests.conftest import balanced_order


def test_the_longest_tests_are_spread_over_shares_of_worksteals_sizes():
    costs = {"untimed": 361, "five runs": 271, "payload": 74, "leak": 68, "counter": 62, "down": 62,
             **{f"slow{i}": 15 for i in range(30)}, **{f"fast{i}": 0.05 for i in range(397)}}
    items = [SimpleNamespace(nodeid=name) for name in costs]  # 433 tests, as make test's first phase
    order = balanced_order(items, 3, costs)
    shares = [order[:144], order[144:288], order[288:]]  # worksteal: 433 // 3, 289 // 2, the rest
    assert sorted(i.nodeid for i in order) == sorted(costs) and [len(s) for s in shares] == [144, 144, 145]
    totals = [sum(costs[i.nodeid] for i in share) for share in shares]
    assert max(totals) - min(totals) <= 16, totals  # within one ordinary slow test of each other
    where = {i.nodeid: n for n, share in enumerate(shares) for i in share}
    assert where["untimed"] != where["five runs"], "the two longest tests on one worker, one after the other"
    assert all(costs[a.nodeid] >= costs[b.nodeid] for share in shares for a, b in zip(share, share[1:])), \
        "each share runs longest first (a worker that runs dry steals another's tail: its shortest tests)"
