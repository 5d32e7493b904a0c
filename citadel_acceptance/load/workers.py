"""One schedule sent by several workers: processes on this host's cores, or Ray actors on a cluster (ray_engine.py).

Each worker is a process with its own event loop, its own core (where the OS lets it pin) and its own kernel
timestamps; it sends its share of the schedule (`Share`: open loop, every N-th arrival; closed loop, its share of
the users) from one common run second 0 and hands back its records, which are merged into one `LoadRun`, so every
gate and metric sees one set of records.

Clocks: on one host every worker reads the same CLOCK_MONOTONIC (`time.perf_counter`), so the parent's run second 0
is every worker's, exactly. A worker on another host has its own clock: before the run the parent measures its
offset by round trips (`ClockOffset`, the fastest of a few: offset = remote − midpoint, error at most half that
round trip) and gives the worker run second 0 in its own clock; the bound is in each worker's evidence.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import socket
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

from citadel_acceptance.config.load import Placement
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.load.clock import new_event_loop
from citadel_acceptance.load.engine import EngineOptions, LoadEngine, LoadRun, RequestFactory
from citadel_acceptance.load.metrics import Percentile, nearest_rank
from citadel_acceptance.load.progress import ProgressSnapshot, combined, no_progress
from citadel_acceptance.load.records import RequestRecord
from citadel_acceptance.load.schedule import Bounds, ClosedLoop, OpenLoop, Share
from citadel_acceptance.load.transport import stamped_transport

START_MARGIN_S = 1.0  # run second 0 this long after the workers are ready, so that each is waiting for it
# With `workers = 0`, a worker per this many requests per second (or users): one core held 300 req/s of 32-chunk
# streams with schedule lag p99 under 5 ms here (docs/measurements.md); machines of a kind differ several times and
# answers may be longer. A smaller load stays in the suite's process: a worker's start costs about a second.
AUTO_RPS_PER_WORKER = 50.0
AUTO_USERS_PER_WORKER = 32
READY_TIMEOUT_S = 60.0


def worker_count(placement: Placement, schedule: OpenLoop | ClosedLoop, bounds: Bounds, available: int) -> int:
    """How many workers a run gets: the setting, or with 0 as many as the load needs (one per AUTO_RPS_PER_WORKER
    requests per second or AUTO_USERS_PER_WORKER users) up to `available` (the usable cores or the cluster's CPUs);
    never more than it has users or requests to share (a worker with nothing to send would only cost its start)."""
    if placement.workers:
        wanted = placement.workers
    elif isinstance(schedule, ClosedLoop):
        wanted = min(available, math.ceil(schedule.users / AUTO_USERS_PER_WORKER))
    else:
        wanted = min(available, math.ceil(schedule.rate / AUTO_RPS_PER_WORKER))
    most = schedule.users if isinstance(schedule, ClosedLoop) else bounds.max_requests
    return max(1, min(wanted, most))


@dataclass
class WorkerPart:
    """What one worker sends: its share of the schedule, from run second 0 at `start_at` (its own perf_counter)."""

    factory: RequestFactory
    schedule: OpenLoop | ClosedLoop
    bounds: Bounds
    options: EngineOptions
    share: Share
    start_at: float = 0.0
    cpu: int | None = None  # the core to pin the worker to (None: wherever the OS puts it)


@dataclass
class WorkerStats:
    """One worker of a run, for progress and evidence: where it ran, what it sent, how late it was."""

    rank: int
    host: str
    pid: int
    cpu: int | None
    sent: int
    completed: int
    errors: int
    lag_p99_ms: float | None
    same_clock: bool = True  # on the run's own host: its stamps need no correction
    clock_offset_ms: float = 0.0  # its clock − the run's, as measured by round trips (not measured: 0)
    clock_bound_ms: float = 0.0  # the most that measured offset may be off by (not measured: 0)

    def describe(self) -> str:
        """The worker in words."""
        where = f"{self.host} pid {self.pid}" + (f" cpu {self.cpu}" if self.cpu is not None else "")
        lag = "n/a" if self.lag_p99_ms is None else f"{self.lag_p99_ms:.2f} ms"
        measured = f"offset {self.clock_offset_ms:+.3f} ms ± {self.clock_bound_ms:.3f} ms"
        clock = (("same clock" + (f" (measured {measured})" if self.clock_bound_ms else "")) if self.same_clock
                 else f"clock {measured}")
        return (f"worker {self.rank} on {where}: sent {self.sent}, completed {self.completed}, errors {self.errors}, "
                f"schedule lag p99 {lag}, {clock}")


@dataclass
class WorkerResult:
    """What a worker hands back: its records (in run seconds) and its stats."""

    records: list[RequestRecord]
    stats: WorkerStats
    elapsed_s: float = 0.0
    started_at: str = ""


@dataclass(frozen=True)
class ClockOffset:
    """A remote clock against ours from round trips: remote = ours + offset_s, within ± bound_s."""

    offset_s: float
    bound_s: float

    @staticmethod
    def measure(remote_clock: Callable[[], float], rounds: int = 7) -> "ClockOffset":
        """The round trip with the shortest time bounds the error best (Cristian's algorithm)."""
        best: tuple[float, float] | None = None
        for _ in range(rounds):
            before = time.perf_counter()
            theirs = remote_clock()
            after = time.perf_counter()
            if best is None or after - before < best[1]:
                best = (theirs - (before + after) / 2, after - before)
        assert best is not None
        return ClockOffset(offset_s=best[0], bound_s=best[1] / 2)


def kernel_id() -> str:
    """This kernel's boot id (Linux): processes that share it read one CLOCK_MONOTONIC, containers included."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return f"host {socket.gethostname()}"


def run_part(part: WorkerPart, progress: Callable[[ProgressSnapshot], None] = no_progress) -> WorkerResult:
    """Send one worker's part on a fresh precise event loop (in the worker's process or thread)."""
    import asyncio

    if part.cpu is not None:
        try:
            os.sched_setaffinity(0, {part.cpu})
        except OSError:
            pass  # a core this process may not use: run where the OS puts it
    options = replace(part.options, progress=progress)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_warm_up(options))
        run = runner.run(LoadEngine(part.factory, options).run(part.schedule, part.bounds, part.share, part.start_at))
    return WorkerResult(records=run.records, stats=stats_of(part, run.records), elapsed_s=run.elapsed_s,
                        started_at=run.started_at)


async def _warm_up(options: EngineOptions) -> None:
    """One request to a throw-away server of this process, before run second 0: a fresh process's first request
    imports half of httpx's HTTP stack on the way (17 ms late at 100 req/s, and the next one behind it)."""
    import asyncio

    import httpx

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 14\r\n\r\n"
                     b"data: [DONE]\n\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport = stamped_transport(httpx.Limits(max_connections=1), options.kernel_timestamps, options.verify)
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as client:
            async with client.stream("POST", f"http://127.0.0.1:{port}/", json={"warm": True}) as response:
                async for _ in response.aiter_raw():
                    pass
    except (httpx.HTTPError, OSError):
        pass  # only the imports matter
    finally:
        server.close()
        await server.wait_closed()


def stats_of(part: WorkerPart, records: list[RequestRecord]) -> WorkerStats:
    """A worker's counts and schedule lag p99 from its records."""
    done = [r for r in records if r.end is not None]
    lag = nearest_rank([r.schedule_lag for r in records if r.schedule_lag is not None], 99).value
    return WorkerStats(rank=part.share.rank, host=socket.gethostname(), pid=os.getpid(), cpu=part.cpu,
                       sent=sum(1 for r in records if r.issued is not None), completed=len(done),
                       errors=sum(1 for r in done if not r.ok),
                       lag_p99_ms=None if lag is None else round(lag * 1000, 3))


def merged(results: Iterable[WorkerResult], schedule: OpenLoop | ClosedLoop, bounds: Bounds, start_at: float,
           elapsed_s: float) -> LoadRun:
    """One run of every worker's records (ordered by index), with each worker's stats."""
    results = sorted(results, key=lambda r: r.stats.rank)
    records = sorted((r for result in results for r in result.records), key=lambda r: r.index)
    measured = [r for r in records if not r.warmup]
    window_start = bounds.warmup_s if bounds.warmup_s else (min(r.scheduled for r in measured) if measured else 0.0)
    started_at = min((r.started_at for r in results if r.started_at), default="")
    return LoadRun(records=records, schedule=schedule, bounds=bounds, window_start=window_start, started_at=started_at,
                   elapsed_s=elapsed_s, clock_origin=start_at, workers=[r.stats for r in results])


def parts_of(factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds, options: EngineOptions,
             count: int, cpus: list[int | None]) -> list[WorkerPart]:
    """The schedule's parts for `count` workers (start_at set by whoever starts them)."""
    if options.transport is not None:
        raise SuiteConfigError("a load with its own HTTP transport runs in one process (load.workers = 1)")
    sendable = replace(options, progress=no_progress)
    try:
        pickle.dumps((factory, sendable))
    except Exception as exc:
        raise SuiteConfigError(f"the load's request factory or options cannot be sent to worker processes "
                               f"({type(exc).__name__}: {exc}); use a factory of citadel_acceptance.load.factories "
                               f"or run with load.workers = 1") from exc
    return [WorkerPart(factory, schedule, bounds, sendable, Share(rank, count), cpu=cpus[rank % len(cpus)])
            for rank in range(count)]


def run_local_workers(factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds,
                      options: EngineOptions, count: int) -> LoadRun:
    """`count` worker processes on this host, one per usable core, from one run second 0; their records merged."""
    cores = sorted(os.sched_getaffinity(0))
    parts = parts_of(factory, schedule, bounds, options, count, list(cores) if len(cores) > 1 else [None])
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
    queue = context.Queue()
    processes = []
    # each process learns run second 0 only once all are up (an interpreter's start takes a while), then waits for it
    go = [context.Event() for _ in parts]
    shared_start = context.Value("d", 0.0)
    for part, event in zip(parts, go):
        process = context.Process(target=_gated_main, args=(part, queue, event, shared_start), daemon=True)
        process.start()
        processes.append(process)
    results: list[WorkerResult] = []
    try:
        _await(queue, "ready", len(parts), READY_TIMEOUT_S, processes)
        start_at = time.perf_counter() + START_MARGIN_S
        shared_start.value = start_at
        for event in go:
            event.set()
        results = _collect(queue, parts, options, start_at, processes)
    finally:
        for process in processes:  # done: they end by themselves; one failed: the others are stopped at once
            process.join(timeout=5 if results else 0)
            if process.is_alive():
                process.kill()
    return merged(results, schedule, bounds, start_at, time.perf_counter() - start_at)


def run_placed(factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds, options: EngineOptions,
               placement: Placement) -> LoadRun:
    """The run where `placement` says: in this process, in local worker processes, or on Ray actors."""
    placement.validate()
    if placement.engine == "ray":
        from citadel_acceptance.load.ray_engine import run_ray_workers

        return run_ray_workers(factory, schedule, bounds, options, placement)
    count = worker_count(placement, schedule, bounds, len(os.sched_getaffinity(0)))
    if count == 1:
        from citadel_acceptance.load.engine import run_load

        return run_load(factory, schedule, bounds, options)
    return run_local_workers(factory, schedule, bounds, options, count)


def _gated_main(part: WorkerPart, queue: Any, go: Any, shared_start: Any) -> None:
    """A local worker process: say it is ready, wait for run second 0, run, put the result (or why not) on the queue."""
    queue.put(("ready", part.share.rank, None))
    if not go.wait(READY_TIMEOUT_S):
        queue.put(("failed", part.share.rank, "never told to start"))
        return
    part.start_at = shared_start.value
    rank = part.share.rank
    try:
        result = run_part(part, lambda snapshot: queue.put(("progress", rank, snapshot)))
        queue.put(("done", rank, result))
    except BaseException:  # noqa: BLE001 - whatever stopped the worker goes back to the run, in words
        queue.put(("failed", rank, traceback.format_exc()))


def _await(queue: Any, kind: str, count: int, timeout_s: float, processes: list[Any]) -> None:
    deadline, seen = time.monotonic() + timeout_s, 0
    while seen < count:
        try:
            message = queue.get(timeout=0.5)
        except Exception:
            dead = [p.exitcode for p in processes if not p.is_alive()]
            if dead:
                raise SuiteConfigError(f"{len(dead)} of {count} load worker processes exited before they were "
                                       f"ready (exit codes {dead}; their error is on stderr above). A script that "
                                       f"runs a load with several workers must start it under `if __name__ == "
                                       f"\"__main__\":`, as multiprocessing's spawn imports the script again; or "
                                       f"set load.workers = 1") from None
            if time.monotonic() > deadline:
                raise SuiteConfigError(f"{count - seen} of {count} load workers did not start within {timeout_s:g} s: "
                                       f"is this host short of memory or processes? Or set load.workers = 1") from None
            continue
        if message[0] == kind:
            seen += 1
        elif message[0] == "failed":
            raise SuiteConfigError(f"load worker {message[1]} failed before the run "
                                   f"({message[2].strip().splitlines()[-1]}); set load.workers = 1 to load from here")


def _collect(queue: Any, parts: list[WorkerPart], options: EngineOptions, start_at: float,
             processes: list[Any]) -> list[WorkerResult]:
    """Wait for every worker's result, showing their progress merged every interval."""
    results: dict[int, WorkerResult] = {}
    latest: dict[int, ProgressSnapshot] = {}
    last_shown = time.monotonic()
    limit = start_at + parts[0].bounds.duration_s + options.timeout_s + READY_TIMEOUT_S
    while len(results) < len(parts):
        try:
            kind, rank, payload = queue.get(timeout=1.0)
        except Exception:
            if time.perf_counter() > limit or all(not p.is_alive() for p in processes):
                missing = sorted(set(range(len(parts))) - set(results))
                raise SuiteConfigError(f"load workers {missing} ended without handing back their records (killed? "
                                       f"short of memory?); set load.workers = 1 to load from here") from None
            continue
        if kind == "progress":
            latest[rank] = payload
            if len(latest) == len(parts) and time.monotonic() - last_shown >= options.progress_interval_s * 0.9:
                options.progress(combined(latest))
                last_shown = time.monotonic()
        elif kind == "done":
            results[rank] = payload
            latest[rank] = _final_snapshot(payload)
        elif kind == "failed":
            raise SuiteConfigError(f"load worker {rank} failed ({payload.strip().splitlines()[-1]}); set "
                                   f"load.workers = 1 to load from here")
    if latest:
        options.progress(combined(latest))
    return [results[rank] for rank in sorted(results)]


def _final_snapshot(result: WorkerResult) -> ProgressSnapshot:
    done = [r for r in result.records if r.end is not None]
    p95 = nearest_rank([r.e2e for r in done if r.ok and r.e2e is not None], 95)
    lag = result.stats.lag_p99_ms
    return ProgressSnapshot(elapsed_s=result.elapsed_s, sent=result.stats.sent, completed=result.stats.completed,
                            errors=result.stats.errors, rate_rps=0.0, p95_e2e=p95,
                            lag_p99=Percentile(None if lag is None else lag / 1000, result.stats.sent, 99),
                            worker=result.stats.rank)
