"""One schedule over several workers: who sends what, how many workers, clocks, merging, progress per worker."""
from __future__ import annotations

import pickle

import pytest

from citadel_acceptance.config.load import LoadSettings, Placement
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.load import (Bounds, ClosedLoop, EngineOptions, OpenLoop, ProgressSnapshot, RequestRecord,
                                     chat_request_factory, embeddings_request_factory, nearest_rank, open_loop_offsets)
from citadel_acceptance.load.progress import combined
from citadel_acceptance.load.schedule import Share
from citadel_acceptance.load.workers import (ClockOffset, WorkerPart, WorkerResult, WorkerStats, merged, parts_of,
                                             stats_of, worker_count)

BOUNDS = Bounds(duration_s=10, max_requests=1000, warmup_s=1)


def test_open_loop_workers_send_every_arrival_once_each_at_its_own_instant():
    offsets = open_loop_offsets(OpenLoop(rate=30, arrivals="poisson", seed=3), BOUNDS)
    shares = [Share(rank, 3) for rank in range(3)]
    taken = [[i for i in range(len(offsets)) if share.takes(i)] for share in shares]
    assert sorted(i for part in taken for i in part) == list(range(len(offsets)))
    assert all(abs(len(part) - len(offsets) / 3) <= 1 for part in taken), "each worker a third of the arrivals"


def test_closed_loop_users_are_shared_out_whole():
    assert [Share(rank, 3).users(10) for rank in range(3)] == [4, 3, 3]
    assert [Share(rank, 2).users(1) for rank in range(2)] == [1, 0]
    with pytest.raises(ValueError, match="worker 2 of 2 does not exist"):
        Share(2, 2)


def test_a_run_gets_the_workers_its_load_needs_and_no_more_than_it_can_share():
    assert worker_count(Placement(workers=0), OpenLoop(rate=1000), BOUNDS, available=4) == 4, "every core"
    assert worker_count(Placement(workers=0), OpenLoop(rate=100), BOUNDS, available=4) == 2, "one per 50 req/s"
    assert worker_count(Placement(workers=0), OpenLoop(rate=5), BOUNDS, available=4) == 1, "a small load stays here"
    assert worker_count(Placement(workers=0), ClosedLoop(256), BOUNDS, available=16) == 8, "one per 32 users"
    assert worker_count(Placement(workers=3), OpenLoop(rate=1), BOUNDS, available=4) == 3, "a count is a count"
    assert worker_count(Placement(workers=4), ClosedLoop(2), BOUNDS, available=8) == 2
    assert worker_count(Placement(workers=8), OpenLoop(rate=1), Bounds(duration_s=2, max_requests=1), 8) == 1


def test_the_profile_places_the_load_and_refuses_what_cannot_be():
    assert LoadSettings().placement == Placement("local", 0, "")
    for bad, says in [(Placement(engine="locust"), "load.engine must be one of local, ray"),
                      (Placement(workers=-1), "load.workers is a count"),
                      (Placement(engine="local", address="ray://head:10001"), "needs load.engine = \"ray\"")]:
        with pytest.raises(SuiteConfigError, match=says):
            bad.validate()
    with pytest.raises(SuiteConfigError, match="load.engine"):
        LoadSettings(engine="k8s").validate()


def test_factories_travel_to_worker_processes_and_make_the_same_requests():
    for factory in (chat_request_factory("phi3", ["a", "b"], max_tokens=8, api_key="k", extra={"temperature": 0}),
                    embeddings_request_factory("e5", "text")):
        copy = pickle.loads(pickle.dumps(factory))
        assert [copy(i) for i in range(3)] == [factory(i) for i in range(3)]
    spec = chat_request_factory("phi3", ["a", "b"], api_key="k")(1)
    assert spec.json["messages"][0]["content"] == "b" and spec.headers == {"Authorization": "Bearer k"}


def test_a_factory_that_cannot_travel_is_named_with_what_to_do():
    with pytest.raises(SuiteConfigError, match="cannot be sent to worker processes.*load.workers = 1"):
        parts_of(lambda i: None, OpenLoop(rate=10), BOUNDS, EngineOptions(), 2, [None])


def test_parts_leave_the_progress_sink_behind_and_cover_every_worker():
    parts = parts_of(chat_request_factory("m", "p"), OpenLoop(rate=10), BOUNDS,
                     EngineOptions(progress=lambda snapshot: None), 3, [0, 1])
    assert [p.share for p in parts] == [Share(0, 3), Share(1, 3), Share(2, 3)] and [p.cpu for p in parts] == [0, 1, 0]
    pickle.dumps(parts)


def test_a_clock_offset_is_found_within_its_bound():
    true_offset, now = 1234.5, [0.0]

    def remote() -> float:  # another host's clock, read half-way through a slow round trip
        import time
        time.sleep(0.002)
        now[0] = time.perf_counter() + true_offset
        time.sleep(0.001)
        return now[0]

    clock = ClockOffset.measure(remote, rounds=3)
    assert 0.001 <= clock.bound_s < 0.05
    assert abs(clock.offset_s - true_offset) <= clock.bound_s


def _record(index: int, scheduled: float, lag: float, ok: bool = True) -> RequestRecord:
    return RequestRecord(index=index, request_id=f"r{index}", scheduled=scheduled, issued=scheduled,
                         sent=scheduled + lag, first_byte=scheduled + 0.05, end=scheduled + 0.1,
                         status=200 if ok else 500, error="" if ok else "HTTP 500: no")


def test_merged_workers_make_one_run_in_index_order_with_each_workers_stats():
    schedule, part = OpenLoop(rate=10), WorkerPart(chat_request_factory("m", "p"), OpenLoop(rate=10), BOUNDS,
                                                   EngineOptions(), Share(1, 2))
    odd = [_record(i, i / 10, 0.004) for i in (1, 3, 5)]
    even = [_record(i, i / 10, 0.001, ok=i != 4) for i in (0, 2, 4)]
    results = [WorkerResult(odd, stats_of(part, odd), 0.6, "2026-12-06T10:00:01+00:00"),
               WorkerResult(even, WorkerStats(0, "h", 1, 0, 3, 3, 1, 1.0), 0.6, "2026-12-06T10:00:00+00:00")]
    run = merged(results, schedule, BOUNDS, start_at=100.0, elapsed_s=0.7)
    assert [r.index for r in run.records] == [0, 1, 2, 3, 4, 5] and run.clock_origin == 100.0
    assert [w.rank for w in run.workers] == [0, 1] and run.started_at == "2026-12-06T10:00:00+00:00"
    assert run.workers[1].sent == 3 and run.workers[1].errors == 0 and run.workers[1].lag_p99_ms == 4.0
    assert "by 2 workers" in run.describe() and "schedule lag p99 4.00 ms" in run.describe()
    assert run.summary().errors == 1


def _snapshot(worker: int, sent: int, lag_s: float, p95_s: float) -> ProgressSnapshot:
    return ProgressSnapshot(elapsed_s=2.0 + worker, sent=sent, completed=sent - 1, errors=worker, rate_rps=10.0,
                            p95_e2e=nearest_rank([p95_s], 95), lag_p99=nearest_rank([lag_s], 99), worker=worker)


def test_progress_of_several_workers_adds_their_counts_and_shows_the_worst_and_each():
    whole = combined({1: _snapshot(1, 50, 0.020, 0.3), 0: _snapshot(0, 40, 0.001, 0.5)})
    assert (whole.sent, whole.completed, whole.errors, whole.rate_rps, whole.elapsed_s) == (90, 88, 1, 20.0, 3.0)
    assert whole.lag_p99.value == 0.020 and whole.p95_e2e.value == 0.5
    lines = whole.line().splitlines()
    assert lines[0].startswith("load ") and "lag (worst worker) p99 = 20.00 ms" in lines[0]
    assert lines[1].startswith("  worker 0") and lines[2].startswith("  worker 1") and "p99 = 20.00 ms" in lines[2]


class _Queue:
    def __init__(self, *messages):
        self.messages = list(messages)

    def get(self, timeout: float):
        if not self.messages:
            raise TimeoutError
        return self.messages.pop(0)


class _Gone:
    exitcode = -9

    def is_alive(self) -> bool:
        return False


def test_a_worker_that_fails_or_dies_is_named_in_one_sentence_with_what_to_do():
    from citadel_acceptance.load import workers

    parts = parts_of(chat_request_factory("m", "p"), OpenLoop(rate=10), BOUNDS, EngineOptions(), 2, [None])
    failed = _Queue(("failed", 1, "Traceback (most recent call last):\n  ...\nValueError: boom\n"))
    with pytest.raises(SuiteConfigError, match=r"load worker 1 failed \(ValueError: boom\); set load.workers = 1"):
        workers._collect(failed, parts, EngineOptions(), 0.0, [_Gone(), _Gone()])
    with pytest.raises(SuiteConfigError, match=r"load workers \[0, 1\] ended without handing back their records"):
        workers._collect(_Queue(), parts, EngineOptions(), 0.0, [_Gone(), _Gone()])
    with pytest.raises(SuiteConfigError, match="exited before they were ready .*exit codes \\[-9, -9\\]"):
        workers._await(_Queue(), "ready", 2, 5.0, [_Gone(), _Gone()])


def test_a_ray_cluster_that_does_not_answer_is_named_at_once_not_waited_for():
    from citadel_acceptance.errors import EnvironmentNotReady
    from citadel_acceptance.load.ray_engine import _reachable

    with pytest.raises(EnvironmentNotReady, match=r"the Ray cluster at '127.0.0.1:1' does not answer .*"
                                                  r"or set load.engine = \"local\""):
        _reachable("127.0.0.1:1")
    _reachable("auto")  # found by Ray itself, as `ray start` left it
