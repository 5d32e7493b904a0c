"""Benchmark of the load engine against the calibrated timing server (and GuideLLM, when installed).

    .venv/bin/python benchmarks/load_engine.py            # everything, about 6-8 minutes on 2 cores
    .venv/bin/python benchmarks/load_engine.py --quick    # shorter windows, no GuideLLM

The timing server runs in its own process pinned to CPU 1; the engine (this process) is pinned to
CPU 0, and with two workers one worker process runs on each CPU (the second beside the server; for
the rate parts the server sleeps rather than spins before each write, so that it leaves that CPU). It
measures (a) the highest open-loop streamed rate whose schedule lag p99 stays under 5 ms, with one
worker and with two, (b) the error of the measured TTFT against the server's true first-chunk write
at 1, 64 and 256 concurrent streams, with kernel receive timestamps (the engine's default) and with
event-loop stamps (the first design), and with two workers at 64 and 256, (c) the two server stacks'
own timing error, and (d) GuideLLM's reported TTFT/ITL/TPOT next to ours at the same concurrency, and
GuideLLM's highest rate on one CPU (guidellm_rate.py). Prints a table and writes
`benchmarks/results/latest.json`.

How TTFT error is joined: the engine sends `x-request-id`; the server keeps, per id, the
perf_counter instant it wrote the first content chunk (`GET /timings`). Both processes read the same
CLOCK_MONOTONIC, so for each request: true TTFT = server write − client send, and
error = measured TTFT − true TTFT = client first-content arrival − server first-content write.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from citadel_acceptance.config.load import Placement  # noqa: E402
from citadel_acceptance.load import (Bounds, ClosedLoop, EngineOptions, LoadRun, OpenLoop,  # noqa: E402
                                     chat_request_factory, nearest_rank, no_progress, run_load)
from guidellm_rate import GUIDELLM, guidellm_max_rate, run_guidellm, write_prompts  # noqa: E402

SERVER = ROOT / "benchmarks" / "timing_server.py"
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
TTFT_MS, ITL_MS, TOKENS = 50.0, 10.0, 32
ENGINE_CPU, SERVER_CPU = 0, 1
LAG_P99_LIMIT_S = 0.005
GUIDELLM_RATES = (5, 10, 15, 20, 25, 50, 100, 150, 200)  # it held 25 req/s once and 50 never, in trials


class TimingServer:
    """The timing server in a subprocess pinned to one CPU."""

    def __init__(self, impl: str = "asyncio", cpu: int | None = SERVER_CPU, tokens: int = TOKENS,
                 spin: bool = True) -> None:
        command = [sys.executable, str(SERVER), "--port", "0", "--ttft-ms", str(TTFT_MS), "--itl-ms", str(ITL_MS),
                   "--tokens", str(tokens), "--impl", impl] + (["--cpu", str(cpu)] if cpu is not None else []) + \
                  ([] if spin else ["--no-spin"])
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the timing server did not start: {line!r}")
        self.url = "http://" + line.split()[-1]

    def timings(self) -> dict[str, Any]:
        """Every timing since the last call (and clear them)."""
        return httpx.get(self.url + "/timings?clear=1", timeout=30).json()

    def stop(self) -> None:
        """Stop the process this benchmark started."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _busy_jiffies() -> int:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


def _own_jiffies(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished and reaped children (the engine's workers, GuideLLM)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ForeignCpu:
    """CPU seconds used on the machine by processes other than this benchmark, its server and the children it has
    reaped since (Linux). /proc/stat counts clock ticks and rusage is exact: a few tenths of a second either way."""

    tick = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: list[int]) -> None:
        self.pids = [os.getpid(), *pids]
        self.start = _busy_jiffies() - _own_jiffies(self.pids)
        self.children = _children_cpu_s()

    def seconds(self) -> float:
        """Foreign CPU seconds since this object was made."""
        return round((_busy_jiffies() - _own_jiffies(self.pids) - self.start) / self.tick
                     - (_children_cpu_s() - self.children), 2)


def wait_until_quiet(pids: list[int], limit_s: float = 45.0) -> float:
    """Wait (at most `limit_s`) for a 2-second spell with under 0.1 CPU-second of foreign work; return the wait."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        probe = ForeignCpu(pids)
        time.sleep(2)
        if probe.seconds() < 0.1:
            break
    return round(time.perf_counter() - started, 1)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def _quantiles_ms(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), **{f"p{p}_ms": _ms(nearest_rank(values, p).value) for p in (50, 99)},
            "max_ms": _ms(max(values)) if values else None}


def _run(server: TimingServer, schedule: OpenLoop | ClosedLoop, seconds: float, warmup_s: float,
         kernel: bool = True, workers: int = 1) -> LoadRun:
    """One run of the engine: in this process (pinned to CPU 0), or `workers` processes, one on each CPU."""
    factory = chat_request_factory("timing-model", "Count to thirty-two.", max_tokens=TOKENS)
    options = EngineOptions(base_url=server.url, timeout_s=30, progress=no_progress, kernel_timestamps=kernel)
    server.timings()  # clear
    bounds = Bounds(duration_s=seconds, max_requests=10**6, warmup_s=warmup_s)
    if workers == 1:
        return run_load(factory, schedule, bounds, options)
    pinned = os.sched_getaffinity(0)
    os.sched_setaffinity(0, range(os.cpu_count() or 1))  # the workers take one CPU each of what this process may use
    try:
        return run_load(factory, schedule, bounds, options, placement=Placement(workers=workers))
    finally:
        os.sched_setaffinity(0, pinned)


def max_sustainable_rate(server: TimingServer, window_s: float, workers: int = 1) -> dict[str, Any]:
    """(a) Step the open-loop rate up until the schedule lag p99 passes 5 ms (or requests fail)."""
    steps, held = [], None
    for rate in (50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 600, 800):
        waited = wait_until_quiet([server.process.pid])
        foreign = ForeignCpu([server.process.pid])
        run = _run(server, OpenLoop(rate=rate), window_s + 1, warmup_s=1, workers=workers)
        summary = run.summary()
        lag = summary.schedule_lag.percentile(99)
        ok = lag.value is not None and lag.value < LAG_P99_LIMIT_S and summary.errors == 0
        steps.append({"rate_rps": rate, "sent": summary.sent, "errors": summary.errors,
                      "throughput_rps": round(summary.throughput, 1), "lag_p50_ms": _ms(summary.schedule_lag.percentile(50).value),
                      "lag_p99_ms": _ms(lag.value), "ttft_p99_ms": _ms(summary.ttft.percentile(99).value), "held": ok,
                      "foreign_cpu_s": foreign.seconds(), "waited_for_quiet_s": waited})
        if run.workers:
            steps[-1]["workers"] = [{"cpu": w.cpu, "sent": w.sent, "lag_p99_ms": w.lag_p99_ms} for w in run.workers]
        print(f"  (a) {workers} worker(s), {rate:5d} req/s: lag p99 {_ms(lag.value)} ms, errors {summary.errors}, "
              f"{'held' if ok else 'NOT held'} (foreign CPU {steps[-1]['foreign_cpu_s']} s)", flush=True)
        if not ok:
            break
        held = rate
    return {"workers": workers, "max_rate_rps": held, "lag_p99_limit_ms": LAG_P99_LIMIT_S * 1000, "window_s": window_s,
            "request": f"streamed chat, {TOKENS} tokens, TTFT {TTFT_MS:g} ms, ITL {ITL_MS:g} ms", "steps": steps}


def ttft_error(server: TimingServer, streams: int, seconds: float, kernel: bool, workers: int = 1) -> dict[str, Any]:
    """(b) Measured TTFT − true TTFT per request, joined on x-request-id."""
    waited = wait_until_quiet([server.process.pid])
    foreign = ForeignCpu([server.process.pid])
    run = _run(server, ClosedLoop(streams), seconds, warmup_s=1, kernel=kernel, workers=workers)
    foreign_s = foreign.seconds()
    report = server.timings()
    truth = {t["request_id"]: t for t in report["timings"]}
    errors, exact, true_ttft = [], [], []
    for record in run.measured:
        seen = truth.get(record.request_id)
        if not record.ok or record.first_content is None or record.sent is None or not seen:
            continue
        written = seen["first_content_written"] - run.clock_origin
        errors.append(record.first_content - written)
        if not record.first_content_uncertain:
            exact.append(record.first_content - written)
        true_ttft.append(written - record.sent)
    summary = run.summary()
    # the stamps the engine reports as exact, and those it flags (their first chunk shared a read with later bytes)
    return {"streams": streams, "workers": workers, "timestamps": "kernel" if kernel else "loop",
            "requests": summary.sent,
            "errors": summary.errors, "ttft_error": _quantiles_ms(exact), "ttft_error_all": _quantiles_ms(errors),
            "uncertain_first_chunks": len(errors) - len(exact), "true_ttft": _quantiles_ms(true_ttft),
            "measured_ttft": _quantiles_ms(list(summary.ttft.samples)),
            "itl": _quantiles_ms(list(summary.itl.samples)), "tpot": _quantiles_ms(list(summary.tpot.samples)),
            "server_lateness": _lateness(report), "foreign_cpu_s": foreign_s, "waited_for_quiet_s": waited}


def _lateness(report: dict[str, Any]) -> dict[str, Any]:
    late = report["first_chunk_lateness_s"]
    return {"n": late.get("n"), "p50_ms": _ms(late.get("p50")), "p99_ms": _ms(late.get("p99"))}


def server_precision(seconds: float) -> dict[str, Any]:
    """(c) Each server stack's own lateness (first chunk written − planned) at 64 streams."""
    out = {}
    for impl in ("asyncio", "uvicorn"):
        server = TimingServer(impl=impl)
        try:
            wait_until_quiet([server.process.pid])
            foreign = ForeignCpu([server.process.pid])
            _run(server, ClosedLoop(64), seconds, warmup_s=1)
            foreign_s = foreign.seconds()
            report = httpx.get(server.url + "/timings", timeout=30).json()["first_chunk_lateness_s"]
        finally:
            server.stop()
        out[impl] = {"n": report.get("n"), "p50_ms": _ms(report.get("p50")), "p99_ms": _ms(report.get("p99")),
                     "max_ms": _ms(report.get("max")), "foreign_cpu_s": foreign_s}
        print(f"  (c) server {impl}: lateness p99 {out[impl]['p99_ms']} ms", flush=True)
    return out


def guidellm_side_by_side(server: TimingServer, streams: int, seconds: float) -> dict[str, Any]:
    """(d) GuideLLM and this engine against the same server, same concurrency, same CPU."""
    if not GUIDELLM.exists():
        return {"skipped": f"{GUIDELLM} is missing: see benchmarks/README.md"}
    with tempfile.TemporaryDirectory() as scratch:
        prompts, out = Path(scratch) / "prompts.jsonl", Path(scratch) / "out.json"
        write_prompts(prompts, 2000, TOKENS)
        waited = wait_until_quiet([server.process.pid])
        server.timings()
        started = time.perf_counter()
        done = run_guidellm(server.url, f"kind=concurrent,streams={streams}", seconds, ENGINE_CPU, prompts, out)
        if done.returncode != 0 or not out.exists():
            return {"skipped": f"guidellm exited {done.returncode}: {done.stderr[-500:]}"}
        report = json.loads(out.read_text())
    metrics = report["benchmarks"][0]["metrics"]
    report = server.timings()
    truth = [t for t in report["timings"] if t["first_content_written"] is not None]
    server_ttft = [t["first_content_written"] - t["received"] for t in truth]

    def pick(name: str) -> dict[str, Any]:
        stats = metrics[name]["successful"]
        return {"n": stats["count"], "p50_ms": round(stats["percentiles"]["p50"], 3),
                "p99_ms": round(stats["percentiles"]["p99"], 3), "mean_ms": round(stats["mean"], 3)}

    return {"streams": streams, "seconds": seconds, "wall_s": round(time.perf_counter() - started, 1),
            "guidellm": {"ttft": pick("time_to_first_token_ms"), "itl": pick("inter_token_latency_ms"),
                         "tpot": pick("time_per_output_token_ms")},
            "server_side_ttft": _quantiles_ms(server_ttft), "server_lateness": _lateness(report),
            "waited_for_quiet_s": waited}


def table(results: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    lines = [f"load engine benchmark, {results['date']}, {results['machine']}, load average before "
             f"{results['load_average_before'][0]:.2f}"]
    a, two = results["max_rate"], results.get("max_rate_workers")
    lines.append(f"(a) max open-loop streamed rate with schedule lag p99 < 5 ms: {a['max_rate_rps']} req/s with one "
                 f"worker ({a['request']})")
    if two:
        ratio = (f"{two['max_rate_rps'] / a['max_rate_rps']:.2f} x one worker's"
                 if two["max_rate_rps"] and a["max_rate_rps"] else "no ratio")
        lines.append(f"    with two workers (one per CPU, the server sharing CPU {SERVER_CPU}): {two['max_rate_rps']} "
                     f"req/s, {ratio}")
    rate = results.get("guidellm_rate")
    if rate and "skipped" not in rate:
        per_core = (f"; this engine per core (one worker, one CPU) {a['max_rate_rps'] / rate['max_rate_rps']:.1f} x "
                    f"GuideLLM's" if a["max_rate_rps"] and rate["max_rate_rps"] else "")
        lines.append(f"    GuideLLM 0.8.1 on one CPU, {rate['profile']} profile: {rate['max_rate_rps']} req/s "
                     f"({rate['criterion']}){per_core}")
    elif rate:
        lines.append(f"    GuideLLM's rate: {rate['skipped']}")
    lines.append("(b) TTFT error = measured − true (ms), of the stamps reported exact; uncertain: first chunks flagged "
                 "(their read also carried later bytes), and the error p99 with them")
    lines.append(f"    {'streams':>7} {'workers':>7} {'stamps':>6} {'n':>6} {'err p50':>8} {'err p99':>8} "
                 f"{'err max':>8} "
                 f"{'uncertain':>9} {'p99 all':>8} "
                 f"{'TTFT p50':>8} {'ITL p50':>8} {'TPOT p50':>8} {'srv late p99':>12} {'foreign cpu s':>13}")
    for row in results["ttft_error"]:
        e = row["ttft_error"]
        lines.append(f"    {row['streams']:>7} {row.get('workers', 1):>7} {row['timestamps']:>6} {e['n']:>6} "
                     f"{e['p50_ms']:>8} {e['p99_ms']:>8} "
                     f"{e['max_ms']:>8} {row['uncertain_first_chunks']:>9} {row['ttft_error_all']['p99_ms']:>8} "
                     f"{row['measured_ttft']['p50_ms']:>8} {row['itl']['p50_ms']:>8} "
                     f"{row['tpot']['p50_ms']:>8} {row['server_lateness']['p99_ms']:>12} {row['foreign_cpu_s']:>13}")
    if "server_precision" in results:
        lines.append("(c) timing server lateness of the first chunk at 64 streams (ms): " + ", ".join(
            f"{impl} p50 {v['p50_ms']} p99 {v['p99_ms']}" for impl, v in results["server_precision"].items()))
    g = results.get("guidellm")
    if g and "guidellm" in g:
        ours = next(r for r in results["ttft_error"] if r["streams"] == g["streams"] and r["timestamps"] == "kernel"
                    and r.get("workers", 1) == 1)
        lines.append(f"(d) at {g['streams']} streams (ms):       {'TTFT p50':>9} {'TTFT p99':>9} {'ITL p50':>8} "
                     f"{'ITL p99':>8} {'TPOT p50':>9} {'TPOT p99':>9}")
        lines.append(f"    server truth             {g['server_side_ttft']['p50_ms']:>9} {g['server_side_ttft']['p99_ms']:>9} "
                     f"{ITL_MS:>8} {ITL_MS:>8} {ITL_MS:>9} {ITL_MS:>9}")
        lines.append(f"    this engine              {ours['measured_ttft']['p50_ms']:>9} {ours['measured_ttft']['p99_ms']:>9} "
                     f"{ours['itl']['p50_ms']:>8} {ours['itl']['p99_ms']:>8} {ours['tpot']['p50_ms']:>9} "
                     f"{ours['tpot']['p99_ms']:>9}")
        gl = g["guidellm"]
        lines.append(f"    GuideLLM 0.8.1           {gl['ttft']['p50_ms']:>9} {gl['ttft']['p99_ms']:>9} {gl['itl']['p50_ms']:>8} "
                     f"{gl['itl']['p99_ms']:>8} {gl['tpot']['p50_ms']:>9} {gl['tpot']['p99_ms']:>9}")
    elif g:
        lines.append(f"(d) GuideLLM: {g.get('skipped')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every part and write the results."""
    parser = argparse.ArgumentParser(description="Benchmark the load engine against the timing server.")
    parser.add_argument("--quick", action="store_true", help="short windows, no GuideLLM")
    parser.add_argument("--no-guidellm", action="store_true")
    args = parser.parse_args(argv)
    if os.cpu_count() and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {ENGINE_CPU})
    window = 2.0 if args.quick else 4.0
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(), "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}", "server": {"ttft_ms": TTFT_MS, "itl_ms": ITL_MS, "tokens": TOKENS},
        "pinning": {"engine_cpu": ENGINE_CPU, "server_cpu": SERVER_CPU}}
    started = time.perf_counter()
    results["load_average_before"] = os.getloadavg()
    # The rate parts measure the clients' own schedule lag, against a server that sleeps rather than spins before
    # each write: a spinning server takes the whole CPU the second worker (and nothing else) shares with it.
    rate_server = TimingServer(spin=False)
    try:
        print("(a) maximum sustainable open-loop rate, one worker and two; GuideLLM's on one CPU", flush=True)
        results["max_rate"] = max_sustainable_rate(rate_server, window)
        results["max_rate_workers"] = max_sustainable_rate(rate_server, window, workers=2)
        if not (args.quick or args.no_guidellm):
            results["guidellm_rate"] = guidellm_max_rate(rate_server.url, rate_server.timings, seconds=window + 1,
                                                         rates=GUIDELLM_RATES, cpu=ENGINE_CPU, tokens=TOKENS,
                                                         server_pid=rate_server.process.pid)
    finally:
        rate_server.stop()
    server = TimingServer()
    try:
        print("(b) TTFT error", flush=True)
        results["ttft_error"] = []
        for streams, kernel, workers in [(1, True, 1), (1, False, 1), (64, True, 1), (64, False, 1), (256, True, 1),
                                         (256, False, 1), (64, True, 2), (256, True, 2)]:
            row = ttft_error(server, streams, window + 2, kernel, workers)
            results["ttft_error"].append(row)
            print(f"  (b) {streams:3d} streams, {workers} worker(s), {row['timestamps']} stamps: error p50 "
                  f"{row['ttft_error']['p50_ms']} ms, p99 {row['ttft_error']['p99_ms']} ms (n={row['ttft_error']['n']} "
                  f"exact, {row['uncertain_first_chunks']} uncertain; p99 of all {row['ttft_error_all']['p99_ms']} ms)",
                  flush=True)
        if not (args.quick or args.no_guidellm):
            print("(d) GuideLLM side by side at 64 streams", flush=True)
            results["guidellm"] = guidellm_side_by_side(server, 64, 15)
    finally:
        server.stop()
    if not args.quick:
        print("(c) timing server stacks", flush=True)
        results["server_precision"] = server_precision(window)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    results["load_average_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"written {RESULTS} in {results['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
