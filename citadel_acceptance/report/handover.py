"""The handover verdict (SC7): criteria -> scenarios -> measured values -> targets -> verdict, and why.

Read back from a run's Allure results (one per scenario) and its gates file (every gate's measured value,
spec, applied and relaxed target). "READY for handover to MVP-3" only when every criterion SC1-SC6 was
proven by scenarios that all passed, no target was relaxed and no scenario was skipped; an interrupted
run is "INCOMPLETE"; anything else is "NOT READY", with the reasons in plain words.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from citadel_acceptance.report.criteria import CRITERIA

READY, NOT_READY, INCOMPLETE = "READY for handover to MVP-3", "NOT READY", "INCOMPLETE"
PROVEN_BY_SCENARIOS = tuple(c for c in CRITERIA if c != "SC7")


@dataclass
class ScenarioOutcome:
    """One scenario of the run: its criterion, status, and the first line of its message."""

    name: str
    criterion: str
    status: str
    message: str = ""


@dataclass
class GateLine:
    """One measured gate: value against the spec and the applied target."""

    scenario: str
    name: str
    verdict: str
    measured: Any
    unit: str
    compare: str = ""
    spec: Any = None
    applied: Any = None
    relaxed: bool = False
    reason: str = ""
    formula: str = ""


@dataclass
class CriterionRow:
    """One success criterion in the matrix."""

    criterion: str
    statement: str
    verdict: str  # passed | passed, targets relaxed | failed | not proven | incomplete
    scenarios: list[ScenarioOutcome] = field(default_factory=list)
    gates: list[GateLine] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    not_run: int = 0  # scenarios of the specification with no result, or skipped without a reason (not selected)

    def count(self, *statuses: str) -> int:
        """How many of the row's scenario results have one of `statuses`."""
        return sum(1 for s in self.scenarios if s.status in statuses)

    @property
    def not_applicable(self) -> int:
        """Scenarios skipped with a recorded reason (for example: no GPU to read)."""
        return sum(1 for s in self.scenarios if s.status == "skipped" and s.message)


@dataclass(frozen=True)
class RelaxedTarget:
    """A threshold the run applied looser than the plan: its key, where, plan and applied values, and why."""

    key: str
    scope: str  # a model, or "all"
    compare: str
    plan: float
    applied: float
    unit: str
    why: str


@dataclass
class Handover:
    """The verdict of a run, its reasons, and the matrix behind it."""

    verdict: str
    reasons: list[str]
    rows: list[CriterionRow]
    profile: str = ""
    relaxed: list[RelaxedTarget] = field(default_factory=list)

    @property
    def headline(self) -> str:
        """The verdict in a word or two: READY, NOT READY or INCOMPLETE."""
        return "READY" if self.verdict == READY else self.verdict

    @property
    def ready(self) -> bool:
        """True only for READY."""
        return self.verdict == READY

    @property
    def ran_any(self) -> bool:
        """Whether any scenario ran to a verdict (passed or failed), rather than all being skipped or missing."""
        return any(s.status in ("passed", "failed", "broken") for row in self.rows for s in row.scenarios)


def read_scenarios(results_dir: Path) -> list[ScenarioOutcome]:
    """Every scenario result (`*-result.json`) of the run, with its criterion (the Allure story label)."""
    outcomes = []
    for path in sorted(results_dir.glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        labels = {label.get("name"): label.get("value") for label in result.get("labels", [])}
        if labels.get("story") == "SC7":
            continue  # the handover result itself, from an earlier build of this report
        message = ((result.get("statusDetails") or {}).get("message") or "").strip().splitlines()
        outcomes.append(ScenarioOutcome(str(result.get("name", "?")), labels.get("story") or "unassigned",
                                        str(result.get("status", "unknown")), message[0][:300] if message else ""))
    return outcomes


def read_gates(gates_file: Path) -> list[dict[str, Any]]:
    """The gates file of the run ([] when it is missing or unreadable)."""
    try:
        data = json.loads(gates_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def _gate_line(record: dict[str, Any]) -> GateLine:
    gate = record.get("gate") or {}
    return GateLine(scenario=str(record.get("scenario", "")), name=str(record.get("name", "")),
                    verdict=str(record.get("verdict", "")), measured=record.get("measured"), unit=str(record.get("unit", "")),
                    compare=str(gate.get("compare", "")), spec=gate.get("spec"), applied=gate.get("applied"),
                    relaxed=bool(gate.get("relaxed")), reason=str(gate.get("reason", "")),
                    formula=str(record.get("formula", "")))


NOT_SELECTED = "not selected for this run (behave --tags or --name), or skipped without a recorded reason"


def _row(criterion: str, scenarios: list[ScenarioOutcome], gates: list[GateLine], interrupted: bool,
         expected: int | None) -> CriterionRow:
    failed = [s for s in scenarios if s.status in ("failed", "broken")]
    skipped = [s for s in scenarios if s.status == "skipped"]
    unknown = [s for s in scenarios if s.status not in ("passed", "failed", "broken", "skipped")]
    relaxed = sorted({g.name for g in gates if g.relaxed})
    missing = max(0, expected - len(scenarios)) if expected is not None else 0
    reasons = [f"failed: {s.name}: {s.message}" for s in failed]
    if missing:
        reasons.append(f"{missing} scenario(s) of the specification have no result (not selected for this run)")
    by_reason: dict[str, list[str]] = {}
    for scenario in skipped:  # one line per reason: an unreachable target skips everything for one reason
        by_reason.setdefault(scenario.message or NOT_SELECTED, []).append(scenario.name)
    for why, names in by_reason.items():
        shown = "; ".join(names[:3]) + ("; ..." if len(names) > 3 else "")
        reasons.append(f"{len(names)} skipped ({why}): {shown}")
    for status in sorted({s.status for s in unknown}):  # "unknown", "undefined", ...: not a verdict, never a pass
        names = [s.name for s in unknown if s.status == status]
        reasons.append(f"{len(names)} with status {status!r}, which is not a verdict: {'; '.join(names[:3])}")
    if relaxed:
        reasons.append(f"passed only against relaxed targets: {', '.join(relaxed)}")
    if failed:
        verdict = "failed"
    elif interrupted:
        verdict = "incomplete"
    elif not scenarios or len(skipped) == len(scenarios):
        verdict = "not proven"
        reasons.append("no scenario of this criterion ran to a verdict")
    elif skipped or missing or unknown:
        verdict = "not proven"
    else:
        verdict = "passed, targets relaxed" if relaxed else "passed"
    not_run = missing + sum(1 for s in skipped if not s.message)
    return CriterionRow(criterion, CRITERIA[criterion], verdict, scenarios, gates, reasons, not_run)


def build(results_dir: Path, gates_file: Path, interrupted: bool = False, profile: str = "",
          expected: dict[str, int] | None = None) -> Handover:
    """The matrix and the verdict of the run whose evidence is in `results_dir` and `gates_file`.

    `expected`: how many scenarios the specification holds per criterion (report.inventory); a criterion with fewer
    results than that is "not proven", whatever its results say. Without it only the results are read.
    """
    scenarios = read_scenarios(results_dir)
    gates = [_gate_line(g) for g in read_gates(gates_file)]
    rows = [_row(c, [s for s in scenarios if s.criterion == c], [g for g in gates if _criterion_of(g, scenarios) == c],
                 interrupted, None if expected is None else expected.get(c, 0)) for c in PROVEN_BY_SCENARIOS]
    reasons: list[str] = []
    if interrupted:
        reasons.append("the run was interrupted before it ended: what ran is reported, nothing more is claimed")
    for row in rows:
        if row.verdict not in ("passed",):
            reasons.append(f"{row.criterion} ({row.statement}): {row.verdict}"
                           + (f" - {'; '.join(row.reasons[:4])}" if row.reasons else ""))
    relaxed_rows = relaxed_thresholds(read_gates(gates_file))
    relaxed = relaxed_targets(relaxed_rows)
    if relaxed:
        reasons.append(f"{len(relaxed)} target(s) relaxed by the profile (a relaxed run can pass, never be ready): "
                       + " | ".join(relaxed))
    verdict = INCOMPLETE if interrupted else (READY if not reasons else NOT_READY)
    sc7 = CriterionRow("SC7", CRITERIA["SC7"], "passed" if verdict == READY else verdict.lower(),
                       reasons=[] if verdict == READY else ["see the reasons of the verdict"])
    return Handover(verdict=verdict, reasons=reasons, rows=rows + [sc7], profile=profile, relaxed=relaxed_rows)


def relaxed_thresholds(gates: list[dict[str, Any]]) -> list[RelaxedTarget]:
    """The thresholds the run applied looser than the plan, one per key and model, sorted by key."""
    found: dict[tuple[str, str], RelaxedTarget] = {}
    for gate in (record.get("gate") or {} for record in gates):
        if gate.get("relaxed"):
            scope = str(gate.get("model") or "all")
            found[(str(gate["key"]), scope)] = RelaxedTarget(str(gate["key"]), scope, str(gate["compare"]),
                                                             float(gate["spec"]), float(gate["applied"]),
                                                             str(gate.get("unit", "")), str(gate.get("reason", "")))
    return [found[k] for k in sorted(found)]


def relaxed_targets(relaxed: list[RelaxedTarget]) -> list[str]:
    """The relaxed thresholds as text, one line per key with its models and reason."""
    grouped: dict[str, list[RelaxedTarget]] = {}
    for target in relaxed:
        grouped.setdefault(target.key, []).append(target)
    return [f"{key}: {', '.join(f'{t.scope} {t.compare} {t.plan:g} -> {t.applied:g} {t.unit}' for t in targets)}. "
            f"Why: {targets[0].why}" for key, targets in grouped.items()]


def allure_result(handover: Handover, results_dir: Path, html_page: Path, json_file: Path) -> Path:
    """The verdict as one more Allure result (criterion SC7), with the HTML matrix and the JSON attached."""
    stem = uuid.uuid4().hex
    attachments = []
    for source, kind, name in ((html_page, "text/html", "handover matrix (HTML)"), (json_file, "application/json",
                                                                                     "handover matrix (JSON)")):
        target = f"{stem}-{source.stem}-attachment{source.suffix}"
        (results_dir / target).write_bytes(source.read_bytes())
        attachments.append({"name": name, "source": target, "type": kind})
    now = int(time.time() * 1000)
    result = {
        "uuid": stem, "historyId": "citadel-handover-verdict", "name": f"Handover verdict: {handover.verdict}",
        "fullName": "Citadel MVP-2 handover verdict", "status": "passed" if handover.ready else "failed",
        "statusDetails": {"message": "\n".join(handover.reasons) or "every criterion passed against the plan's targets"},
        "stage": "finished", "start": now, "stop": now, "attachments": attachments,
        "labels": [{"name": "epic", "value": "MVP-2"}, {"name": "story", "value": "SC7"},
                   {"name": "feature", "value": "Handover verdict"}, {"name": "severity", "value": "blocker"}],
        "description": CRITERIA["SC7"],
    }
    path = results_dir / f"{stem}-result.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def _criterion_of(gate: GateLine, scenarios: list[ScenarioOutcome]) -> str:
    for scenario in scenarios:
        if scenario.name == gate.scenario or gate.scenario.startswith(scenario.name):
            return scenario.criterion
    return "unassigned"


def format_text(handover: Handover) -> str:
    """The matrix as console text, the verdict last."""
    lines = [f"{'criterion':9} {'passed':>6} {'failed':>6} {'skipped':>7} {'gates':>5}  verdict"]
    for row in handover.rows:
        counts = {k: sum(1 for s in row.scenarios if s.status in k) for k in (("passed",), ("failed", "broken"), ("skipped",))}
        lines.append(f"{row.criterion:9} {counts[('passed',)]:>6} {counts[('failed', 'broken')]:>6} "
                     f"{counts[('skipped',)]:>7} {len(row.gates):>5}  {row.verdict}: {row.statement}")
    lines.append("")
    lines.append(f"HANDOVER VERDICT: {handover.verdict}")
    lines += [f"  - {reason}" for reason in handover.reasons]
    return "\n".join(lines)


def write_json(handover: Handover, path: Path) -> Path:
    """The matrix and verdict as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**asdict(handover), "ready": handover.ready}, indent=2, default=str), encoding="utf-8")
    return path
