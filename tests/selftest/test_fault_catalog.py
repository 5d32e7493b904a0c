"""The suite's self-test: every fault of the catalog fails exactly the scenarios guarding its promise.

With no fault every scenario passes; with each fault, the whole suite runs against a stack started
with it, and the set of failed scenarios must equal the expected set, each for the expected reason.
"""
from __future__ import annotations

import pytest

from citadel_stack.faults import CATALOG, fault_name
from tests.harness import all_text_under, embedded_stack, run_suite

# fault -> {scenario name: a fragment its failure message must contain}
CHAT = "{} answers a chat request completely and in time"
STREAM = "A streamed answer arrives in pieces, ends properly and reports its usage"
OPENAI = "The official OpenAI client lists the models, chats and streams through the gateway"
LIST_OPENAI, LIST_PLAN = "The model list is where OpenAI clients look for it", "The model list is where the MVP-2 plan puts it"
HEALTH_NAMES = "The health report names every model with the service that runs it"
HEALTH_MODELS_NAMES = "The per-model health report names every model with the service that runs it"
HEALTH_OK = "A system in good order is reported healthy"
HEALTH_AGREES = "The health report agrees with a direct check of each model service"
OUTAGE = "A stopped model service is reported unreachable while the gateway keeps answering"
REFUSED, NO_ECHO = "A request with {} is refused", "A refused request with {} does not repeat it back"
UNKNOWN_KEY, MALFORMED = "an API key the system never issued", "a malformed authorization header"
MODELS = ("mixtral", "hermes", "openchat", "phi3")

# fault -> {scenario name: a fragment its failure message must contain}
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "no_done_marker": {STREAM: "ended without it"},
    "no_v1_models": {LIST_OPENAI: "expected HTTP 200, got 404", OPENAI: "models.list() failed"},
    "hide_model:phi3": {LIST_OPENAI: "missing ['phi3']", LIST_PLAN: "missing ['phi3']", OPENAI: "did not list ['phi3']"},
    "no_usage": {**{CHAT.format(m): "expected a usage object in the answer" for m in MODELS},
                 STREAM: "expected a usage object in the stream's usage chunk", OPENAI: "carries no usable usage"},
    "leak_upstream_model": {**{CHAT.format(m): f"expected model '{m}', got 'smollm2'" for m in MODELS},
                            STREAM: "expected model 'hermes' in every chunk"},
    "slow_model:phi3:2500": {CHAT.format("phi3"): "response time for phi3: expected < 2000 ms"},
    "no_request_validation": {"A request for a model that is not served is refused with a clear error": "expected 400, got 200",
                              "A request without any message is refused with a clear error": "expected 400, got 200"},
    "single_chunk_stream": {STREAM: "got 1 chunk(s) with text", OPENAI: "received 1 streamed chunk(s) with text"},
    "health_omits_model:phi3": {HEALTH_NAMES: "model 'phi3' is missing", HEALTH_MODELS_NAMES: "model 'phi3' is missing",
                                HEALTH_OK: "model 'phi3' is reported 'missing'",
                                OUTAGE: "model 'phi3' runs on the stopped service but is reported None"},
    "health_reports_down": {HEALTH_OK: "is reported 'unreachable'",
                            HEALTH_AGREES: "the gateway reports 'unreachable', a direct check finds 'healthy'"},
    "health_always_healthy": {OUTAGE: "is stopped but reported 'healthy', expected 'unreachable'"},
    "health_fails_during_outage": {OUTAGE: "expected HTTP 200, got 500"},
    "accept_unknown_key": {REFUSED.format(UNKNOWN_KEY): "expected 401, got 200"},
    "auth_optional": {REFUSED.format("no API key"): "expected 401, got 200", REFUSED.format(MALFORMED): "expected 401, got 200"},
    "echo_credential": {NO_ECHO.format(UNKNOWN_KEY): "repeats the credential", NO_ECHO.format(MALFORMED): "repeats the credential"},
}


def test_every_fault_of_the_catalog_has_its_expected_failures():
    assert {fault_name(spec) for spec in EXPECTED_FAILURES} == set(CATALOG), "a fault without expectations proves nothing"


@pytest.mark.slow
def test_every_scenario_passes_on_a_healthy_stack_and_no_secret_leaks(tmp_path):
    with embedded_stack(tmp_path / "stack") as state:
        run = run_suite(tmp_path / "run", {"stack_dir": str(tmp_path / "stack")})
        secrets = [state.admin_key, state.database_dsn.split(":")[2].split("@")[0],
                   state.owner_dsn.split(":")[2].split("@")[0]]
    assert run.returncode == 0, run.output[-3000:]
    assert len(run.scenarios) >= 19 and not run.failed(), run.failed()
    evidence = all_text_under(run.results_dir) + all_text_under(tmp_path / "run" / "reports") + run.output
    for secret in secrets:
        assert secret not in evidence, "a secret of the stack reached the evidence or the console"
    assert (run.results_dir / "environment.properties").exists()
    assert (run.results_dir / "categories.json").exists() and (run.results_dir / "executor.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(EXPECTED_FAILURES))
def test_fault_fails_exactly_its_scenarios(fault, tmp_path):
    with embedded_stack(tmp_path / "stack", faults=(fault,)):
        run = run_suite(tmp_path / "run", {"stack_dir": str(tmp_path / "stack"), "faults": fault})
    expected = EXPECTED_FAILURES[fault]
    failed = run.failed()
    assert set(failed) == set(expected), f"fault {fault}: failed {sorted(failed)}, expected {sorted(expected)}"
    for scenario, fragment in expected.items():
        assert fragment in failed[scenario], f"{scenario}: expected the reason to say {fragment!r}, got {failed[scenario]!r}"
    assert run.returncode != 0
