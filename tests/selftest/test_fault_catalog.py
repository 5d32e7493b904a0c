"""The suite's self-test: every fault of the catalog fails exactly the scenarios guarding its promise.

With no fault every scenario passes; with each fault, the whole suite runs against a stack started
with it, and the set of failed scenarios must equal the expected set, each for the expected reason.
"""
from __future__ import annotations

import pytest

from citadel_stack.faults import CATALOG, fault_name
from tests.harness import all_text_under, embedded_stack, run_suite

# fault -> {scenario name: a fragment its failure message must contain}
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "no_done_marker": {
        "A streamed answer arrives in pieces, ends properly and reports its usage": "ended without it",
    },
    "no_v1_models": {
        "The model list is where OpenAI clients look for it": "expected HTTP 200, got 404",
        "The official OpenAI client lists the models, chats and streams through the gateway": "models.list() failed",
    },
    "health_always_healthy": {
        "A stopped model service is reported unreachable while the gateway keeps answering":
            "is stopped but reported 'healthy', expected 'unreachable'",
    },
    "accept_unknown_key": {
        "A request with an API key the system never issued is refused": "expected 401, got 200",
    },
    "slow_model:phi3:2500": {
        "phi3 answers a chat request completely and in time": "response time for phi3: expected < 2000 ms",
    },
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
    assert len(run.scenarios) >= 16 and not run.failed()
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
