"""The stability run: the load engine at the normal load, a sampler beside it, a checkpoint after every segment.

The load runs in segments of `checkpoint_every_s` (open loop, constant spacing, one unique prompt per
request so that no response cache answers); a sampler thread reads health, memory, connections, GPUs
and processes every `interval_s`. After each segment its rows are appended and the checkpoint replaced;
every `plot_every_s` the plots and report.json are rewritten (verdict "incomplete" until the end).

SIGINT (or any error) saves the checkpoint as "interrupted", writes an "incomplete" report and is
raised again; a crash of the suite leaves the last checkpoint and its "incomplete" report. Started
again with the same run id (`-D soak.run_id=ID`), the run resumes where its checkpoint ends.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from citadel_acceptance.load import Bounds, EngineOptions, OpenLoop, chat_request_factory, no_progress, run_load
from citadel_acceptance.checks.soak import plots
from citadel_acceptance.checks.soak.analysis import ENDED, MB, SoakResult, analyse
from citadel_acceptance.checks.soak.checkpoint import Checkpoint, CheckpointStore, RequestRow, SampleRow
from citadel_acceptance.checks.soak.probes import Identity, Reading, SoakProbes, probes_for
from citadel_acceptance.config.soak import SoakSettings
from citadel_acceptance.checks.soak.verdicts import gate_fingerprint, incomplete_verdict, report
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.verdict import Verdict

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

REPO_ROOT = Path(__file__).resolve().parents[3]
Progress = Callable[[str], None]
InterruptSink = Callable[[Verdict, dict[str, Any]], None]

# A remainder of the duration shorter than this is not run as a segment of its own: a run ends within it of its
# duration (a segment ends once its last scheduled request is answered, which can be before its full length).
SHORTEST_SEGMENT_S = 0.5


@contextlib.contextmanager
def sigint_noted() -> Iterator[threading.Event]:
    """An event set by every SIGINT while the block runs; SIGINT still raises KeyboardInterrupt at once.

    Python's KeyboardInterrupt can be lost: raised inside a weakref callback or a `__del__` (matplotlib's
    caches have some) it is printed as "Exception ignored" and the program goes on. The stability run checks
    the event after each segment and each interim report, so an interruption is never lost. Where SIGINT is
    ignored (a shell's background job) or the block runs outside the main thread, nothing is changed.
    """
    noted = threading.Event()
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield noted
        return

    def note(signum: int, frame: Any) -> None:
        noted.set()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def stderr_line(text: str) -> None:
    """The default progress sink: one line on stderr."""
    print(text, file=sys.stderr, flush=True)


def _same(a: Identity | None, b: Identity | None) -> bool:
    if a is None or b is None:
        return a is b
    return int(a["pid"]) == int(b["pid"]) and abs(a["create_time"] - b["create_time"]) < 0.01


class ProcessWatcher:
    """Compares each part's process with the one seen before; every ended or replaced process is an event."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint

    def observe(self, t: float, processes: dict[str, Identity | None]) -> list[str]:
        """New events for this reading (the first reading of a run sets the baseline)."""
        cp = self.checkpoint
        if not cp.baseline and not cp.current:
            cp.baseline = {p: i for p, i in processes.items() if i is not None}
            cp.current = dict(cp.baseline)
            return []
        events = []
        for part in sorted(set(cp.current) | set(processes)):
            before, now = cp.current.get(part), processes.get(part)
            if _same(before, now):
                continue
            if before is not None:
                events.append(f"{t:.0f} s: {part}: process {int(before['pid'])} {ENDED}")
            if now is not None:
                events.append(f"{t:.0f} s: {part}: running as process {int(now['pid'])}"
                              + (" (restarted)" if before is not None or part in cp.baseline else " (new)"))
            if now is None:
                cp.current.pop(part, None)
            else:
                cp.current[part] = now
        cp.events.extend(events)
        return events


class Sampler:
    """A thread that reads the probes every interval; rows are collected per segment."""

    def __init__(self, probes: SoakProbes, clock: Callable[[], float], interval_s: float, watcher: ProcessWatcher,
                 status: Callable[[list[SampleRow]], str], progress: Progress, progress_every_s: float) -> None:
        self.probes, self.clock, self.interval_s, self.watcher = probes, clock, interval_s, watcher
        self.status, self.progress, self.progress_every_s = status, progress, progress_every_s
        self.lock = threading.Lock()
        self._pending: list[SampleRow] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def start(self) -> None:
        """Take the first sample now, then one per interval."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (waits for a sample in progress)."""
        self._stop.set()
        self._thread.join(timeout=30)

    def drain(self, segment: int) -> list[SampleRow]:
        """The samples taken since the last drain, as rows of `segment`. Call with `lock` held."""
        rows = [dataclasses.replace(row, segment=segment) for row in self._pending]
        self._pending = []
        return rows

    def _run(self) -> None:
        next_at, last_progress = time.monotonic(), 0.0
        while not self._stop.is_set():
            read_failed = False
            try:
                reading = self.probes.read()
            except Exception as exc:  # a probe the suite got wrong must not end the sampling: the sample says why
                read_failed = True
                reading = Reading(healthy=False, health=f"the sampler's probes failed ({type(exc).__name__}: {exc})"[:200],
                                  health_ms=None, rss_bytes=None, db_connections=None, gpu_memory_used_bytes=None,
                                  gpu_temperature_c=None, processes={})
            t = self.clock()
            with self.lock:
                events = [] if read_failed else self.watcher.observe(t, reading.processes)  # no processes read: no events
                self._pending.append(SampleRow(
                    segment=-1, t=round(t, 3), healthy=reading.healthy, health=reading.health,
                    health_ms=None if reading.health_ms is None else round(reading.health_ms, 2),
                    rss_bytes=reading.rss_bytes, db_connections=reading.db_connections,
                    gpu_memory_used_bytes=reading.gpu_memory_used_bytes, gpu_temperature_c=reading.gpu_temperature_c,
                    events="; ".join(events)))
                pending = list(self._pending)
            if time.monotonic() - last_progress >= self.progress_every_s:
                last_progress = time.monotonic()
                self.progress(self.status(pending))
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))


@dataclass
class SoakOutcome:
    """A finished (or resumed-and-finished, or already complete) stability run and its evidence."""

    settings: SoakSettings
    checkpoint: Checkpoint
    directory: Path
    result: SoakResult
    requests: list[RequestRow]
    samples: list[SampleRow]
    report: dict[str, Any]
    plots: dict[str, Path] = field(default_factory=dict)
    resumed: bool = False

    def plot(self, series: str) -> dict[str, bytes]:
        """`{"<series>.png": bytes}` for the evidence ({} when the series has no plot)."""
        path = self.plots.get(series)
        return {f"{series}.png": path.read_bytes()} if path and path.exists() else {}

    def failures(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The failed requests (at most `limit`), for the evidence."""
        return [dataclasses.asdict(r) for r in self.requests if not r.ok][:limit]

    def windows(self) -> list[dict[str, Any]]:
        """The latency windows (span, requests, errors, p95 and n), for the evidence."""
        return [dataclasses.asdict(w) for w in self.result.windows]

    def checkpoint_view(self) -> dict[str, Any]:
        """Where the checkpoint is, its status, starts and interruptions (for the evidence)."""
        cp = self.checkpoint
        return {"directory": str(self.directory), "run_id": cp.run_id, "status": cp.status, "elapsed_s": cp.elapsed_s,
                "segments": len(cp.segments), "starts": cp.starts, "interruptions": cp.interruptions,
                "resumed": self.resumed, "report_verdict": self.report.get("verdict")}


def checkpoint_root(settings: SoakSettings, reports_dir: Path) -> Path:
    """`soak.checkpoint_dir` (relative to the repository), or `<reports_dir>/soak`."""
    if not settings.checkpoint_dir:
        return Path(reports_dir) / "soak"
    path = Path(settings.checkpoint_dir)
    return path if path.is_absolute() else REPO_ROOT / path


def refuse_another_run(saved: Checkpoint, profile: Any) -> None:
    """A saved run (complete or not) is taken up only with the profile, target and gate thresholds it started with:
    otherwise its verdict would be passed off as this run's. Raise SuiteConfigError naming each difference."""
    now = {"profile": profile.name, "target": profile.gateway.base_url}
    then = {"profile": saved.profile, "target": saved.target}
    differences = [f"{what} {then[what]!r} then, {now[what]!r} now" for what in now if then[what] != now[what]]
    thresholds = gate_fingerprint(profile)
    if not saved.thresholds:
        differences.append("its gate thresholds were not recorded")
    differences += [f"{key} {saved.thresholds.get(key, 'not set')} then, {held} now"
                    for key, held in thresholds.items() if saved.thresholds and saved.thresholds.get(key) != held]
    if differences:
        raise SuiteConfigError(
            f"stability run {saved.run_id} cannot be taken up by this run: {'; '.join(differences)}. Leave soak.run_id "
            "unset to start a new stability run, or give the profile, target and thresholds it started with")


def resume_hint(run_id: str) -> str:
    """How to resume a run, in words."""
    return f"Resume it with -D soak.run_id={run_id} (same profile and reports_dir)."


class SoakRun:
    """One start (or resume) of a stability run against the session's target."""

    def __init__(self, session: RunSession, settings: SoakSettings, progress: Progress = stderr_line,
                 rate_source: str = "") -> None:
        self.session = session
        self.progress = progress
        run_id = settings.run_id or session.run_id
        self.store = CheckpointStore(checkpoint_root(settings, session.options.reports_dir) / run_id)
        saved = self.store.load()
        self.resumed = saved is not None and not saved.complete
        if saved is None:
            saved = Checkpoint(run_id=run_id, profile=session.profile.name, target=session.profile.gateway.base_url,
                               settings={**settings.as_dict(), "run_id": run_id},
                               thresholds=gate_fingerprint(session.profile))
        else:
            refuse_another_run(saved, session.profile)
        self.checkpoint = saved
        # A resumed run keeps the settings it started with (the same run, whatever the profile says now).
        kept = {k: v for k, v in saved.settings.items() if k in SoakSettings.__dataclass_fields__}
        self.settings = SoakSettings(**{**kept, "run_id": run_id, "checkpoint_dir": settings.checkpoint_dir})
        self.rate_source = "kept from the run's first start" if self.resumed else \
            (rate_source or f"{self.settings.rate_rps:g} req/s: the profile's soak.rate_rps")
        self.requests: list[RequestRow] = []
        self.samples: list[SampleRow] = []
        self.probes: SoakProbes | None = None
        self._last_plot = 0.0

    @property
    def run_id(self) -> str:
        """The id of this stability run (its checkpoint folder's name)."""
        return self.checkpoint.run_id

    def result(self) -> SoakResult:
        """The measured values of the rows so far."""
        probes = self.probes
        return analyse(self.checkpoint, self.settings, self.requests, self.samples,
                       probes.memory_unavailable if probes else "", probes.restarts_unavailable if probes else "")

    def run(self, on_interrupt: InterruptSink | None = None) -> SoakOutcome:
        """Run (or resume) to the end; on SIGINT or an error, save "interrupted", report "incomplete", re-raise."""
        cp = self.checkpoint
        self.store.truncate_to(len(cp.segments))
        self.requests, self.samples = self.store.rows(len(cp.segments))
        self.probes = probes_for(self.session, self.settings)
        if cp.complete:
            return self._finish()
        if self.resumed and cp.status == "running":  # the last start ended without saving: killed or crashed
            cp.interruptions.append({"at": cp.updated_at, "elapsed_s": cp.elapsed_s,
                                     "reason": "the suite stopped without saving (killed or crashed)"})
        cp.status = "running"
        cp.starts.append({"at": time.time(), "elapsed_s": cp.elapsed_s, "target": self.session.profile.gateway.base_url,
                          "rate_rps": self.settings.rate_rps, "rate_source": self.rate_source})
        self.store.save(cp)
        verb = "resumes" if self.resumed else "starts"
        self.progress(f"stability run {self.run_id} {verb} at {cp.elapsed_s:.0f} of {self.settings.duration_s:.0f} s, "
                      f"load {self.settings.rate_rps:g} req/s ({self.rate_source}); checkpoint {self.store.directory}. "
                      f"{resume_hint(self.run_id)}")
        origin, base = time.monotonic(), cp.elapsed_s
        clock = lambda: base + (time.monotonic() - origin)  # noqa: E731
        sampler = Sampler(self.probes, clock, self.settings.interval_s, ProcessWatcher(cp), self._status,
                          self.progress, self.settings.progress_every_s)
        self._last_plot = time.monotonic()
        plots.prepare()  # import matplotlib now: an interruption must not land in the middle of that import
        try:
            with sigint_noted() as interrupted:
                sampler.start()
                self._segments(clock, sampler, interrupted)
                sampler.stop()
        except BaseException as exc:
            sampler.stop()
            self._interrupted(exc, on_interrupt)
            raise
        cp.status = "complete"
        self.store.save(cp)
        return self._finish()

    def _segments(self, clock: Callable[[], float], sampler: Sampler, interrupted: threading.Event) -> None:
        settings, cp = self.settings, self.checkpoint
        # a key of its own where operators can issue one (the run's key stays clear of its rate limit), else the run's
        issue = self.session.run_data is not None and self.session.profile.provides("key_admin")
        key = self.session.run_data.issue_key("soak").key if issue else self.session.profile.secret("api_key")
        gateway = self.session.profile.gateway
        options = EngineOptions(base_url=gateway.base_url, timeout_s=gateway.timeout_s, verify=gateway.verify_tls,
                                progress=no_progress)
        while settings.duration_s - cp.elapsed_s >= SHORTEST_SEGMENT_S:
            length = min(settings.checkpoint_every_s, settings.duration_s - cp.elapsed_s)
            segment, started = len(cp.segments), clock()
            count = math.ceil(length * settings.rate_rps) + 1
            prompts = [f"{settings.prompt} (stability run {self.run_id}, segment {segment}, request {i})"
                       for i in range(count)]
            factory = chat_request_factory(self.session.profile.served_id(settings.model), prompts,
                                           max_tokens=settings.max_tokens, stream=True, api_key=key,
                                           path=gateway.chat_path, extra={"temperature": 0})
            run = run_load(factory, OpenLoop(rate=settings.rate_rps), Bounds(duration_s=length, max_requests=count),
                           options)
            rows = [RequestRow(segment=segment, t=round(started + r.scheduled, 3), ok=r.ok, status=r.status,
                               e2e_s=None if r.e2e is None else round(r.e2e, 6), error=r.error[:200])
                    for r in run.records]
            with sampler.lock:
                samples = sampler.drain(segment)
                self.store.append(rows, samples)
                cp.segments.append({"index": segment, "start_s": round(started, 3), "end_s": round(clock(), 3),
                                    "requests": len(rows), "samples": len(samples), "saved_at": time.time()})
                cp.elapsed_s = round(clock(), 3)
                self.store.save(cp)
            self.requests += rows
            self.samples += samples
            if time.monotonic() - self._last_plot >= settings.plot_every_s:
                self._interim()
            if interrupted.is_set():  # a SIGINT whose KeyboardInterrupt something swallowed
                raise KeyboardInterrupt

    def _status(self, pending: list[SampleRow]) -> str:
        samples = self.samples + pending
        failed = sum(1 for r in self.requests if not r.ok)
        healthy = sum(1 for s in samples if s.healthy)
        rss = next((s.rss_bytes for s in reversed(samples) if s.rss_bytes is not None), None)
        t = samples[-1].t if samples else self.checkpoint.elapsed_s
        memory = f"{rss / MB:.1f} MB" if rss is not None else "n/a"
        return (f"stability run {self.run_id}: {t:.0f}/{self.settings.duration_s:.0f} s "
                f"({100 * t / self.settings.duration_s:.0f} %), {len(self.requests)} requests checkpointed "
                f"({failed} failed), health {healthy}/{len(samples)} healthy, gateway memory {memory}, "
                f"process events {len(self.checkpoint.events)}")

    def _interim(self) -> None:
        self._last_plot = time.monotonic()
        result = self.result()
        plots.write_plots(self.store.plots_dir, self.requests, self.samples, result)
        self.store.write_report(report(result, self.session.profile, resume_hint(self.run_id)))

    def _interrupted(self, exc: BaseException, on_interrupt: InterruptSink | None) -> None:
        cp = self.checkpoint
        reason = "SIGINT" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        cp.status = "interrupted"
        cp.interruptions.append({"at": time.time(), "elapsed_s": cp.elapsed_s, "reason": reason})
        self.store.save(cp)
        result = self.result()
        path = self.store.write_report(report(result, self.session.profile, resume_hint(self.run_id)))
        try:
            written = plots.write_plots(self.store.plots_dir, self.requests, self.samples, result)
        except Exception as problem:  # the checkpoint and the report are saved; plots are a bonus here
            self.progress(f"stability run {self.run_id}: could not write the interim plots: {problem}")
            written = {}
        self.progress(f"stability run {self.run_id} interrupted ({reason}) at {cp.elapsed_s:.0f} s: verdict "
                      f"incomplete, report {path}. {resume_hint(self.run_id)}")
        if on_interrupt is not None:
            attachments: dict[str, Any] = {"report.json": path.read_text()}
            attachments.update({f"{name}.png": p.read_bytes() for name, p in written.items()})
            on_interrupt(incomplete_verdict(result, resume_hint(self.run_id)), attachments)

    def _finish(self) -> SoakOutcome:
        result = self.result()
        written = plots.write_plots(self.store.plots_dir, self.requests, self.samples, result)
        final = report(result, self.session.profile)
        self.store.write_report(final)
        self.progress(f"stability run {self.run_id} complete: {result.elapsed_s:.0f} s, {result.requests} requests, "
                      f"report {self.store.directory / 'report.json'} (verdict {final['verdict']})")
        return SoakOutcome(settings=self.settings, checkpoint=self.checkpoint, directory=self.store.directory,
                           result=result, requests=self.requests, samples=self.samples, report=final, plots=written,
                           resumed=self.resumed)


_OUTCOMES: dict[int, SoakOutcome | BaseException] = {}


def run_once(session: RunSession, on_interrupt: InterruptSink | None = None, progress: Progress = stderr_line) -> SoakOutcome:
    """The stability run of this run of the suite: run (or resume) it the first time, then the same outcome."""
    key = id(session)
    if key not in _OUTCOMES:
        try:
            settings = session.profile.soak
            rate, source = session.thresholds.capped_rate(settings.rate_rps, settings.capacity_share, "soak.rate_rps")
            _OUTCOMES[key] = SoakRun(session, dataclasses.replace(settings, rate_rps=rate), progress, source).run(on_interrupt)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            _OUTCOMES[key] = exc
    outcome = _OUTCOMES[key]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
