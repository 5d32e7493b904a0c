"""@requires.prometheus: skipped with the reason where no Prometheus is configured or can run, never passed."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from citadel_acceptance.run import hooks as run_hooks
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.run.session import RunOptions, RunSession
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.target.deployment import DeploymentTarget
from citadel_acceptance.target.embedded import EmbeddedTarget
from citadel_stack.prometheus import part

TAGS = ["allure.story:SC3", "monitoring", "requires.prometheus"]


def session(profile_overrides: dict[str, str], stack_state=None) -> RunSession:
    profile = load_profile("citadel-mvp2", profile_overrides)
    options = RunOptions.from_userdata({"profile": "citadel-mvp2"})
    target = DeploymentTarget() if stack_state is None else EmbeddedTarget(stack_dir=Path("unused"), state=stack_state)
    return RunSession(options=options, profile=profile, thresholds=Thresholds.from_profile(profile), redactor=None,
                      gateway=None, target=target)


def context_for(run: RunSession) -> SimpleNamespace:
    return SimpleNamespace(not_ready="", session=run, gpu=None)


def test_a_profile_without_prometheus_skips_the_monitoring_scenarios_with_the_fix():
    run = session({"monitoring.prometheus_url": ""})
    reason = run_hooks.skip_reason(context_for(run), TAGS)
    assert reason.startswith("@requires.prometheus: profile 'citadel-mvp2' configures no Prometheus")
    assert "-D monitoring.prometheus_url=URL" in reason
    assert run_hooks.skip_reason(context_for(run), ["allure.story:SC1"]) == ""


def test_a_configured_prometheus_runs_them_and_is_named_in_the_properties():
    run = session({})
    assert run_hooks.skip_reason(context_for(run), TAGS) == ""
    assert run.prometheus_url == "http://localhost:9090"


def test_an_embedded_stack_without_the_binary_skips_with_the_stacks_reason(monkeypatch, tmp_path):
    monkeypatch.setenv(part.BINARY_ENV, str(tmp_path / "no-such-prometheus"))
    saved = []
    state = SimpleNamespace(settings={}, prometheus_url="", save=lambda: saved.append(True))
    part.start(state)
    assert saved and state.prometheus_url == "" and "install Debian's `prometheus` package" in state.settings["prometheus_missing"]
    run = session({}, stack_state=state)
    assert "no Prometheus binary is installed" in run_hooks.skip_reason(context_for(run), TAGS)


def test_the_binary_is_found_on_the_path_or_where_the_environment_says(monkeypatch, tmp_path):
    fake = tmp_path / "prometheus"
    fake.write_text("#!/bin/sh\necho 'prometheus, version 9.9.9 (branch: x)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv(part.BINARY_ENV, str(fake))
    assert part.find_binary() == Path(fake) and part.version(fake) == "9.9.9"
