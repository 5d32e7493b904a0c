"""Bad input stops the run before the first scenario with one clear message, and evidence is still written."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness import run_suite

pytestmark = pytest.mark.slow  # each case starts behave (about 2 s)
SECRETS = {"CITADEL_API_KEY": "ctk_test-only-key-123456", "CITADEL_DATABASE_DSN": "postgresql://u:pw-123456@127.0.0.1:1/db",
           "CITADEL_QDRANT_API_KEY": "qdk-test-only-123456",
           "CITADEL_DATABASE_ADMIN_DSN": "postgresql://admin:pw-admin-123456@127.0.0.1:1/db"}


def assert_stopped_with(run, *fragments):
    assert run.returncode != 0
    assert "CITADEL SUITE CANNOT START" in run.output
    for fragment in fragments:
        assert fragment in run.output, run.output[-2000:]
    assert not run.scenarios or all(status != "passed" for status, _ in run.scenarios.values())
    assert (run.results_dir / "environment.properties").exists(), "the run must still write its evidence"
    assert "run.error=" in (run.results_dir / "environment.properties").read_text()


def test_profile_that_does_not_exist(tmp_path):
    run = run_suite(tmp_path, {"profile": "citadel-mvp3"})
    assert_stopped_with(run, "profile 'citadel-mvp3' does not exist", "Known profiles: citadel-mvp2, embedded")


def test_profile_that_does_not_parse(tmp_path):
    (tmp_path / "bad.toml").write_text("[gateway\n")
    run = run_suite(tmp_path / "run", {"profile": str(tmp_path / "bad.toml")})
    assert_stopped_with(run, "is not valid TOML")


def test_unknown_key_in_a_profile(tmp_path):
    (tmp_path / "typo.toml").write_text('extends = "citadel-mvp2"\n[gateway]\nbase_ulr = "http://x"\n')
    run = run_suite(tmp_path / "run", {"profile": str(tmp_path / "typo.toml")})
    assert_stopped_with(run, "unknown key 'gateway.base_ulr'")


def test_missing_secret_names_the_variable(tmp_path):
    env = {"CITADEL_API_KEY": "", "CITADEL_DATABASE_DSN": "", "CITADEL_QDRANT_API_KEY": "", "CITADEL_DATABASE_ADMIN_DSN": ""}
    run = run_suite(tmp_path, {"profile": "citadel-mvp2"}, env=env)
    assert_stopped_with(run, "api_key (environment variable CITADEL_API_KEY)", "Export each variable")


def test_unknown_run_option(tmp_path):
    run = run_suite(tmp_path, {"profil": "embedded"})
    assert_stopped_with(run, "unknown option -D profil")


def test_unreachable_gateway_fails_every_scenario_as_environment_not_ready(tmp_path):
    run = run_suite(tmp_path, {"profile": "citadel-mvp2", "gateway.base_url": "http://127.0.0.1:9"}, env=SECRETS)
    assert run.returncode != 0 and run.scenarios
    assert all(status == "skipped" for status, _ in run.scenarios.values()), run.scenarios
    reasons = [r["statusDetails"]["message"] for r in map(json.loads, map(Path.read_text, run.results_dir.glob("*-result.json")))]
    assert len(reasons) == len(run.scenarios) and all(m.startswith("ENVIRONMENT NOT READY") for m in reasons), reasons
    assert "ENVIRONMENT NOT READY" in run.output and "unreachable at http://127.0.0.1:9/health" in run.output
    properties = (run.results_dir / "environment.properties").read_text()
    assert "run.error=" in properties and "pw-123456" not in properties
