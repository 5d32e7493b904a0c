"""Interoperable by default (issue 15, item 3): the suite judges a gateway built to the plan's own documents.

The plan's health shape (`model_services`) and the current one, health words from the profile, FastAPI's error
bodies beside OpenAI's, model ids served under other names (`[models.ID] alias`), and the key a model service
itself asks for on the suite's direct calls (`[services.NAME] api_key_secret`).
"""
from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from citadel_acceptance.checks.api import health
from citadel_acceptance.checks.api import openai_client
from citadel_acceptance.checks.api import verdicts
from citadel_acceptance.checks.performance import probe as performance
from citadel_acceptance.checks.security import credentials
from citadel_acceptance.config.endpoints import GatewaySettings, HealthSettings
from citadel_acceptance.config.load import Placement
from citadel_acceptance.config.profile import Profile, load_profile
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.target.gateway_client import GatewayClient
from steps import api_steps, auth_steps, health_steps

PLAN_TOML = Path(__file__).resolve().parents[2] / "profiles" / "citadel-mvp2.toml"
ROUTES = {"mixtral": "mixtral", "hermes": "hermes", "openchat": "openchat", "phi3": "phi3"}


def plan_report(statuses: dict[str, str]) -> dict[str, Any]:
    """A /health body in the plan's shape, one model_services entry per key."""
    return {"service": "api_gateway", "status": "healthy", "timestamp": "2026-01-01T00:00:00Z",
            "model_services": {key: {"status": word, "url": f"http://{key}:8000"} for key, word in statuses.items()}}


def current_report(statuses: dict[str, str]) -> dict[str, Any]:
    """A /health body in the reference gateway's shape, model and service of the same name."""
    return {"status": "healthy", "models": {m: {"service": ROUTES[m], "status": w} for m, w in statuses.items()},
            "services": {ROUTES[m]: {"status": w} for m, w in statuses.items()}}


def profile_with(tmp_path: Path, *changes: tuple[str, str], overrides: dict[str, str] | None = None) -> Profile:
    """The plan profile with lines of its text replaced (its commented examples uncommented, for instance)."""
    text = PLAN_TOML.read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "interop.toml"
    path.write_text(text)
    return load_profile(str(path), overrides)


ALIASED = ('# alias = "Phi-3-mini"', 'alias = "Phi-3-mini"')
SERVICE_KEY = (('# api_key_secret = "phi3_service_key"', 'api_key_secret = "phi3_service_key"'),
               ('[secrets]\n', '[secrets]\nphi3_service_key = "CITADEL_PHI3_KEY"\n'))


# Health in the plan's shape and the current one


def test_a_plan_shaped_report_passes_every_health_check():
    body = plan_report({m: "healthy" for m in ROUTES})
    assert health.report_problems(body, ROUTES) == []
    assert health.healthy_problems(body, ROUTES) == []
    assert health.service_states(body, routes=ROUTES) == {s: "healthy" for s in ROUTES.values()}
    assert health.agreement_problems(body, {"phi3": "healthy"}, ROUTES) == []


def test_the_current_shape_still_passes():
    body = current_report({m: "healthy" for m in ROUTES})
    assert health.report_problems(body, ROUTES) == []
    assert health.healthy_problems(body, ROUTES) == []
    assert health.model_states(body) == {m: "healthy" for m in ROUTES}
    assert health.service_states(body) == {s: "healthy" for s in ROUTES.values()}
    wrong = current_report({m: "healthy" for m in ROUTES})
    wrong["models"]["phi3"]["service"] = "hermes"
    assert health.report_problems(wrong, ROUTES) == ["model 'phi3': expected service 'phi3', reported 'hermes'"]


def test_in_the_plan_shape_a_service_is_as_well_as_its_worst_model():
    routes = {"phi3": "small", "openchat": "small", "mixtral": "large"}
    body = plan_report({"phi3": "healthy", "openchat": "unreachable", "mixtral": "ok"})
    assert health.service_states(body, routes=routes) == {"small": "unreachable", "large": "healthy"}
    problems = health.outage_problems(body, "small", routes)
    assert problems == ["model 'phi3' runs on the stopped service but is reported 'healthy'"]


def test_a_plan_shaped_report_may_key_its_entries_by_service_name():
    routes = {"phi3": "small", "openchat": "small"}
    body = plan_report({"small": "unreachable"})
    assert health.report_problems(body, routes) == []
    assert health.outage_problems(body, "small", routes) == []
    assert health.model_states(body, routes=routes) == {"phi3": "unreachable", "openchat": "unreachable"}


def test_words_are_read_through_the_profile_and_named_when_unknown():
    body = plan_report({"phi3": "OK", "mixtral": "green"})
    routes = {"phi3": "phi3", "mixtral": "mixtral"}
    problems = health.report_problems(body, routes)
    assert len(problems) == 1 and "model 'mixtral': status 'green' is none of the profile's health words" in problems[0]
    healthy = health.healthy_problems(body, routes)
    assert healthy == ["model 'mixtral' is reported 'green' (not a health word of the profile)"]
    down = plan_report({"phi3": "down", "mixtral": "healthy"})
    assert health.healthy_problems(down, routes) == ["model 'phi3' is reported 'unhealthy' (reported as 'down')"]
    agreement = health.agreement_problems(down, {"phi3": "unreachable"}, routes)
    assert agreement == ["service 'phi3': the gateway reports 'unhealthy' (reported as 'down'), a direct check finds "
                         "'unreachable'"]
    green = HealthSettings(healthy_words=("green",))
    assert health.healthy_problems(body, routes, green) == ["model 'phi3' is reported 'OK' (not a health word of the "
                                                            "profile)"]


def test_the_profile_may_name_the_shape_and_a_body_of_neither_shape_is_named():
    body = plan_report({"phi3": "healthy"})
    assert health.report_problems(body, {"phi3": "phi3"}, HealthSettings(shape="plan")) == []
    forced = health.report_problems(body, {"phi3": "phi3"}, HealthSettings(shape="current"))
    assert forced == ["expected 'models' with one entry per model ([health] shape = 'current'), got None"]
    neither = health.report_problems({"status": "ok"}, {"phi3": "phi3"})
    assert neither == ["expected 'models' (one entry per model) or the plan's 'model_services', got the keys ['status']"]


def test_the_health_section_is_read_and_checked_with_the_profile(tmp_path):
    profile = load_profile("citadel-mvp2")
    assert profile.health == HealthSettings() and profile.health.state_of("UP") == "healthy"
    custom = profile_with(tmp_path, ('shape = "auto"', 'shape = "plan"'),
                          ('unreachable_words = ["unreachable"]', 'unreachable_words = ["unreachable", "offline"]'))
    assert custom.health.shape == "plan" and custom.health.state_of("Offline") == "unreachable"
    with pytest.raises(SuiteConfigError, match=r"health.shape must be one of auto, current, plan, not 'v2'"):
        profile_with(tmp_path, ('shape = "auto"', 'shape = "v2"'))
    with pytest.raises(SuiteConfigError, match=r"the word 'down' is in both unhealthy_words and unreachable_words"):
        profile_with(tmp_path, ('unreachable_words = ["unreachable"]', 'unreachable_words = ["down"]'))
    assert load_profile("citadel-mvp2", {"health.shape": "current"}).health.shape == "current"


def test_the_health_steps_pass_the_profiles_settings_and_aliases(tmp_path):
    profile = profile_with(tmp_path, ALIASED)
    recorded = []
    body = plan_report({"mixtral": "up", "hermes": "up", "openchat": "up", "Phi-3-mini": "up"})
    context = SimpleNamespace(session=SimpleNamespace(profile=profile),
                              exchange=SimpleNamespace(status=200, body=body, error="", url="http://gw/health"),
                              evidence=SimpleNamespace(check=lambda verdict, **_: recorded.append(verdict)))
    health_steps.step_report_names_models(context)
    health_steps.step_every_service_healthy(context)
    assert all(v.passed for v in recorded), [v.explanation for v in recorded]
    context.exchange.body = plan_report({"mixtral": "up", "hermes": "up", "openchat": "up", "Phi-3": "up"})
    health_steps.step_report_names_models(context)
    assert "model 'phi3' (served as 'Phi-3-mini') is missing from the health report" in recorded[-1].explanation


# Error bodies: OpenAI's and FastAPI's


OPENAI_400 = {"error": {"message": "model 'x' does not exist", "type": "invalid_request_error", "param": "model"}}
FASTAPI_STRING = {"detail": "Model no-such-model-citadel not found"}
FASTAPI_LIST = {"detail": [{"loc": ["body", "messages"], "msg": "List should have at least 1 item after validation",
                            "type": "too_short"}]}


def test_the_style_of_an_error_body_is_told():
    assert verdicts.error_style(OPENAI_400) == "openai"
    assert verdicts.error_style(FASTAPI_STRING) == verdicts.error_style(FASTAPI_LIST) == "fastapi"
    assert verdicts.error_style({"message": "no"}) is None and verdicts.error_style("Bad Request") is None


def test_fastapi_detail_bodies_are_accepted_and_must_name_the_parameter():
    assert verdicts.invalid_request_problems(400, OPENAI_400, "model") == []
    assert verdicts.invalid_request_problems(400, FASTAPI_STRING, "model") == []
    assert verdicts.invalid_request_problems(400, FASTAPI_LIST, "messages") == []
    assert verdicts.invalid_request_problems(400, FASTAPI_LIST, "model") == [
        f"expected the error to name 'model', got detail {str(FASTAPI_LIST['detail'])[:200]!r}"]
    assert verdicts.error_body_problems({"detail": ""}) == ["expected detail to say what is wrong, it is empty"]
    assert "expected detail[0] to be a validation error" in verdicts.error_body_problems({"detail": [{"msg": "x"}]})[0]
    assert "or FastAPI's {'detail': ...}" in verdicts.error_body_problems({"message": "no"})[0]
    assert verdicts.invalid_request_problems(422, FASTAPI_LIST, "messages") == ["expected 400, got 422"]


def test_a_refusal_may_carry_either_style():
    headers = {"WWW-Authenticate": "Bearer"}
    assert credentials.refusal_problems(401, headers, {"detail": "Not authenticated"}) == []
    assert credentials.refusal_problems(401, headers, {"error": {"message": "no key", "type": "auth"}}) == []
    assert credentials.refusal_problems(401, headers, "Unauthorized") != []


def test_the_error_steps_record_which_style_the_body_was():
    recorded = []
    evidence = SimpleNamespace(check=lambda verdict, **_: recorded.append(verdict))
    exchange = SimpleNamespace(status=400, body=FASTAPI_LIST, headers={}, url="http://gw/v1/chat/completions")
    api_steps.step_refused_invalid(SimpleNamespace(exchange=exchange, evidence=evidence), "messages")
    refused = SimpleNamespace(status=401, body=OPENAI_400, headers={"www-authenticate": "Bearer"}, url="http://gw/x")
    auth_steps.step_refused_unauthenticated(SimpleNamespace(exchange=refused, evidence=evidence))
    assert [v.details["error_style"] for v in recorded] == ["fastapi", "openai"]
    assert all(v.passed for v in recorded) and "(error body style: fastapi)" in recorded[0].explanation


# Model ids under the deployment's names


def test_an_alias_is_what_the_suite_sends_and_looks_for(tmp_path):
    profile = profile_with(tmp_path, ALIASED)
    assert profile.served_id("phi3") == "Phi-3-mini" and profile.served_id("mixtral") == "mixtral"
    listed = {"object": "list", "data": [{"id": i, "object": "model"} for i in ("mixtral", "hermes", "openchat",
                                                                                "Phi-3-mini")]}
    assert verdicts.model_list_problems(listed, profile.models, profile.served_ids) == []
    plan_ids = {"object": "list", "data": [{"id": m, "object": "model"} for m in profile.models]}
    problems = verdicts.model_list_problems(plan_ids, profile.models, profile.served_ids)
    assert len(problems) == 1 and "missing 'phi3' (served as 'Phi-3-mini')" in problems[0]
    result = openai_client.OpenAIProbeResult(listed_models=["mixtral", "hermes", "openchat", "phi3"])
    assert openai_client.listing_problems(result, list(profile.models), profile.served_ids) == [
        "the client did not list 'phi3' (served as 'Phi-3-mini') (listed ['hermes', 'mixtral', 'openchat', 'phi3'])"]
    answer = {"object": "chat.completion", "id": "c1", "model": "Phi-3-mini",
              "choices": [{"message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}]}
    assert verdicts.chat_completion_problems(answer, "phi3", "Phi-3-mini") == []
    assert verdicts.chat_completion_problems(answer, "phi3") == ["expected model 'phi3', got 'Phi-3-mini'"]


def test_two_models_may_not_be_served_under_one_id(tmp_path):
    with pytest.raises(SuiteConfigError, match=r"\[models\] serve \['mixtral'\] under two ids"):
        profile_with(tmp_path, ('# alias = "Phi-3-mini"', 'alias = "mixtral"'))


def test_the_chat_step_and_the_load_send_the_deployments_id(tmp_path, monkeypatch):
    profile = profile_with(tmp_path, ALIASED)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    settings = GatewaySettings(base_url="http://gateway")
    gateway = GatewayClient(settings, "a-key")
    gateway._http = httpx.Client(base_url=settings.base_url, transport=httpx.MockTransport(answer))
    api_steps.step_ask_question(SimpleNamespace(session=SimpleNamespace(profile=profile, gateway=gateway)), "phi3")
    assert httpx.Response(200, content=seen[0].content).json()["model"] == "Phi-3-mini"

    factories = []
    monkeypatch.setattr("citadel_acceptance.load.run_load", lambda factory, *args, **kwargs: factories.append(factory))
    monkeypatch.setenv("CITADEL_API_KEY", "a-key")
    performance.model_load(SimpleNamespace(profile=profile), "phi3", 1.0, quiet=True)
    assert factories[0](0).json["model"] == "Phi-3-mini"


def test_the_load_is_placed_where_the_profile_says_and_its_requests_can_travel(tmp_path, monkeypatch):
    profile = profile_with(tmp_path, ALIASED)
    placed = []
    monkeypatch.setattr("citadel_acceptance.load.run_load",
                        lambda factory, schedule, bounds, options, placement=None: placed.append((factory, placement)))
    monkeypatch.setenv("CITADEL_API_KEY", "a-key")
    performance.model_load(SimpleNamespace(profile=profile), "phi3", 100.0, quiet=True)
    factory, placement = placed[0]
    assert placement == profile.load.placement == Placement("local", 0, ""), "the plan's: as many as the load needs"
    assert pickle.loads(pickle.dumps(factory))(3) == factory(3), "worker processes get the same requests"


# The key a model service itself asks for


def test_a_service_key_is_read_from_the_secret_it_names(tmp_path):
    profile = profile_with(tmp_path, *SERVICE_KEY)
    assert profile.services["phi3"].api_key_secret == "phi3_service_key"
    assert profile.service_key("phi3", {"CITADEL_PHI3_KEY": "k-phi3"}) == "k-phi3"
    assert profile.service_key("mixtral", {}) == ""
    with pytest.raises(SuiteConfigError) as missing:
        profile.service_key("phi3", {})
    message = str(missing.value)
    assert "CITADEL_PHI3_KEY" in message and message.count(". ") == 0, "one sentence, naming the variable"
    with pytest.raises(SuiteConfigError, match=r"services.phi3.api_key_secret names 'phi3_service_key', which "
                                               r"\[secrets\] does not define"):
        profile_with(tmp_path, SERVICE_KEY[0])


def test_direct_calls_carry_the_services_own_key(tmp_path, monkeypatch):
    profile = profile_with(tmp_path, *SERVICE_KEY)
    monkeypatch.setenv("CITADEL_PHI3_KEY", "k-phi3")
    seen: list[dict[str, str]] = []

    def fake_get(url: str, headers: dict[str, str], timeout: float) -> httpx.Response:
        seen.append(dict(headers))
        return httpx.Response(200, json={"data": []})

    monkeypatch.setattr(health.httpx, "get", fake_get)
    assert health.direct_status("http://phi3:8000", api_key=profile.service_key("phi3")) == "healthy"
    assert health.direct_status("http://mixtral:8000", api_key=profile.service_key("mixtral")) == "healthy"
    assert seen == [{"Authorization": "Bearer k-phi3"}, {}]

    loads: list[dict[str, Any]] = []
    monkeypatch.setattr(performance, "model_load", lambda session, model, rate, **kwargs: loads.append(kwargs))
    performance.direct_and_through(SimpleNamespace(profile=profile), "phi3", 1.0)
    direct, through = loads
    assert direct["api_key"] == "k-phi3" and direct["base_url"] == "http://localhost:11403"
    assert "api_key" not in through, "through the gateway: the run's own key"
    unkeyed = dataclasses.replace(profile, services={**profile.services,
                                                     "phi3": dataclasses.replace(profile.services["phi3"],
                                                                                 api_key_secret="")})
    performance.direct_and_through(SimpleNamespace(profile=unkeyed), "phi3", 1.0)
    assert loads[2]["api_key"] == "", "no key named: none sent"


def test_every_chat_body_carries_the_served_id_of_a_plan_model():
    """Probes that name a plan id (monitoring, the journey, prompt injections) reach the deployment's id."""
    from citadel_acceptance.config.endpoints import GatewaySettings
    from citadel_acceptance.target.gateway_client import GatewayClient

    gateway = GatewayClient(GatewaySettings(base_url="http://gateway.example"), "a-key", {"phi3": "Phi-3-mini"})
    assert gateway.chat_body("phi3", "hi", 4)["model"] == "Phi-3-mini"
    assert gateway.chat_body("Phi-3-mini", "hi", 4)["model"] == "Phi-3-mini", "a served id is sent as it is"
    assert gateway.chat_body("no-such-model-citadel", "hi", 4)["model"] == "no-such-model-citadel"
    gateway.close()
