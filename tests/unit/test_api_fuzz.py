"""The Schemathesis wrapper: its configuration, how its JSON report is read, and the gates built on it."""
from __future__ import annotations

import tomllib
from pathlib import Path

from citadel_acceptance.checks.security import api_fuzz
from citadel_acceptance.config.convert import section

from citadel_acceptance.checks.security import verdicts as security_gates

REPORT = {
    "operations": {"total": 21, "selected": 21, "tested": 21}, "complete": True, "stop_reason": "completed",
    "test_cases": {"generated": 73, "with_failures": 2}, "errors": [], "seed": 1, "running_time": 3.2,
    "failures": [{"code": "ST101", "title": "Server error", "count": 2, "operations": ["POST /v1/documents"]},
                 {"code": "ST401", "title": "API accepts requests without authentication", "count": 1,
                  "operations": ["POST /v1/embeddings"]}],
    "warnings": {"missing_auth": [], "missing_test_data": ["GET /v1/documents/{doc_id}"]},
}


def test_config_carries_the_key_and_the_negative_only_operations():
    text = api_fuzz.config_text("Bearer ctk_secret", api_fuzz.FuzzSettings(negative_only=("/v1/chat/completions",)))
    config = tomllib.loads(text)
    assert config["headers"]["Authorization"] == "Bearer ctk_secret"
    assert config["operations"] == [{"include-path": "/v1/chat/completions", "generation": {"mode": "negative"}}]


def test_settings_come_from_the_profile_with_defaults():
    settings = section(api_fuzz.FuzzSettings, {"max_examples": 7, "negative_only": []}, "security.fuzz", Path("p.toml"))
    assert settings.max_examples == 7 and settings.negative_only == () and settings.seed == api_fuzz.FuzzSettings.seed


def test_report_failures_by_kind_and_gate_messages():
    report = api_fuzz.FuzzReport(exit_code=1, console="", report=REPORT)
    assert report.failures("ST101") == ["POST /v1/documents"] and report.failure_count("ST101") == 2
    assert report.run_problems() == []
    [problem] = security_gates.fuzz_problems(report, "ST401", "served without a valid key")
    assert problem.startswith("POST /v1/embeddings: served without a valid key (Schemathesis ST401, 1 failure(s)")
    assert security_gates.fuzz_problems(api_fuzz.FuzzReport(0, "", {**REPORT, "failures": []}), "ST101", "x") == []
    assert report.summary()["warnings"] == {"missing_test_data": ["GET /v1/documents/{doc_id}"]}


def test_a_run_that_says_nothing_is_a_problem():
    assert "wrote no report" in api_fuzz.FuzzReport(exit_code=2, console="Error: boom").run_problems()[0]
    untested = api_fuzz.FuzzReport(0, "", {**REPORT, "operations": {"tested": 0}, "errors": [{"title": "Network Error"}]})
    problems = untested.run_problems()
    assert "tested no operation" in problems[0] and "Network Error" in problems[1]


def test_undeclared_security_lists_protected_operations_only():
    document = {"paths": {"/health": {"get": {}}, "/v1/models": {"get": {"security": [{"bearerAuth": []}]}},
                          "/v1/embeddings": {"post": {}}}}
    assert api_fuzz.undeclared_security(document, {"/health"}) == ["POST /v1/embeddings"]
    assert api_fuzz.undeclared_security({**document, "security": [{"bearerAuth": []}]}, {"/health"}) == []
