"""The load engine: sends requests on a schedule with asyncio and httpx, and records each one.

One event loop, one `httpx.AsyncClient`, one task per request in flight (no thread per request).
Open loop sends each request at its absolute instant (`loop.call_at`), so a slow send never pushes
the following ones back; the gap is the schedule lag, kept per request. Arrival times come from the
kernel's receive timestamps where the OS gives them (see `transport`), so a busy loop does not
inflate TTFT or ITL.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import gc
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import httpx

from citadel_acceptance.load.clock import new_event_loop
from citadel_acceptance.load.metrics import LatencyTargets, LoadSummary, nearest_rank, summarize
from citadel_acceptance.load.progress import ProgressSink, ProgressSnapshot, stderr_progress
from citadel_acceptance.load.records import RequestRecord, RequestSpec
from citadel_acceptance.load.schedule import Bounds, ClosedLoop, OpenLoop, Share, open_loop_offsets
from citadel_acceptance.load.sse import SseReader, usage_output_tokens
from citadel_acceptance.load.transport import stamped_transport

if TYPE_CHECKING:
    from citadel_acceptance.config.load import Placement
    from citadel_acceptance.load.workers import WorkerStats

RequestFactory = Callable[[int], RequestSpec]
"""Called with the request's index (from 0); returns what to send."""

# A plain UUID: some servers (llama.cpp's, through starlette-context) refuse any other request id with 400.
REQUEST_ID_HEADER = "x-request-id"
_ERROR_BODY_CHARS = 200


@dataclass
class LoadRun:
    """A finished run: every request's record and what shaped the run."""

    records: list[RequestRecord]
    schedule: OpenLoop | ClosedLoop
    bounds: Bounds
    window_start: float
    started_at: str  # wall clock, ISO 8601, UTC
    elapsed_s: float
    clock_origin: float = 0.0  # time.perf_counter() at run second 0, to join other stamps of the machine
    workers: list[WorkerStats] = field(default_factory=list)  # each worker's (workers.py); empty: one, in-process

    @property
    def measured(self) -> list[RequestRecord]:
        """The records of the measurement window (warm-up left out)."""
        return [r for r in self.records if not r.warmup]

    def summary(self, targets: LatencyTargets | None = None) -> LoadSummary:
        """Every metric of the measurement window (goodput against `targets`)."""
        return summarize(self.records, window_start=self.window_start, targets=targets)

    def describe(self) -> str:
        """The run in words, for the evidence."""
        b = self.bounds
        warm = f"warm-up {b.warmup_s:g} s" if b.warmup_s else f"warm-up {b.warmup_requests} requests"
        sent = (f"{self.schedule.describe()}, at most {b.duration_s:g} s and {b.max_requests} requests, {warm}; "
                f"{len(self.records)} requests sent in {self.elapsed_s:.1f} s")
        return sent + (f" by {len(self.workers)} workers ({'; '.join(w.describe() for w in self.workers)})"
                       if self.workers else "")


@dataclass
class EngineOptions:
    """How the engine talks HTTP.

    `timeout_s` bounds each request as a whole (an expired request is an error: "timeout");
    `max_connections` is the most idle keep-alive connections kept (the schedule bounds concurrency);
    `require_done` makes a stream that ends without `data: [DONE]` an error; `kernel_timestamps`
    stamps arrivals with the socket's receive time (Linux) rather than when the loop reads them.
    """

    base_url: str = ""
    timeout_s: float = 60.0
    max_connections: int = 4096
    require_done: bool = True
    kernel_timestamps: bool = True
    verify: Any = True
    progress: ProgressSink = stderr_progress
    progress_interval_s: float = 2.0
    transport: httpx.AsyncBaseTransport | None = None  # for tests; replaces the stamping transport


class LoadEngine:
    """Drives one schedule of requests from a factory and records each request."""

    def __init__(self, factory: RequestFactory, options: EngineOptions | None = None) -> None:
        self.factory = factory
        self.options = options or EngineOptions()
        self._run_id = uuid.uuid4().hex[:8]
        self._records: list[RequestRecord] = []
        self._t0 = 0.0
        self._last_progress = (0.0, 0)
        self._share = Share()

    def _now(self) -> float:
        return time.perf_counter() - self._t0

    async def run(self, schedule: OpenLoop | ClosedLoop, bounds: Bounds, share: Share = Share(),
                  start_at: float | None = None) -> LoadRun:
        """Send the schedule within its bounds and return every request's record.

        `share` sends only one worker's part of the schedule (workers.py); `start_at` is the perf_counter instant
        of run second 0 when several workers share one (None: now).
        """
        opts = self.options
        limits = httpx.Limits(max_connections=opts.max_connections, max_keepalive_connections=opts.max_connections)
        transport = opts.transport or stamped_transport(limits, opts.kernel_timestamps, opts.verify)
        timeout = httpx.Timeout(opts.timeout_s)
        started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self._records = []
        async with httpx.AsyncClient(base_url=opts.base_url, transport=transport, timeout=timeout) as client:
            loop = asyncio.get_running_loop()
            self._share = share
            # What exists before the run is kept out of the collector's full passes during it: a full pass over a
            # large process held the loop 14 ms once, at 250 req/s (docs/limits.md)
            gc.collect()
            gc.freeze()
            self._t0 = time.perf_counter() if start_at is None else start_at
            loop_t0 = loop.time() - (time.perf_counter() - self._t0)
            ticker = asyncio.create_task(self._report_progress())
            try:
                if isinstance(schedule, OpenLoop):
                    await self._open_loop(client, loop, loop_t0, schedule, bounds)
                else:
                    await self._closed_loop(client, schedule, bounds)
            finally:
                ticker.cancel()
                gc.unfreeze()
            elapsed = self._now()
        self._emit_progress()
        records = sorted(self._records, key=lambda r: r.index)
        measured = [r for r in records if not r.warmup]
        window_start = bounds.warmup_s if bounds.warmup_s else (measured[0].scheduled if measured else 0.0)
        return LoadRun(records=records, schedule=schedule, bounds=bounds, window_start=window_start,
                       started_at=started_at, elapsed_s=elapsed, clock_origin=self._t0)

    async def _open_loop(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, loop_t0: float,
                         schedule: OpenLoop, bounds: Bounds) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        for index, offset in enumerate(open_loop_offsets(schedule, bounds)):
            if not self._share.takes(index):
                continue
            wake = loop_t0 + offset
            if wake > loop.time():
                waiter: asyncio.Future[None] = loop.create_future()
                handle = loop.call_at(wake, _wake_up, waiter)
                try:
                    await waiter
                finally:
                    handle.cancel()
            record = self._new_record(index, offset, bounds)
            task = asyncio.create_task(self._send(client, record))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight)

    async def _closed_loop(self, client: httpx.AsyncClient, schedule: ClosedLoop, bounds: Bounds) -> None:
        counter = itertools.count(self._share.rank, self._share.of)
        if self._now() < 0:  # a shared start in the future
            await asyncio.sleep(-self._now())

        async def user() -> None:
            while True:
                scheduled = self._now()
                if scheduled >= bounds.duration_s:
                    return
                index = next(counter)
                if index >= bounds.max_requests:
                    return
                await self._send(client, self._new_record(index, scheduled, bounds))

        await asyncio.gather(*(user() for _ in range(self._share.users(schedule.users))))

    def _new_record(self, index: int, scheduled: float, bounds: Bounds) -> RequestRecord:
        record = RequestRecord(index=index, request_id=str(uuid.uuid4()), scheduled=scheduled,
                               warmup=bounds.is_warmup(index, scheduled), worker=self._share.rank)
        self._records.append(record)
        return record

    async def _send(self, client: httpx.AsyncClient, record: RequestRecord) -> None:
        try:
            spec = self.factory(record.index)
            headers = dict(spec.headers)
            record.request_id = headers.setdefault(REQUEST_ID_HEADER, record.request_id)
            record.streamed = spec.streamed
            request = client.build_request(spec.method, spec.url, headers=headers, json=spec.json)
        except Exception as exc:  # a broken factory is the suite's error, shown per request
            record.error = f"request factory failed: {type(exc).__name__}: {exc}"
            record.end = self._now()
            return
        record.issued = self._now()
        try:
            async with asyncio.timeout(self.options.timeout_s):
                await self._exchange(client, request, record)
        except TimeoutError:
            record.error = f"timeout: no complete answer within {self.options.timeout_s:g} s"
        except httpx.TimeoutException as exc:
            record.error = f"timeout: {type(exc).__name__}: {exc}"
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            record.error = f"broken stream: {type(exc).__name__}: {exc}"
        except httpx.HTTPError as exc:
            record.error = f"transport error: {type(exc).__name__}: {exc}"
        if record.error and record.end is None:
            record.end = self._now()

    async def _exchange(self, client: httpx.AsyncClient, request: httpx.Request, record: RequestRecord) -> None:
        response = await client.send(request, stream=True)
        try:
            stream = response.extensions.get("network_stream")
            stamped = hasattr(stream, "last_arrival")
            t0 = self._t0
            if stamped:
                record.timestamps = stream.timestamps
                record.sent = stream.write_started - t0 if stream.write_started is not None else record.issued
                record.first_byte = stream.first_arrival - t0 if stream.first_arrival is not None else self._now()
            else:
                record.sent = record.issued
                record.first_byte = self._now()
            record.status = response.status_code
            chunks = response.aiter_bytes() if response.headers.get("content-encoding") else response.aiter_raw()
            if not 200 <= response.status_code < 300:
                body = b"".join([part async for part in chunks])
                record.error = f"HTTP {response.status_code}: {body[:_ERROR_BODY_CHARS].decode(errors='replace')}"
            elif record.streamed:
                reader = SseReader()
                async for part in chunks:
                    reader.feed(part, (stream.last_arrival if stamped else time.perf_counter()) - t0,
                                stream.reads if stamped else None)
                end = (stream.last_arrival if stamped else time.perf_counter()) - t0
                reader.close(end)
                state = reader.state
                record.chunk_times = state.content_times
                record.first_content = state.content_times[0] if state.content_times else None
                record.first_content_uncertain = state.first_content_uncertain
                record.output_tokens = state.output_tokens
                record.done_marker = state.done_marker
                if state.error:
                    record.error = state.error
                elif state.undecodable:
                    record.error = f"broken stream: {state.undecodable} events were not JSON"
                elif self.options.require_done and not state.done_marker:
                    record.error = "broken stream: the stream ended without data: [DONE]"
            else:
                body = b"".join([part async for part in chunks])
                record.output_tokens = _json_output_tokens(body)
            record.end = (stream.last_arrival if stamped else time.perf_counter()) - t0
        finally:
            await response.aclose()

    async def _report_progress(self) -> None:
        interval = self.options.progress_interval_s
        while True:
            await asyncio.sleep(interval)
            self._emit_progress()

    def _emit_progress(self) -> None:
        now = self._now()
        done = [r for r in self._records if r.end is not None]
        errors = sum(1 for r in done if not r.ok)
        last_time, last_done = self._last_progress
        rate = (len(done) - last_done) / (now - last_time) if now > last_time else 0.0
        self._last_progress = (now, len(done))
        p95 = nearest_rank([r.e2e for r in done if r.ok and r.e2e is not None], 95)
        lag = nearest_rank([r.schedule_lag for r in self._records if r.schedule_lag is not None], 99)
        self.options.progress(ProgressSnapshot(elapsed_s=now, sent=sum(1 for r in self._records if r.issued is not None),
                                               completed=len(done), errors=errors, rate_rps=rate, p95_e2e=p95,
                                               lag_p99=lag, worker=self._share.rank if self._share.of > 1 else None))


def _wake_up(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _json_output_tokens(body: bytes) -> int | None:
    try:
        return usage_output_tokens(json.loads(body))
    except ValueError:
        return None


async def run_load_async(factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds,
                         options: EngineOptions | None = None) -> LoadRun:
    """Run a schedule on the running event loop."""
    return await LoadEngine(factory, options).run(schedule, bounds)


def run_load(factory: RequestFactory, schedule: OpenLoop | ClosedLoop, bounds: Bounds,
             options: EngineOptions | None = None, placement: Placement | None = None) -> LoadRun:
    """Run a schedule on a fresh precise event loop (`clock.new_event_loop`) and return its records.

    `placement` (workers.Placement) spreads the schedule over worker processes or Ray actors; None or one local
    worker runs it here.
    """
    if placement is not None and (placement.engine != "local" or placement.workers != 1):
        from citadel_acceptance.load.workers import run_placed

        return run_placed(factory, schedule, bounds, options or EngineOptions(), placement)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(run_load_async(factory, schedule, bounds, options))
