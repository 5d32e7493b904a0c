"""A skip decided inside a step (the target lacks a feature) keeps its reason in the evidence."""
from __future__ import annotations

from types import SimpleNamespace

from citadel_acceptance.report.evidence import Evidence
from citadel_acceptance.report.redaction import Redactor
from citadel_acceptance.run.hooks import finish_scenario


def _scenario(name: str, status: str, reason: str | None) -> SimpleNamespace:
    return SimpleNamespace(name=name, status=SimpleNamespace(name=status), skip_reason=reason)


def test_a_step_skip_is_recorded_once_and_a_passed_scenario_is_not(tmp_path):
    context = SimpleNamespace(evidence=Evidence(redactor=Redactor(), results_dir=tmp_path))
    finish_scenario(context, _scenario("snapshot", "skipped", "the vector store does not support snapshots"))
    finish_scenario(context, _scenario("chat", "passed", None))
    assert context.evidence.skip_reasons == {"snapshot": "the vector store does not support snapshots"}
    context.evidence.record_skip("gpu", "@requires.gpu: no GPU")
    finish_scenario(context, _scenario("gpu", "skipped", "another reason"))
    assert context.evidence.skip_reasons["gpu"] == "@requires.gpu: no GPU", "the hook's own reason is kept"
