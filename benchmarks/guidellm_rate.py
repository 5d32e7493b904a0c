"""GuideLLM's highest sustainable open-loop rate against the calibrated timing server.

    .venv/bin/python benchmarks/guidellm_rate.py                                  # 25-400 req/s, 6 s a step
    .venv/bin/python benchmarks/guidellm_rate.py --rates 25,50,100 --seconds 4 --profile poisson --workers 1

GuideLLM (`.venv-bench/bin/guidellm`, see benchmarks/README.md) runs pinned to one CPU with the profile
`kind=constant,rate=R` (or `kind=poisson,rate=R`) at rising rates, one GuideLLM process a rate. For each rate
it records GuideLLM's achieved rate and reported TTFT p50/p99, and the truth from the timing server: the
server-side TTFT (first content written − request read, both in the server's perf_counter clock) of every
request it answered during that run. A rate holds when GuideLLM started at least 95 % of it (with poisson,
or its count is within 3 standard deviations), no request failed, and its TTFT p99 is within 5 ms of the
server's. The sweep stops at the first rate that does not hold. One line a step goes to stderr, the result
as JSON to stdout.

GuideLLM stamps with time.time() and the server with perf_counter, so nothing is joined per request: the two
TTFT distributions of the same run are compared. Each GuideLLM process needs about 13 s of one CPU (about
6 s with `--workers 1`) to start its workers and to compile its report, on top of the measured window.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # for load_engine

from citadel_acceptance.load import nearest_rank  # noqa: E402

GUIDELLM = ROOT / ".venv-bench" / "bin" / "guidellm"
# A client that keeps up starts within a few per cent of the asked rate; under 95 % it is falling behind
# (requests wait in its queues), which is what the load engine's schedule lag shows for itself.
MIN_RATE_SHARE = 0.95
# The same 5 ms as the load engine's own rate criterion (schedule lag p99 < 5 ms, load_engine.LAG_P99_LIMIT_S),
# so that the two highest rates mean the same thing: timings still right to 5 ms at p99.
TTFT_P99_ERROR_LIMIT_MS = 5.0
# Any failed request means the rate was not served.
MAX_ERRORS = 0
# A Poisson process's count in a window of N expected arrivals spreads by sqrt(N) (8 % at 150): a perfect client
# would miss 95 % by chance, so with poisson the lower bound is N - 3 sqrt(N) when that is lower.
POISSON_SIGMAS = 3.0
CRITERION = (f"achieved rate >= {MIN_RATE_SHARE:.0%} of the asked rate (poisson: or >= N - {POISSON_SIGMAS:g} sqrt(N) "
             f"requests, N = rate x window), {MAX_ERRORS} failed requests, "
             f"|GuideLLM TTFT p99 - server-side TTFT p99| <= {TTFT_P99_ERROR_LIMIT_MS:g} ms")
Profile = Literal["constant", "poisson"]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _percentiles_ms(values_s: list[float]) -> dict[str, Any]:
    """n, p50 and p99 by nearest rank (as the timing server and the load engine count), in ms."""
    return {"n": len(values_s), **{f"p{p}_ms": _ms(nearest_rank(values_s, p).value) for p in (50, 99)}}


def _min_rate(rate: float, seconds: float, profile: Profile) -> float:
    """The lowest achieved rate (req/s) that still counts as keeping up with `rate`."""
    share = MIN_RATE_SHARE * rate
    if profile == "constant":
        return share
    expected = rate * seconds
    return min(share, (expected - POISSON_SIGMAS * math.sqrt(expected)) / seconds)


def write_prompts(path: Path, count: int, tokens: int) -> None:
    """Distinct prompts, each asking for `tokens` output tokens (GuideLLM sends them as max_completion_tokens)."""
    path.write_text("".join(json.dumps({"prompt": f"Count to thirty-two, item {i}.", "output_tokens_count": tokens})
                            + "\n" for i in range(count)))


def _read_report(path: Path) -> dict[str, Any]:
    """GuideLLM's figures from its JSON report (the first and only benchmark of the run)."""
    bench = json.loads(path.read_text())["benchmarks"][0]
    metrics, duration = bench["metrics"], bench["duration"]
    totals = metrics["request_totals"]
    # request_totals counts the requests started in the measured window: successful, errored, and incomplete
    # (still streaming when the window closed, then cancelled). Those cut off at the end are no failure.
    started = totals["successful"] + totals["errored"] + totals["incomplete"]
    ttft = metrics["time_to_first_token_ms"]["successful"]
    dispatch = (metrics.get("request_dispatch_delay") or {}).get("total")
    return {
        "duration_s": round(duration, 3), "started": started, "completed": totals["successful"],
        "errored": totals["errored"], "incomplete": totals["incomplete"],
        "achieved_rps": round(started / duration, 2) if duration else None,
        "completed_rps": round(totals["successful"] / duration, 2) if duration else None,
        "ttft": {"n": ttft["count"], "p50_ms": round(ttft["percentiles"]["p50"], 3),
                 "p99_ms": round(ttft["percentiles"]["p99"], 3)},
        # GuideLLM's own schedule lag: request start − its targeted start
        "dispatch_delay": None if not dispatch else {"p50_ms": _ms(dispatch["percentiles"]["p50"]),
                                                     "p99_ms": _ms(dispatch["percentiles"]["p99"])},
    }


def _server_truth(report: dict[str, Any]) -> dict[str, Any]:
    """The server-side TTFT of every request whose first content chunk was written, and the server's lateness."""
    written = [t for t in report["timings"] if t.get("first_content_written") is not None]
    late = report.get("first_chunk_lateness_s", {})
    return {"requests": len(report["timings"]),
            "ttft": _percentiles_ms([t["first_content_written"] - t["received"] for t in written]),
            "lateness_p99_ms": _ms(late.get("p99"))}


def run_guidellm(server_url: str, profile: str, seconds: float, cpu: int, prompts: Path, out: Path,
                workers: int | None = None) -> subprocess.CompletedProcess[str]:
    """One GuideLLM run with `profile` (its --profile value, e.g. "kind=constant,rate=25") pinned to `cpu`."""
    command = [str(GUIDELLM), "run", "--backend", f"kind=openai_http,target={server_url}",
               "--profile", profile,
               "--constraint", f"kind=max_duration,seconds={seconds:g}",
               "--data", f"kind=json_file,path={prompts}", "--output", f"kind=json,path={out}", "--disable-progress"]
    env = None if workers is None else {**os.environ, "GUIDELLM__MAX_WORKER_PROCESSES": str(workers)}
    return subprocess.run(command, capture_output=True, text=True, timeout=seconds + 180, env=env,
                          preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))


def guidellm_max_rate(server_url: str, timings: Callable[[], dict],
                      rates: Sequence[float] = (25, 50, 100, 150, 200, 300, 400), seconds: float = 6.0,
                      cpu: int = 0, profile: Profile = "constant", tokens: int = 32,
                      server_pid: int | None = None, workers: int | None = None) -> dict[str, Any]:
    """Step GuideLLM's open-loop rate up until a rate does not hold; return the highest that held.

    `timings` returns the timing server's `GET /timings?clear=1` body (and clears it). With `server_pid`, each
    step first waits for a quiet machine and records the CPU seconds other processes used during it
    (`foreign_cpu_s`: the timing server, this process, GuideLLM and its workers are left out). One line a
    step goes to stderr, so that the JSON the command line prints on stdout stays clean.

    `workers` sets GuideLLM's worker processes (GUIDELLM__MAX_WORKER_PROCESSES; None keeps its default, 10).
    With poisson, 1 is the only count that gives Poisson arrivals in GuideLLM 0.8.1: every worker seeds its own
    generator with the same seed, so each exponential gap comes once per worker (10 times in a row by default).
    """
    if profile not in ("constant", "poisson"):
        raise ValueError(f"profile must be 'constant' or 'poisson', got {profile!r}")
    result: dict[str, Any] = {"max_rate_rps": None, "steps": [], "criterion": CRITERION, "profile": profile,
                              "window_s": seconds, "cpu": cpu, "workers": workers, "guidellm": str(GUIDELLM)}
    if not GUIDELLM.exists():
        result["skipped"] = f"{GUIDELLM} is missing: see benchmarks/README.md"
        return result
    if server_pid is not None:
        # imported here, not at the top, so that load_engine itself can import this module
        from load_engine import ForeignCpu, wait_until_quiet
    with tempfile.TemporaryDirectory() as scratch:
        prompts, out = Path(scratch) / "prompts.jsonl", Path(scratch) / "out.json"
        # GuideLLM queues requests ahead of their time: leave it plenty
        write_prompts(prompts, int(max(rates) * (seconds + 10)) + 100, tokens)
        for rate in rates:
            step: dict[str, Any] = {"rate_rps": rate}
            if server_pid is not None:
                step["waited_for_quiet_s"] = wait_until_quiet([server_pid])
                foreign = ForeignCpu([server_pid])  # leaves out GuideLLM and its workers once reaped
            out.unlink(missing_ok=True)
            timings()  # clear what came before
            started = time.perf_counter()
            done = run_guidellm(server_url, f"kind={profile},rate={rate:g}", seconds, cpu, prompts, out, workers)
            step["wall_s"] = round(time.perf_counter() - started, 1)
            truth = _server_truth(timings())
            if server_pid is not None:
                step["foreign_cpu_s"] = foreign.seconds()
            if done.returncode != 0 or not out.exists():
                step.update(held=False, failed=f"guidellm exited {done.returncode}: {done.stderr[-500:]}")
                result["steps"].append(step)
                print(f"  guidellm {profile} {rate:5g} req/s: {step['failed'][:200]}", file=sys.stderr, flush=True)
                break
            step["guidellm"] = _read_report(out)
            step["server"] = truth
            g, s = step["guidellm"], truth["ttft"]
            step["ttft_error_p50_ms"] = None if s["p50_ms"] is None else round(g["ttft"]["p50_ms"] - s["p50_ms"], 3)
            step["ttft_error_p99_ms"] = None if s["p99_ms"] is None else round(g["ttft"]["p99_ms"] - s["p99_ms"], 3)
            step["held"] = (g["achieved_rps"] is not None and g["achieved_rps"] >= _min_rate(rate, seconds, profile)
                            and g["errored"] <= MAX_ERRORS and step["ttft_error_p99_ms"] is not None
                            and abs(step["ttft_error_p99_ms"]) <= TTFT_P99_ERROR_LIMIT_MS)
            result["steps"].append(step)
            print(f"  guidellm {profile} {rate:5g} req/s: achieved {g['achieved_rps']} req/s "
                  f"({g['completed_rps']} completed), TTFT p99 {g['ttft']['p99_ms']} ms vs server {s['p99_ms']} ms "
                  f"(error {step['ttft_error_p99_ms']} ms), errors {g['errored']}, "
                  f"{'held' if step['held'] else 'NOT held'}"
                  + (f" (foreign CPU {step['foreign_cpu_s']} s)" if "foreign_cpu_s" in step else ""),
                  file=sys.stderr, flush=True)
            if not step["held"]:
                break
            result["max_rate_rps"] = rate
    return result


def main(argv: list[str] | None = None) -> int:
    """Start a timing server on CPU 1, sweep GuideLLM's rate on CPU 0, print the result as JSON on stdout."""
    parser = argparse.ArgumentParser(description="GuideLLM's highest sustainable rate against the timing server.")
    parser.add_argument("--rates", default="25,50,100,150,200,300,400", help="comma-separated req/s, rising")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured window of each rate")
    parser.add_argument("--profile", choices=("constant", "poisson"), default="constant")
    parser.add_argument("--workers", type=int, help="GuideLLM worker processes (default: GuideLLM's, 10)")
    args = parser.parse_args(argv)
    rates = [int(r) if float(r).is_integer() else float(r) for r in args.rates.split(",")]
    from load_engine import ENGINE_CPU, TOKENS, TimingServer  # here, so that load_engine can import this module

    server = TimingServer()  # pinned to CPU 1, as load_engine does
    try:
        result = guidellm_max_rate(server.url, server.timings, rates=rates, seconds=args.seconds,
                                   cpu=ENGINE_CPU, profile=args.profile, tokens=TOKENS,
                                   server_pid=server.process.pid, workers=args.workers)
    finally:
        server.stop()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
