"""The handover verdict (SC7): READY only when every criterion passed, nothing relaxed, nothing skipped."""
from __future__ import annotations

import json
from pathlib import Path

from citadel_acceptance.report import handover, handover_page
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
    page = handover_page.write_html(verdict, tmp_path / "handover.html")
    data = handover.write_json(verdict, tmp_path / "handover.json")
    text = page.read_text()
    assert '<h1 id="verdict" class="notready">NOT READY</h1>' in text and "SC2" in text
    assert "<script src" not in text and "<link" not in text and "http" not in text, "the page stands alone, offline"
    assert json.loads(data.read_text())["ready"] is False
    result = json.loads(handover.allure_result(verdict, tmp_path / "r", page, data).read_text())
    assert result["name"] == "Handover verdict: NOT READY" and result["status"] == "failed"
    assert {a["type"] for a in result["attachments"]} == {"text/html", "application/json"}
    assert all((tmp_path / "r" / a["source"]).exists() for a in result["attachments"])
    again = handover.build(tmp_path / "r", tmp_path / "gates.json")
    assert sum(len(r.scenarios) for r in again.rows) == 6, "the handover result is not read back as a scenario"
    assert "HANDOVER VERDICT: NOT READY" in handover.format_text(verdict)


def test_a_criterion_with_scenarios_that_did_not_run_is_not_proven(tmp_path):
    write_results(tmp_path / "r", every_criterion())
    expected = {c: 1 for c in CRITERIA if c != "SC7"} | {"SC5": 3}
    verdict = handover.build(tmp_path / "r", tmp_path / "missing.json", expected=expected)
    rows = {r.criterion: r for r in verdict.rows}
    assert verdict.verdict == handover.NOT_READY and rows["SC5"].verdict == "not proven" and rows["SC5"].not_run == 2
    assert "2 scenario(s) of the specification have no result" in rows["SC5"].reasons[0]
    assert all(rows[c].verdict == "passed" for c in ("SC1", "SC2", "SC3", "SC4", "SC6"))
    assert handover.build(tmp_path / "r", tmp_path / "missing.json", expected={c: 1 for c in CRITERIA}).ready


def test_the_page_shows_counts_a_short_reason_and_the_relaxed_table(tmp_path):
    outcomes = every_criterion()
    outcomes["scenario of SC3"] = ("SC3", "failed")
    outcomes["second of SC3"] = ("SC3", "failed")
    outcomes["gpu of SC6"] = ("SC6", "skipped")
    write_results(tmp_path / "r", outcomes)
    (tmp_path / "r" / "0100-result.json").write_text(json.dumps(
        {"name": "bytes", "status": "failed", "labels": [{"name": "story", "value": "SC4"}],
         "statusDetails": {"message": "body b'\\x00\\x01' " + "word " * 200}}))
    (tmp_path / "gates.json").write_text(json.dumps([gate("scenario of SC2", relaxed=True)]))
    verdict = handover.build(tmp_path / "r", tmp_path / "gates.json", expected={c: 2 for c in CRITERIA if c != "SC7"})
    rows = {r.criterion: r for r in verdict.rows}
    assert (rows["SC3"].count("failed"), rows["SC6"].not_applicable, rows["SC1"].not_run) == (2, 1, 1)
    assert handover_page.short_reason(rows["SC3"]).endswith("(and 1 more)")
    text = handover_page.write_html(verdict, tmp_path / "handover.html").read_text()
    assert "<td>latency.response_ms</td><td>phi3</td><td>&lt; 300 ms</td><td>&lt; 2000 ms</td><td>two CPU cores</td>" in text
    assert "\\x00" not in text and "word " * 60 not in text, "no raw bytes, no run-on text on the page"
    assert text.index('id="verdict"') < text.index('id="matrix"') < text.index("id='relaxed'") < text.index("details-SC1")


def test_a_message_is_cleaned_to_one_short_line():
    assert handover_page.clean("a\x00b\n\n  c\tb'\\x1f'", 80) == "a b c b' '"
    assert handover_page.clean("word " * 100, 30).endswith(" …") and len(handover_page.clean("word " * 100, 30)) <= 30


def test_a_threshold_no_verdict_was_judged_by_still_reaches_the_handover_when_relaxed(tmp_path):
    """gateway.overhead_load_rps sets the overhead check's load; relaxed, it must still make the run not ready."""
    from citadel_acceptance.config.profile import load_profile
    from citadel_acceptance.config.thresholds import Thresholds
    from citadel_acceptance.report.evidence import Evidence
    from citadel_acceptance.report.redaction import Redactor

    thresholds = Thresholds.from_profile(load_profile("embedded"), {"chat_capacity_rps": 1.0})
    evidence = Evidence(redactor=Redactor(), results_dir=tmp_path / "r")
    evidence.enter_scenario("overhead", "scenario of SC2", "SC2")
    rate = thresholds.resolve("gateway.overhead_load_rps", spec=100)
    evidence.record_applied(thresholds.resolved)
    evidence.record_applied(thresholds.resolved)  # once per key and model
    evidence.write_gates(tmp_path / "gates.json")
    records = json.loads((tmp_path / "gates.json").read_text())
    assert [(r["verdict"], r["gate"]["key"], r["gate"]["applied"]) for r in records] == [("applied", "gateway.overhead_load_rps", 1.0)]
    assert rate.relaxed and "no verdict of this scenario was judged by it; relaxed from the spec 100" in records[0]["explanation"]
    write_results(tmp_path / "r", every_criterion())
    verdict = handover.build(tmp_path / "r", tmp_path / "gates.json")
    assert verdict.verdict == handover.NOT_READY and verdict.rows[1].verdict == "passed, targets relaxed"
    assert any("gateway.overhead_load_rps: all >= 100 -> 1 req/s" in r for r in verdict.reasons), verdict.reasons


def test_a_result_status_that_is_not_a_verdict_is_not_a_pass(tmp_path):
    """Only passed counts as passed: an 'unknown' result (a crashed formatter, an undefined step) proves nothing."""
    outcomes = every_criterion()
    outcomes["scenario of SC3"] = ("SC3", "unknown")
    write_results(tmp_path / "r", outcomes)
    (tmp_path / "gates.json").write_text("[]")
    verdict = handover.build(tmp_path / "r", tmp_path / "gates.json")
    assert verdict.verdict == handover.NOT_READY and verdict.rows[2].verdict == "not proven"
    assert "1 with status 'unknown', which is not a verdict: scenario of SC3" in verdict.rows[2].reasons
