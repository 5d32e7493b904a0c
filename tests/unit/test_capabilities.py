"""Declared capabilities: @requires.<capability> scenarios are NOT APPLICABLE where the profile does not declare them,
@mutates ones run only where mutation is allowed, and the pre-flight check blocks what is declared but missing."""
from __future__ import annotations

import re
from types import SimpleNamespace

import httpx
import pytest

from citadel_acceptance.config.capabilities import CAPABILITIES, CapabilitySettings
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.run import hooks as run_hooks
from citadel_acceptance.run import preflight
from citadel_acceptance.run.session import RunOptions, RunSession
from citadel_acceptance.target.deployment import DeploymentTarget
from citadel_acceptance.target.gateway_client import GatewayClient
from tests.harness import REPO_ROOT

URL = "http://gateway.example:8000"


def session(overrides: dict[str, str] | None = None, userdata: dict[str, str] | None = None,
            gateway: GatewayClient | None = None) -> RunSession:
    profile = load_profile("citadel-mvp2", {"gateway.base_url": URL, **(overrides or {})})
    return RunSession(options=RunOptions.from_userdata({"profile": "citadel-mvp2", **(userdata or {})}),
                      profile=profile, thresholds=Thresholds.from_profile(profile), redactor=None,
                      gateway=gateway, target=DeploymentTarget())


def context_for(run: RunSession) -> SimpleNamespace:
    return SimpleNamespace(not_ready="", session=run, gpu=None)


def test_every_requires_tag_of_the_features_names_a_known_capability():
    tags = set(re.findall(r"@requires\.(\w+)", "\n".join(p.read_text() for p in (REPO_ROOT / "features").rglob("*.feature"))))
    assert tags and tags <= set(CAPABILITIES), sorted(tags - set(CAPABILITIES))
    assert {"chat", "documents", "key_admin", "config_api", "audit_chain", "request_log", "gateway_log", "tls"} <= tags


def test_the_plan_profile_declares_every_capability_but_control_and_the_embedded_one_all():
    assert load_profile("citadel-mvp2", {"gateway.base_url": URL}).capabilities.declared == set(CAPABILITIES) - {"control"}
    assert load_profile("embedded").capabilities.declared == set(CAPABILITIES)


def test_a_scenario_needing_an_undeclared_capability_is_not_applicable_with_its_name():
    run = session({"capabilities.lacks": "documents,key_admin"})
    reason = run_hooks.skip_reason(context_for(run), ["allure.story:SC1", "requires.chat", "requires.documents", "requires.key_admin"])
    assert reason.startswith("NOT APPLICABLE: profile 'citadel-mvp2' does not declare documents, key_admin")
    assert run_hooks.skip_reason(context_for(run), ["requires.chat"]) == ""


def test_unknown_or_missing_declarations_are_configuration_errors():
    with pytest.raises(SuiteConfigError, match=r"lacks names unknown capabilities \['retrievel'\]"):
        load_profile("citadel-mvp2", {"gateway.base_url": URL, "capabilities.lacks": "retrievel"})
    assert "provides is missing" in CapabilitySettings().problems()[0]
    with pytest.raises(SuiteConfigError, match="names no capability"):
        CapabilitySettings(provides=("chat",)).require("chats")


def test_mutating_scenarios_run_only_where_allowed():
    tags = ["allure.story:SC4", "requires.database", "mutates"]
    assert run_hooks.skip_reason(context_for(session()), tags).startswith("@mutates scenarios write to")
    assert run_hooks.skip_reason(context_for(session(userdata={"allow_mutation": "yes"})), tags) == ""
    assert run_hooks.skip_reason(context_for(session({"stack.allow_mutation": "true"})), tags) == ""
    assert load_profile("embedded").allow_mutation


def gateway_answering(statuses: dict[str, int]) -> GatewayClient:
    def answer(request: httpx.Request) -> httpx.Response:
        status = statuses.get(f"{request.method} {request.url.path}", 404)
        return httpx.Response(status, json={"ok": True} if status == 200 else {"detail": "Not Found"})

    client = GatewayClient(load_profile("citadel-mvp2", {"gateway.base_url": URL}).gateway, "sk-test")
    client._http = httpx.Client(base_url=URL, transport=httpx.MockTransport(answer))
    return client


def test_preflight_finds_what_answers_and_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("CITADEL_DATABASE_DSN", raising=False)
    run = session({"capabilities.lacks": "documents", "vector.url": "http://127.0.0.1:9"},
                  gateway=gateway_answering({"POST /v1/chat/completions": 422, "GET /v1/models": 200, "GET /v1/documents": 200,
                                             "GET /health": 200}))
    found = preflight.run_preflight(run, gpu_unavailable=lambda: "NVML Shared Library Not Found")
    by_name = {f.capability: f for f in found.findings}
    assert [f.capability for f in found.findings] == list(CAPABILITIES), "one finding per capability, none raised"
    assert by_name["chat"].state == "found" and not by_name["chat"].blocks
    assert by_name["key_admin"].state == "missing" and by_name["key_admin"].blocks
    assert by_name["key_admin"].detail == "GET /admin/keys answers 404"
    assert by_name["documents"].state == "found" and not by_name["documents"].declared, "found but not declared: a note"
    assert by_name["vector_store"].state == "unreachable" and by_name["vector_store"].blocks
    assert by_name["request_log"].state == "unreachable" and "database_dsn" in by_name["request_log"].detail
    assert by_name["gpu"].state == "missing" and not by_name["gpu"].blocks, "GPU scenarios keep their skip reason"
    assert by_name["streaming"].state == "not probed" and not by_name["streaming"].blocks
    blocking = found.blocking(["chat", "key_admin"])
    assert blocking is by_name["key_admin"]
    assert blocking.failure("citadel-mvp2").startswith("MISSING CAPABILITY: profile 'citadel-mvp2' declares 'key_admin'")
    assert by_name["vector_store"].failure("p").startswith("ENVIRONMENT NOT READY: capability 'vector_store'")
    assert found.blocking(["chat", "streaming"]) is None
    table = found.table()
    assert table.splitlines()[0].startswith("PRE-FLIGHT of profile 'citadel-mvp2': 22 capabilities declared: ")
    assert re.search(r"documents\s+no\s+found: note\s+GET /v1/documents answers 200", table)
    assert found.properties()["preflight.key_admin"] == "declared, missing: GET /admin/keys answers 404"


def test_a_probe_that_raises_is_a_finding_not_a_traceback(monkeypatch):
    run = session(gateway=gateway_answering({}))
    monkeypatch.setattr(preflight, "_backup", lambda profile: (_ for _ in ()).throw(KeyError("backup_command")))
    backup = next(f for f in preflight.run_preflight(run).findings if f.capability == "backup")
    assert backup.state == "unreachable" and backup.detail == "the probe failed: KeyError: 'backup_command'"


def test_a_blocked_scenario_fails_in_its_first_step_with_the_sentence():
    registry = SimpleNamespace()
    match = SimpleNamespace(func=lambda context: "ran", run=None)
    registry.find_match = lambda step: match
    context = SimpleNamespace(_runner=SimpleNamespace(step_registry=registry), blocked="")
    run_hooks.fail_blocked_steps(context)
    assert registry.find_match("step").func(context) == "ran", "nothing blocked: the step's own function"
    context.blocked = "MISSING CAPABILITY: profile 'p' declares 'key_admin', but ..."
    blocked = registry.find_match("step")
    with pytest.raises(AssertionError, match="^MISSING CAPABILITY: profile 'p'"):
        blocked.func(context)
    assert match.func(context) == "ran", "the registry's own match is left alone"


def test_a_part_found_unreachable_inside_a_step_fails_it_with_the_sentence_not_a_traceback():
    from citadel_acceptance.errors import EnvironmentNotReady

    def step(context):
        raise EnvironmentNotReady("the vector store at http://localhost:6333 does not answer (ConnectError)")

    registry = SimpleNamespace(find_match=lambda step_: SimpleNamespace(func=step))
    context = SimpleNamespace(_runner=SimpleNamespace(step_registry=registry), blocked="")
    run_hooks.fail_blocked_steps(context)
    with pytest.raises(AssertionError) as failed:
        registry.find_match("step").func(context)
    assert str(failed.value) == ("ENVIRONMENT NOT READY: the vector store at http://localhost:6333 does not answer "
                                 "(ConnectError)")
    assert failed.value.__cause__ is None and failed.value.__suppress_context__, "one sentence, no chained traceback"


def test_an_unreachable_database_is_named_by_host_never_by_password(monkeypatch):
    monkeypatch.setenv("CITADEL_DATABASE_DSN", "postgresql://citadel:s3cret-pass-42@127.0.0.1:9/citadel_ai")
    found = {f.capability: f for f in preflight.run_preflight(session(gateway=gateway_answering({}))).findings}
    for name in ("database", "request_log", "audit_chain"):
        assert found[name].state == "unreachable" and found[name].blocks, found[name]
        assert "at 127.0.0.1:9/citadel_ai" in found[name].detail and "s3cret-pass-42" not in found[name].detail
