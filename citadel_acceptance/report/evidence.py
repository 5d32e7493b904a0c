"""Evidence for the Allure report: the one module that talks to Allure.

Every attachment passes through the redactor first: no key, password or Authorization header reaches
`allure-results/`. Gate verdicts are also kept in memory and written to `reports/gates.json` at the
end, for the per-criterion summary and the handover verdict.
"""
from __future__ import annotations

import csv
import io
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import allure
from allure_commons.types import AttachmentType

from citadel_acceptance.report.redaction import Redactor
from citadel_acceptance.verdict import Verdict

if TYPE_CHECKING:
    from citadel_acceptance.config.thresholds import Gate

ENVIRONMENT_NOT_READY = "ENVIRONMENT NOT READY"
CATEGORIES = [
    {"name": "Environment not ready", "description": "A part of the target was unreachable or not set up; "
     "nothing was learnt about the product.", "messageRegex": f".*{ENVIRONMENT_NOT_READY}.*",
     "matchedStatuses": ["failed", "broken", "skipped"]},
    {"name": "Product defect", "description": "The target answered, and not as the MVP-2 contract says.",
     "matchedStatuses": ["failed"]},
    {"name": "Suite error", "description": "The suite itself broke (an exception that is not an assertion).",
     "matchedStatuses": ["broken"]},
]


@dataclass
class GateRecord:
    """A verdict with the scenario it belongs to."""

    scenario: str
    feature: str
    criterion: str
    verdict: Verdict
    applied_only: bool = False  # a threshold the scenario resolved but judged nothing by (verdict "applied")


@dataclass
class Evidence:
    """Attaches verdicts and raw data to the current Allure step and remembers every gate."""

    redactor: Redactor
    results_dir: Path
    gates: list[GateRecord] = field(default_factory=list)
    skip_reasons: dict[str, str] = field(default_factory=dict)
    scenario: str = ""
    feature: str = ""
    criterion: str = ""

    def enter_scenario(self, feature: str, scenario: str, criterion: str) -> None:
        """Set the scenario that the next verdicts belong to."""
        self.feature, self.scenario, self.criterion = feature, scenario, criterion

    def record(self, verdict: Verdict, **attachments: Any) -> None:
        """Attach the verdict (value, target, comparison, formula) and any raw data given by name."""
        self.gates.append(GateRecord(self.scenario, self.feature, self.criterion, verdict))
        self.attach_json(f"verdict: {verdict.name}", verdict.as_dict())
        for name, data in attachments.items():
            if isinstance(data, bytes):
                allure.attach(data, name=name, attachment_type=AttachmentType.PNG)
            elif isinstance(data, list) and data and isinstance(data[0], dict):
                self.attach_csv(name, data)
            elif isinstance(data, str) and name.endswith(".csv"):
                allure.attach(self.redactor.text(data), name=name, attachment_type=AttachmentType.CSV)
            elif isinstance(data, str):
                self.attach_text(name, data)
            else:
                self.attach_json(name, data)

    def check(self, verdict: Verdict, **attachments: Any) -> None:
        """Record the verdict with its attachments, then fail the step with its explanation if it failed."""
        self.record(verdict, **attachments)
        if not verdict.passed:
            raise AssertionError(verdict.explanation)

    def attach_json(self, name: str, data: Any) -> None:
        """Attach JSON data, redacted."""
        text = json.dumps(self.redactor.data(_plain(data)), indent=2, default=str)
        allure.attach(text, name=name, attachment_type=AttachmentType.JSON)

    def attach_text(self, name: str, text: str) -> None:
        """Attach plain text, redacted."""
        allure.attach(self.redactor.text(text), name=name, attachment_type=AttachmentType.TEXT)

    def attach_csv(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Attach records as CSV, redacted."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=sorted({k for row in rows for k in row}))
        writer.writeheader()
        writer.writerows(rows)
        allure.attach(self.redactor.text(buffer.getvalue()), name=name, attachment_type=AttachmentType.CSV)

    def record_applied(self, gates: Iterable[Gate]) -> None:
        """Thresholds the current scenario resolved without judging a measurement by them (a load's rate): kept in
        the gate list, so that a relaxed one reaches the handover like any other."""
        judged = {(r.verdict.gate.key, r.verdict.gate.model) for r in self.gates
                  if r.scenario == self.scenario and r.verdict.gate is not None}
        for gate in gates:
            if (gate.key, gate.model) in judged:
                continue
            judged.add((gate.key, gate.model))
            scope = f" for {gate.model}" if gate.model else ""
            relax = f"; relaxed from the spec {gate.spec:g} {gate.unit}: {gate.reason}" if gate.relaxed else ""
            verdict = Verdict(name=f"applied {gate.key}", passed=True, measured=gate.applied, unit=gate.unit, gate=gate,
                              explanation=f"{gate.key}{scope}: applied {gate.applied:g} {gate.unit} ({gate.applied_source}); "
                                          f"no verdict of this scenario was judged by it{relax}")
            self.gates.append(GateRecord(self.scenario, self.feature, self.criterion, verdict, applied_only=True))

    def record_skip(self, scenario: str, reason: str) -> None:
        """Remember why a scenario was skipped: allure-behave keeps no reason for skipped scenarios."""
        self.skip_reasons[scenario] = self.redactor.text(reason)

    def apply_skip_reasons(self) -> None:
        """Write each remembered skip reason into the scenario's Allure result (status details)."""
        if not self.skip_reasons or not self.results_dir.exists():
            return
        for path in self.results_dir.glob("*-result.json"):
            result = json.loads(path.read_text(encoding="utf-8"))
            reason = self.skip_reasons.get(result.get("name", ""))
            if reason and result.get("status") == "skipped" and not result.get("statusDetails"):
                result["statusDetails"] = {"message": reason}
                path.write_text(json.dumps(result), encoding="utf-8")

    def write_gates(self, path: Path) -> None:
        """Write every gate verdict of the run (redacted) for the summary and the handover verdict."""
        path.parent.mkdir(parents=True, exist_ok=True)
        records = [{"scenario": g.scenario, "feature": g.feature, "criterion": g.criterion, **g.verdict.as_dict(),
                    **({"verdict": "applied"} if g.applied_only else {})} for g in self.gates]
        _write_private(path, json.dumps(self.redactor.data(_plain(records)), indent=2, default=str))


def write_run_files(results_dir: Path, properties: Mapping[str, str], redactor: Redactor) -> None:
    """environment.properties, executor.json and categories.json for the Allure report."""
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"{_prop_key(k)}={redactor.text(str(v)).replace(chr(10), ' ')}" for k, v in sorted(properties.items())]
    _write_private(results_dir / "environment.properties", "\n".join(lines) + "\n")
    executor = {"name": os.environ.get("CI_NAME", "CI" if os.environ.get("CI") else platform.node()),
                "type": "ci" if os.environ.get("CI") else "local",
                "buildName": f"Citadel MVP-2 acceptance, profile {properties.get('profile', '?')}",
                "reportName": "Citadel MVP-2 acceptance"}
    _write_private(results_dir / "executor.json", json.dumps(executor, indent=2))
    _write_private(results_dir / "categories.json", json.dumps(CATEGORIES, indent=2))


def _prop_key(key: str) -> str:
    return key.replace(" ", "_").replace("=", "_").replace(":", "_")


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _plain(data: Any) -> Any:
    if hasattr(data, "as_dict"):
        return data.as_dict()
    if isinstance(data, Mapping):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)) or (isinstance(data, Iterable) and not isinstance(data, (str, bytes))):
        return [_plain(v) for v in data]
    return data
