"""The configuration of the stack's Prometheus: scrape jobs, intervals and the rule files to load.

Pure functions of the stack's settings, so that they can be tested without a running server. Faults of
the self-test change what is generated here: a rule file left out, a job scraped at a wrong path, a slow job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from citadel_stack.faults import RULE_FILE_NOT_LOADED, SCRAPE_TARGET_DOWN, SLOW_SCRAPE, FaultSet

RULES_DIR = Path(__file__).resolve().parent / "rules"
GATEWAY_JOB = "citadel-gateway"
VECTOR_STORE_JOB = "qdrant"
SELF_JOB = "prometheus"
ANOMALY_GROUP = "citadel-anomaly"
PLANNED_ANOMALY_WINDOW, PLANNED_ANOMALY_BASELINE = "5m", "1h"
DURATION = re.compile(r"^\d+(ms|s|m|h|d)$")


@dataclass(frozen=True)
class ScrapeSettings:
    """How the stack's Prometheus runs: intervals, the anomaly windows, and the self-test faults it honours."""

    scrape_interval_s: float = 10.0
    evaluation_interval_s: float = 10.0
    anomaly_window: str = PLANNED_ANOMALY_WINDOW
    anomaly_baseline: str = PLANNED_ANOMALY_BASELINE
    rule_file_not_loaded: tuple[str, ...] = ()  # rule file stems left out of rule_files
    wrong_path_jobs: tuple[str, ...] = ()  # fault scrape_target_down:JOB
    vector_store_interval_s: float | None = None  # fault slow_scrape:SECONDS
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_monitoring(cls, monitoring: dict[str, Any], faults: list[str] | tuple[str, ...] = ()) -> ScrapeSettings:
        """From a profile's `[monitoring]` table (the `stack_*` keys) and the stack's fault specs (every part's:
        those of Prometheus are picked out)."""
        active = FaultSet.parse(faults)
        not_loaded = tuple(str(stem) for stem in active.values(RULE_FILE_NOT_LOADED))
        slow = active.value(SLOW_SCRAPE)
        settings = cls(
            scrape_interval_s=float(monitoring.get("stack_scrape_interval_s", cls.scrape_interval_s)),
            evaluation_interval_s=float(monitoring.get("stack_evaluation_interval_s", cls.evaluation_interval_s)),
            anomaly_window=str(monitoring.get("stack_anomaly_window", cls.anomaly_window)),
            anomaly_baseline=str(monitoring.get("stack_anomaly_baseline", cls.anomaly_baseline)),
            rule_file_not_loaded=not_loaded,
            wrong_path_jobs=tuple(str(job) for job in active.values(SCRAPE_TARGET_DOWN)),
            vector_store_interval_s=None if slow is None else float(slow),
        )
        for window in (settings.anomaly_window, settings.anomaly_baseline):
            if not DURATION.match(window):
                raise ValueError(f"[monitoring] anomaly windows must be Prometheus durations such as 10s or 2m, not {window!r}")
        unknown = [stem for stem in not_loaded if not (RULES_DIR / f"{stem}.yml").exists()]
        if unknown:
            known = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.yml")))
            raise ValueError(f"{RULE_FILE_NOT_LOADED.name}:{unknown[0]}: no such rule file; rule files: {known}")
        return settings


def duration(seconds: float) -> str:
    """A Prometheus duration for a number of seconds (1.5 -> 1500ms, 10 -> 10s)."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{int(round(seconds * 1000))}ms"


def rule_files(settings: ScrapeSettings) -> dict[str, str]:
    """Rule file name -> the YAML the server loads: the repository's files, anomaly windows applied."""
    files: dict[str, str] = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        if path.stem in settings.rule_file_not_loaded:
            continue
        text = path.read_text(encoding="utf-8")
        if (settings.anomaly_window, settings.anomaly_baseline) != (PLANNED_ANOMALY_WINDOW, PLANNED_ANOMALY_BASELINE):
            text = yaml.safe_dump(with_anomaly_windows(yaml.safe_load(text), settings), sort_keys=False)
        files[path.name] = text
    return files


def with_anomaly_windows(document: dict[str, Any], settings: ScrapeSettings) -> dict[str, Any]:
    """The anomaly group's windows replaced: recent `[5m]` and `offset 5m`, baseline `[1h]`."""
    for group in document.get("groups", []):
        if group.get("name") != ANOMALY_GROUP:
            continue
        for rule in group["rules"]:
            expr = rule["expr"]
            expr = expr.replace(f"[{PLANNED_ANOMALY_BASELINE}] offset {PLANNED_ANOMALY_WINDOW}",
                                f"[{settings.anomaly_baseline}] offset {settings.anomaly_window}")
            rule["expr"] = expr.replace(f"[{PLANNED_ANOMALY_WINDOW}]", f"[{settings.anomaly_window}]")
    return document


def scrape_config(settings: ScrapeSettings, gateway: str, metrics_path: str, vector_store: str,
                  vector_store_key_file: Path, own_address: str, rule_paths: list[Path]) -> dict[str, Any]:
    """The prometheus.yml of the stack: the gateway, the vector store (Bearer key from a file) and itself."""
    interval = duration(settings.scrape_interval_s)
    vector_job: dict[str, Any] = {
        "job_name": VECTOR_STORE_JOB, "metrics_path": "/metrics",
        "authorization": {"type": "Bearer", "credentials_file": str(vector_store_key_file)},
        "static_configs": [{"targets": [vector_store]}],
    }
    if settings.vector_store_interval_s is not None:
        vector_job["scrape_interval"] = duration(settings.vector_store_interval_s)
        vector_job["scrape_timeout"] = interval
    jobs = [{"job_name": GATEWAY_JOB, "metrics_path": metrics_path, "static_configs": [{"targets": [gateway]}]},
            vector_job, {"job_name": SELF_JOB, "static_configs": [{"targets": [own_address]}]}]
    for job in jobs:
        if job["job_name"] in settings.wrong_path_jobs:  # fault scrape_target_down:JOB
            job["metrics_path"] = "/metrics-moved-elsewhere"
    return {
        "global": {"scrape_interval": interval, "scrape_timeout": interval,
                   "evaluation_interval": duration(settings.evaluation_interval_s)},
        "rule_files": [str(p) for p in rule_paths],
        "scrape_configs": jobs,
    }
