"""The stability run's checkpoint: a folder per run id that survives SIGINT and crashes of the suite.

    <checkpoint_dir>/<run_id>/
        checkpoint.json   state: settings, status, soak seconds done, segments, interruptions, process baseline
        requests.csv      one row per request (append-only), soak time in seconds
        samples.csv       one row per sample (append-only): health, memory, connections, GPU, process events
        report.json       the latest report: verdict "incomplete" until the run is complete
        plots/*.png       the latest plot of each series

Rows are appended once per segment, then `checkpoint.json` is replaced atomically (write, fsync,
rename). Rows of a segment the checkpoint does not list (a crash between the two writes) are dropped
when the run is resumed, so the data always matches the checkpoint.
"""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable

CHECKPOINT_FILE, REQUESTS_FILE, SAMPLES_FILE, REPORT_FILE = "checkpoint.json", "requests.csv", "samples.csv", "report.json"
PLOTS_DIR = "plots"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class RequestRow:
    """One request of the soak: when (soak seconds), whether it succeeded, its latency."""

    segment: int
    t: float  # scheduled send time, soak seconds
    ok: bool
    status: int | None
    e2e_s: float | None
    error: str = ""


@dataclass(frozen=True)
class SampleRow:
    """One sample of the soak (soak seconds). A value the source cannot give is None."""

    segment: int
    t: float
    healthy: bool
    health: str  # "healthy", "degraded", "HTTP 500", "ConnectError", ...
    health_ms: float | None
    rss_bytes: float | None
    db_connections: int | None
    gpu_memory_used_bytes: float | None = None
    gpu_temperature_c: float | None = None
    events: str = ""  # process events seen at this sample, '; '-joined ("model_service:x: process 12 ended")


@dataclass
class Checkpoint:
    """The state of one stability run, as last saved."""

    run_id: str
    profile: str
    target: str
    settings: dict[str, Any]
    status: str = "running"  # running | interrupted | complete
    thresholds: dict[str, str] = field(default_factory=dict)  # gate key -> "compare applied" it was judged against
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    elapsed_s: float = 0.0  # soak seconds completed (load applied), summed over every start
    segments: list[dict[str, Any]] = field(default_factory=list)
    starts: list[dict[str, Any]] = field(default_factory=list)  # each start or resume: wall time, elapsed then
    interruptions: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)  # part -> {pid, create_time} at the start
    current: dict[str, dict[str, float]] = field(default_factory=dict)  # part -> the process seen last
    events: list[str] = field(default_factory=list)  # every process event, in order
    version: int = FORMAT_VERSION

    @property
    def complete(self) -> bool:
        """True once the whole duration ran."""
        return self.status == "complete"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _parse(cls: type, row: dict[str, str]) -> Any:
    values: dict[str, Any] = {}
    for f in fields(cls):
        text = row.get(f.name, "")
        kind = str(f.type)
        if kind.startswith("bool"):
            values[f.name] = text == "True"
        elif text == "" and "None" in kind:
            values[f.name] = None
        elif kind.startswith("int"):
            values[f.name] = int(float(text))
        elif kind.startswith("float"):
            values[f.name] = float(text)
        else:
            values[f.name] = text
    return cls(**values)


class CheckpointStore:
    """Reads and writes one run's checkpoint folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def plots_dir(self) -> Path:
        """Where the interim and final plots go."""
        return self.directory / PLOTS_DIR

    def load(self) -> Checkpoint | None:
        """The saved checkpoint, or None when this run id never started here."""
        path = self.directory / CHECKPOINT_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: checkpoint format {data.get('version')} is not {FORMAT_VERSION}")
        return Checkpoint(**data)

    def save(self, checkpoint: Checkpoint) -> None:
        """Replace checkpoint.json atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        checkpoint.updated_at = time.time()
        _atomic_write(self.directory / CHECKPOINT_FILE, json.dumps(asdict(checkpoint), indent=2))

    def append(self, requests: Iterable[RequestRow], samples: Iterable[SampleRow]) -> None:
        """Append one segment's rows (flushed and synced before the checkpoint names the segment)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._append(self.directory / REQUESTS_FILE, RequestRow, requests)
        self._append(self.directory / SAMPLES_FILE, SampleRow, samples)

    @staticmethod
    def _append(path: Path, cls: type, rows: Iterable[Any]) -> None:
        names = [f.name for f in fields(cls)]
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=names, lineterminator="\n")
            if new:
                writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in asdict(row).items()})
            handle.flush()
            os.fsync(handle.fileno())

    def rows(self, segments: int) -> tuple[list[RequestRow], list[SampleRow]]:
        """The rows of the first `segments` segments (what the checkpoint vouches for)."""
        return (self._read(self.directory / REQUESTS_FILE, RequestRow, segments),
                self._read(self.directory / SAMPLES_FILE, SampleRow, segments))

    @staticmethod
    def _read(path: Path, cls: type, segments: int) -> list[Any]:
        if not path.exists():
            return []
        with open(path, newline="", encoding="utf-8") as handle:
            return [row for row in (_parse(cls, r) for r in csv.DictReader(handle)) if row.segment < segments]

    def truncate_to(self, segments: int) -> None:
        """Drop rows of segments the checkpoint does not list (left by a crash between two writes)."""
        for name, cls in ((REQUESTS_FILE, RequestRow), (SAMPLES_FILE, SampleRow)):
            path = self.directory / name
            if path.exists():
                kept = self._read(path, cls, segments)
                path.unlink()
                self._append(path, cls, kept)

    def write_report(self, report: dict[str, Any]) -> Path:
        """Replace report.json atomically; returns its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / REPORT_FILE
        _atomic_write(path, json.dumps(report, indent=2, default=str))
        return path
