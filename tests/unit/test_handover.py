"""The handover verdict (SC7): READY only when every criterion passed, nothing relaxed, nothing skipped."""
from __future__ import annotations

import json
from pathlib import Path

from citadel_acceptance.report import handover
from citadel_acceptance.report.criteria import CRITERIA


def write_results(directory: Path, outcomes: dict[str, tuple[str, str]]) -> None:
    """One Allure result per scenario: name -> (criterion, status)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, (name, (criterion, status)) in enumerate(outcomes.items()):
        result = {"name": name, "status": status, "labels": [{"name": "story", "value": criterion}],
                  "statusDetails": {"message": f"why {name}"} if status != "passed" else {}}
        (directory / f"{i:04d}-result.json").write_text(json.dumps(result))


def gate(scenario: str, relaxed: bool = False) -> dict:
    return {"scenario": scenario, "name": "response time", "verdict": "passed", "measured": 120.0, "unit": "ms",
            "formula": "last byte - sent", "gate": {"key": "latency.response_ms", "model": "phi3", "compare": "<",
                                                    "unit": "ms", "spec": 300.0, "applied": 2000.0 if relaxed else 300.0,
                                                    "reason": "two CPU cores" if relaxed else "", "relaxed": relaxed}}


def every_criterion(status: str = "passed") -> dict[str, tuple[str, str]]:
    return {f"scenario of {c}": (c, status) for c in CRITERIA if c != "SC7"}


def test_ready_only_when_everything_passed_against_the_plan(tmp_path):
    write_results(tmp_path / "r", every_criterion())
    (tmp_path / "gates.json").write_text(json.dumps([gate("scenario of SC2")]))
    verdict = handover.build(tmp_path / "r", tmp_path / "gates.json", profile="citadel-mvp2")
    assert verdict.ready and verdict.verdict == handover.READY and verdict.reasons == []
    assert [r.verdict for r in verdict.rows] == ["passed"] * 7
    assert [len(r.gates) for r in verdict.rows][:3] == [0, 1, 0]


def test_relaxed_targets_make_a_passing_run_not_ready(tmp_path):
    write_results(tmp_path / "r", every_criterion())
    (tmp_path / "gates.json").write_text(json.dumps([gate("scenario of SC2", relaxed=True)]))
    verdict = handover.build(tmp_path / "r", tmp_path / "gates.json")
    assert verdict.verdict == handover.NOT_READY
    assert verdict.rows[1].verdict == "passed, targets relaxed"
    assert any("latency.response_ms: phi3 < 300 -> 2000 ms. Why: two CPU cores" in r for r in verdict.reasons)


def test_failed_skipped_missing_and_interrupted(tmp_path):
    outcomes = every_criterion()
    outcomes["scenario of SC3"] = ("SC3", "failed")
    outcomes["scenario of SC6"] = ("SC6", "skipped")
    del outcomes["scenario of SC4"]
    write_results(tmp_path / "r", outcomes)
    verdict = handover.build(tmp_path / "r", tmp_path / "missing.json")
    rows = {r.criterion: r for r in verdict.rows}
    assert verdict.verdict == handover.NOT_READY
    assert rows["SC3"].verdict == "failed" and "why scenario of SC3" in rows["SC3"].reasons[0]
    assert rows["SC4"].verdict == "not proven" and rows["SC6"].verdict == "not proven"
    assert rows["SC7"].verdict == "not ready"
    interrupted = handover.build(tmp_path / "r", tmp_path / "missing.json", interrupted=True)
    assert interrupted.verdict == handover.INCOMPLETE and "interrupted" in interrupted.reasons[0]


def test_html_json_and_allure_result_carry_the_verdict(tmp_path):
    write_results(tmp_path / "r", every_criterion())
    (tmp_path / "gates.json").write_text(json.dumps([gate("scenario of SC2", relaxed=True)]))
    verdict = handover.build(tmp_path / "r", tmp_path / "gates.json")
    page = handover.write_html(verdict, tmp_path / "handover.html")
    data = handover.write_json(verdict, tmp_path / "handover.json")
    text = page.read_text()
    assert "<h1 id=\"verdict\">NOT READY</h1>" in text and "SC2" in text and "<script" not in text
    assert json.loads(data.read_text())["ready"] is False
    result = json.loads(handover.allure_result(verdict, tmp_path / "r", page, data).read_text())
    assert result["name"] == "Handover verdict: NOT READY" and result["status"] == "failed"
    assert {a["type"] for a in result["attachments"]} == {"text/html", "application/json"}
    assert all((tmp_path / "r" / a["source"]).exists() for a in result["attachments"])
    again = handover.build(tmp_path / "r", tmp_path / "gates.json")
    assert sum(len(r.scenarios) for r in again.rows) == 6, "the handover result is not read back as a scenario"
    assert "HANDOVER VERDICT: NOT READY" in handover.format_text(verdict)
