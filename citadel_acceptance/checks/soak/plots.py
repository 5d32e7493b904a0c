"""Plots of the soak's series so far (matplotlib, Agg): one PNG per series, rewritten at every interim report."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable, Sequence

from citadel_acceptance.checks.soak.analysis import MB, SoakResult
from citadel_acceptance.checks.soak.checkpoint import RequestRow, SampleRow

SERIES = ("latency", "errors", "availability", "memory", "db_connections", "gpu")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def prepare() -> None:
    """Import matplotlib (Agg) ahead of the first plot."""
    _pyplot()


def _figure(title: str, ylabel: str) -> tuple[Any, Any]:
    figure, axis = _pyplot().subplots(figsize=(9, 4))
    axis.set_title(title)
    axis.set_xlabel("soak time (s, load applied)")
    axis.set_ylabel(ylabel)
    return figure, axis


def _resumes(axis: Any, result: SoakResult) -> None:
    for index, interruption in enumerate(result.interruptions):
        axis.axvline(interruption.get("elapsed_s", 0), color="grey", linestyle="--",
                     label="interrupted, resumed" if index == 0 else None)


def _latency(requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult, axis: Any) -> None:
    ok = [r for r in requests if r.ok and r.e2e_s is not None]
    axis.scatter([r.t for r in ok], [r.e2e_s * 1000 for r in ok], s=6, alpha=0.5, label=f"E2E (n={len(ok)})")
    for window in result.measured_windows:
        axis.hlines(window.p95_s * 1000, window.start, window.end, color="red",
                    label="p95 per window" if window is result.measured_windows[0] else None)


def _errors(requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult, axis: Any) -> None:
    failed, xs, ys = 0, [], []
    for row in sorted(requests, key=lambda r: r.t):
        failed += 0 if row.ok else 1
        xs.append(row.t)
        ys.append(failed)
    axis.step(xs, ys, where="post", color="red", label=f"failed requests, cumulative ({failed} of {len(requests)})")


def _availability(requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult, axis: Any) -> None:
    axis.step([s.t for s in samples], [1 if s.healthy else 0 for s in samples], where="post",
              label=f"healthy (1) / not (0), {result.healthy_samples} of {result.samples} checks")
    axis.set_ylim(-0.1, 1.1)


def _memory(requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult, axis: Any) -> None:
    points = [(s.t, s.rss_bytes / MB) for s in samples if s.rss_bytes is not None]
    axis.plot([t for t, _ in points], [m for _, m in points], marker=".", label="gateway resident memory (MB)")
    fit = result.memory
    if fit is not None:
        xs = [fit.t_first, fit.t_last]
        axis.plot(xs, [(fit.intercept + fit.slope_bytes_per_s * x) / MB for x in xs], color="red",
                  label=f"fit after warm-up: {fit.slope_mb_per_h:.1f} MB/h")


def _connections(requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult, axis: Any) -> None:
    points = [(s.t, s.db_connections) for s in samples if s.db_connections is not None]
    axis.step([t for t, _ in points], [c for _, c in points], where="post", label="application's database connections")


def _gpu(requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult, axis: Any) -> None:
    memory = [(s.t, s.gpu_memory_used_bytes / 2**30) for s in samples if s.gpu_memory_used_bytes is not None]
    temperature = [(s.t, s.gpu_temperature_c) for s in samples if s.gpu_temperature_c is not None]
    axis.plot([t for t, _ in memory], [m for _, m in memory], label="GPU memory used, fullest device (GiB)")
    axis.plot([t for t, _ in temperature], [c for _, c in temperature], label="GPU temperature, hottest device (°C)")


DRAW: dict[str, tuple[str, str, Callable[..., None]]] = {
    "latency": ("Latency of successful requests", "ms", _latency),
    "errors": ("Failed requests", "requests", _errors),
    "availability": ("Health checks", "healthy", _availability),
    "memory": ("Gateway resident memory", "MB", _memory),
    "db_connections": ("Database connections", "connections", _connections),
    "gpu": ("GPU memory and temperature", "GiB / °C", _gpu),
}


def plot_series(name: str, requests: Sequence[RequestRow], samples: Sequence[SampleRow], result: SoakResult,
                path: Path | None = None) -> bytes:
    """One series as PNG bytes (also written to `path` when given)."""
    title, ylabel, draw = DRAW[name]
    state = "complete" if result.complete else f"so far: {result.elapsed_s:.0f} of {result.duration_s:.0f} s"
    figure, axis = _figure(f"{title}, stability run {result.run_id} ({state})", ylabel)
    draw(requests, samples, result, axis)
    _resumes(axis, result)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(loc="upper left", fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(figure)
    data = buffer.getvalue()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return data


def write_plots(directory: Path, requests: Sequence[RequestRow], samples: Sequence[SampleRow],
                result: SoakResult) -> dict[str, Path]:
    """Every series with data, as `<directory>/<series>.png`."""
    written = {}
    for name in SERIES:
        if name == "gpu" and result.gpu_memory_max_bytes is None and result.gpu_temperature_max_c is None:
            continue
        if name == "db_connections" and result.db_connections_max is None:
            continue
        path = directory / f"{name}.png"
        plot_series(name, requests, samples, result, path)
        written[name] = path
    return written
