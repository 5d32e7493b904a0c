"""The load's workers as Ray actors (`[load] engine = "ray"`): the same worker as on one host (workers.py), on
every node of a Ray cluster, its records gathered back to the run.

Why Ray and not Locust: see docs/design.md ("Load from many hosts"). In short, an actor runs our own worker
(its event loop, its kernel timestamps, its records) unchanged, where Locust would replace the engine with its
own users and statistics.

`address` "" starts a Ray cluster on this host for the run (as many CPUs as the workers need) and stops it
afterwards; any other address joins that cluster (`ray.init(address=...)`: "auto", "HOST:6379", or
"ray://HOST:10001" for Ray Client) and uploads this package to it (`runtime_env` `py_modules`); the nodes need
the suite's Python packages (httpx). Each actor's clock is measured against the run's before it starts
(workers.ClockOffset); an actor on the run's own host shares its clock, exactly.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from typing import Any

import ray
import ray.exceptions

import citadel_acceptance
from citadel_acceptance.config.load import Placement
from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.load.engine import EngineOptions, LoadRun, RequestFactory
from citadel_acceptance.load.progress import ProgressSnapshot, combined
from citadel_acceptance.load.schedule import Bounds, ClosedLoop, OpenLoop
from citadel_acceptance.load.workers import (START_MARGIN_S, ClockOffset, WorkerResult, kernel_id, merged, parts_of,
                                             run_part, worker_count)


CONNECT_TIMEOUT_S = 10.0


@ray.remote(num_cpus=1, max_concurrency=2)  # run() and progress() at the same time
class LoadWorker:
    """One worker of the load on a Ray node."""

    def __init__(self) -> None:
        self._latest: ProgressSnapshot | None = None

    def clock(self) -> float:
        """This node's perf_counter now (for the clock offset)."""
        return time.perf_counter()

    def kernel(self) -> str:
        """The node's kernel boot id (workers.kernel_id): the same as the run's means the same clock."""
        return kernel_id()

    def run(self, part: Any) -> WorkerResult:
        """Send this worker's part of the schedule and hand back its records."""
        return run_part(part, self._keep)

    def progress(self) -> ProgressSnapshot | None:
        """The latest progress of the run in hand."""
        return self._latest

    def _keep(self, snapshot: ProgressSnapshot) -> None:
        self._latest = snapshot


def run_ray_workers(factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds, options: EngineOptions,
                    placement: Placement) -> LoadRun:
    """The schedule sent by Ray actors; their records merged into one run."""
    started_here = not ray.is_initialized()
    scratch = tempfile.mkdtemp(prefix="citadel-ray-") if started_here and not placement.address else None
    if started_here:
        _connect(placement.address, placement.workers or len(os.sched_getaffinity(0)), scratch)
    actors: list[Any] = []
    try:
        return _run_on(actors, factory, schedule, bounds, options, placement)
    except ray.exceptions.RayError as exc:
        last = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        raise SuiteConfigError(f"the load's Ray workers failed ({type(exc).__name__}: {last}); see the cluster's "
                               f"logs (has it a free CPU for each worker?), or set load.engine = \"local\"") from exc
    finally:
        for actor in actors:
            ray.kill(actor)
        if started_here:
            ray.shutdown()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)  # the local cluster's sessions and logs


def _run_on(actors: list[Any], factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds,
            options: EngineOptions, placement: Placement) -> LoadRun:
    """Start the actors (kept in `actors`, for the caller to stop), align their clocks, run, merge."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    count = worker_count(placement, schedule, bounds, cpus)
    parts = parts_of(factory, schedule, bounds, options, count, [None])
    actors.extend(LoadWorker.options(scheduling_strategy="SPREAD").remote() for _ in parts)
    here = kernel_id()
    kernels = ray.get([actor.kernel.remote() for actor in actors], timeout=120)
    clocks = [ClockOffset.measure(lambda actor=actor: ray.get(actor.clock.remote())) for actor in actors]
    same = [kernel == here for kernel in kernels]  # one kernel, one CLOCK_MONOTONIC: no correction
    start_at = time.perf_counter() + START_MARGIN_S
    refs = []
    for part, actor, clock, one_clock in zip(parts, actors, clocks, same):
        part.start_at = start_at + (0.0 if one_clock else clock.offset_s)  # run second 0 in the worker's clock
        refs.append(actor.run.remote(part))
    results = _gather(refs, actors, options)
    for result, clock, one_clock in zip(results, clocks, same):
        result.stats.same_clock = one_clock
        result.stats.clock_offset_ms = round(clock.offset_s * 1000, 3)
        result.stats.clock_bound_ms = round(clock.bound_s * 1000, 3)
    return merged(results, schedule, bounds, start_at, time.perf_counter() - start_at)


def _connect(address: str, cpus: int, scratch: str | None) -> None:
    """Join the cluster at `address`, or start one here for this run (its files under `scratch`)."""
    if address:
        _reachable(address)
    try:
        if address:
            ray.init(address=address, runtime_env={"py_modules": [citadel_acceptance]}, logging_level="ERROR",
                     log_to_driver=False)
        else:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a cluster of our own reports to nobody
            root = os.path.dirname(os.path.dirname(os.path.abspath(citadel_acceptance.__file__)))
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": root}}, _temp_dir=scratch)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address!r}" if address else "a Ray cluster on this host"
        raise EnvironmentNotReady(f"the load could not start on {where} ({type(exc).__name__}: {str(exc)[:200]}): "
                                  f"check load.address and that the cluster runs, or set load.engine = \"local\"") \
            from exc


def _reachable(address: str) -> None:
    """A cluster's head must answer on its port before Ray is asked to join it (Ray itself retries for minutes)."""
    hostport = address.split("://", 1)[-1]
    if hostport in ("auto", "local") or ":" not in hostport:
        return
    host, _, port = hostport.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as exc:
        raise EnvironmentNotReady(f"the Ray cluster at {address!r} does not answer ({type(exc).__name__}: {exc}): "
                                  f"check load.address and that the cluster runs, or set load.engine = \"local\"") \
            from exc


def _gather(refs: list[Any], actors: list[Any], options: EngineOptions) -> list[WorkerResult]:
    """Every actor's result, showing their progress merged every interval meanwhile."""
    pending = list(refs)
    while pending:
        _, pending = ray.wait(pending, num_returns=len(pending), timeout=options.progress_interval_s)
        latest = {rank: snap for rank, snap in enumerate(ray.get([a.progress.remote() for a in actors])) if snap}
        if latest:
            options.progress(combined(latest))
    return ray.get(refs)
