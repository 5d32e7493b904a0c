"""The reference gateway built exactly to the plan's documents (stack option api_shape = "plan", not a fault):
GET /health answers {service, status, timestamp, model_services}, errors are FastAPI's {"detail": ...}. With a
profile that says so (profiles/embedded-plan-api.toml), the health and error scenarios pass against it."""
from __future__ import annotations

import json

import pytest

from tests.harness import all_text_under, run_suite


@pytest.mark.slow
def test_health_and_error_scenarios_pass_against_a_gateway_built_to_the_plan(tmp_path):
    run = run_suite(tmp_path, {"profile": "embedded-plan-api", "stack_dir": str(tmp_path / "stack")},
                    tags="@health or @chat or @auth", names="health|refused")
    assert run.returncode == 0, run.explain()
    assert {"A system in good order is reported healthy", "The health report agrees with a direct check of each model service",
            "A request for a model that is not served is refused with a clear error",
            "A request without any message is refused with a clear error"} <= {
        name for name, (status, _) in run.scenarios.items() if status == "passed"}, run.explain()
    evidence = all_text_under(run.results_dir)
    assert "error body style: fastapi" in evidence and "error body style: openai" not in evidence
    assert "model_services" in evidence, "the health report the scenarios judged is in the plan's shape"


def test_the_plan_shape_is_a_stack_option_the_gateway_validates():
    from citadel_stack.gateway.config import _api_shape
    from citadel_stack.gateway.health import ServiceProbe, plan_health
    from citadel_stack.gateway.config import ModelRoute

    body = plan_health({"phi3": ModelRoute("phi3", "svc", "smollm2")}, {"svc": ServiceProbe("healthy", 1.0, "")},
                       {"svc": "http://127.0.0.1:1"}, "healthy", "2026-12-06T00:00:00+00:00", {"embed": "other"})
    assert body == {"service": "citadel-gateway", "status": "healthy", "timestamp": "2026-12-06T00:00:00+00:00",
                    "model_services": {"phi3": {"status": "healthy", "url": "http://127.0.0.1:1"},
                                       "embed": {"status": "unreachable", "url": ""}}}
    assert json.dumps(body)
    assert _api_shape("plan") == "plan"
    with pytest.raises(ValueError, match="'api_shape' must be one of current, plan"):
        _api_shape("openai")
