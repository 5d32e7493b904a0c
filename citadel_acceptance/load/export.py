"""Evidence from a run: the records as CSV, and PNG plots (matplotlib, Agg backend).

Each function returns bytes; pass `path` to also write them there. The caller attaches them.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from citadel_acceptance.load.records import RequestRecord

CSV_COLUMNS: tuple[str, ...] = tuple(RequestRecord(index=0, request_id="", scheduled=0.0).as_row())


def _written(data: bytes, path: str | Path | None) -> bytes:
    if path is not None:
        Path(path).write_bytes(data)
    return data


def records_csv(records: Sequence[RequestRecord], path: str | Path | None = None) -> bytes:
    """One row per request, times in run seconds (empty cell when the request never got there)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: ("" if v is None else v) for k, v in record.as_row().items()})
    return _written(text.getvalue().encode(), path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure, path: str | Path | None) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return _written(buffer.getvalue(), path)


def _bins(values: Sequence[float]) -> int:
    """40 bins, or one where the values (nearly) coincide: numpy refuses 40 bins over a range float rounding blurs."""
    return 40 if max(values) - min(values) > 1e-6 * max(1.0, abs(max(values))) else 1


def latency_histogram_png(records: Sequence[RequestRecord], title: str = "Latency of successful requests",
                          path: str | Path | None = None) -> bytes:
    """Histograms of E2E and TTFT (ms) over the measured, successful requests."""
    plt = _pyplot()
    ok = [r for r in records if r.ok and not r.warmup]
    e2e = [r.e2e * 1000 for r in ok if r.e2e is not None]
    ttft = [r.ttft * 1000 for r in ok if r.ttft is not None]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    if e2e:
        axis.hist(e2e, bins=_bins(e2e), alpha=0.7, label=f"E2E (n={len(e2e)})")
    if ttft:
        axis.hist(ttft, bins=_bins(ttft), alpha=0.7, label=f"TTFT (n={len(ttft)})")
    axis.set_xlabel("milliseconds")
    axis.set_ylabel("requests")
    axis.set_title(title)
    if e2e or ttft:
        axis.legend()
    else:
        axis.text(0.5, 0.5, "no successful request", ha="center", va="center", transform=axis.transAxes)
    return _png(figure, path)


def latency_timeline_png(records: Sequence[RequestRecord], title: str = "Latency over the run",
                         path: str | Path | None = None) -> bytes:
    """E2E from the sent time and from the scheduled time against when each request was scheduled; errors marked."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 4.5))
    ok = [r for r in records if r.ok]
    failed = [r for r in records if not r.ok]
    axis.scatter([r.scheduled for r in ok], [r.e2e_from_scheduled * 1000 for r in ok], s=10, marker="o",
                 label="E2E from scheduled time", alpha=0.6)
    axis.scatter([r.scheduled for r in ok if r.e2e is not None], [r.e2e * 1000 for r in ok if r.e2e is not None],
                 s=6, marker="x", label="E2E from sent time", alpha=0.8)
    if failed:
        axis.scatter([r.scheduled for r in failed], [((r.end or r.scheduled) - r.scheduled) * 1000 for r in failed],
                     s=18, marker="^", color="red", label=f"errors (n={len(failed)})")
    warm = [r.scheduled for r in records if r.warmup]
    if warm:
        axis.axvspan(0, max(warm), color="grey", alpha=0.15, label="warm-up (not measured)")
    axis.set_xlabel("scheduled send time (s from run start)")
    axis.set_ylabel("latency (ms)")
    axis.set_title(title)
    axis.legend(loc="upper left", fontsize="small")
    return _png(figure, path)
