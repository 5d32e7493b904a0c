"""Per-criterion counts read back from the Allure results of a run."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from citadel_acceptance.criteria import CRITERIA

STATUSES = ("passed", "failed", "broken", "skipped")


@dataclass
class CriterionCounts:
    """How the scenarios of one criterion ended."""

    criterion: str
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Scenarios of this criterion in the run."""
        return sum(self.counts.values())


def read_results(results_dir: Path) -> dict[str, CriterionCounts]:
    """criterion -> counts, from every `*-result.json` (one per scenario) of the run."""
    summary: dict[str, CriterionCounts] = {c: CriterionCounts(c) for c in CRITERIA}
    for path in sorted(results_dir.glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        labels = {label.get("name"): label.get("value") for label in result.get("labels", [])}
        criterion = labels.get("story") or "unassigned"
        entry = summary.setdefault(criterion, CriterionCounts(criterion))
        status = result.get("status", "unknown")
        entry.counts[status] += 1
        if status in ("failed", "broken"):
            message = (result.get("statusDetails") or {}).get("message", "").strip().splitlines()
            entry.failures.append(f"{result.get('name')}: {message[0] if message else status}")
    return summary


def format_table(summary: dict[str, CriterionCounts]) -> str:
    """A plain-text table: criterion, its wording, passed / failed / skipped counts."""
    lines = [f"{'criterion':9} {'passed':>6} {'failed':>6} {'skipped':>7}  statement"]
    for criterion, entry in summary.items():
        failed = entry.counts["failed"] + entry.counts["broken"]
        wording = CRITERIA.get(criterion, "scenarios without a criterion tag")
        note = "" if entry.total else "  (no scenario yet)"
        lines.append(f"{criterion:9} {entry.counts['passed']:>6} {failed:>6} {entry.counts['skipped']:>7}  {wording}{note}")
        lines += [f"{'':9} ✗ {failure}" for failure in entry.failures]
    return "\n".join(lines)
