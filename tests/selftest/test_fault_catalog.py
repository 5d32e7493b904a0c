"""The suite's self-test: every fault of the catalog fails exactly the scenarios guarding its promise.

With no fault every scenario passes; with each fault, the whole suite runs against a stack started
with it, and the set of failed scenarios must equal the expected set, each for the expected reason.
"""
from __future__ import annotations

import pytest

from citadel_stack.faults import CATALOG, fault_name
from tests.harness import all_text_under, embedded_stack, run_suite, stored_objects

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
KEYS = "A rotated key works, while the replaced and the revoked values are refused"
JOURNEY = ["The answer cites the user's document", "The request log holds a row for each request the user made",
           "The vector store holds the document with its owner and metadata", "The gateway counts exactly the requests it was sent"]
COLLECTION = "The documents collection is set up with the expected vector size and distance"
FILTER = "A search within one department finds only that department's documents"
SEARCH, CONCURRENT = "Similarity search answers within its target", "20 similarity searches at once all succeed within the target"
RECALL, EMBED = "The deployed search finds what an exact search finds", "Embeddings are computed within their target"
SCHEMA, PLANS = "Every table, index and constraint the gateway needs exists", "Every critical query of the gateway can use an index"
QUERIES_FAST = "Critical queries stay under the optimised-query target under concurrent load"
BURST, SLOW_STATEMENTS = "200 connections at once are all served, and released afterwards", "No statement of the application is slow on average"
LIFECYCLE, DDL = "The data-lifecycle job removes rows older than the retention period", "The application's database role cannot create a table"
SNAPSHOT = "A snapshot of the documents collection can be taken, listed and removed"
VECTOR_OUTAGE = "With the vector store down, chat is served and retrieval is refused as unavailable"

# The features each fault concerns: the self-test runs those (behave tag expression) against a stack with the fault.
GATEWAY, DATABASE, VECTOR = "@gateway and not @vector and not @load and not @cache", "@database", "@vector"

# fault -> (features concerned, {scenario name: a fragment its failure message must contain})
EXPECTED_FAILURES: dict[str, tuple[str, dict[str, str]]] = {
    "no_done_marker": (GATEWAY, {STREAM: "ended without it"}),
    "no_v1_models": (GATEWAY, {LIST_OPENAI: "expected HTTP 200, got 404", OPENAI: "models.list() failed"}),
    "hide_model:phi3": (GATEWAY, {LIST_OPENAI: "missing ['phi3']", LIST_PLAN: "missing ['phi3']",
                                  OPENAI: "did not list ['phi3']"}),
    "no_usage": (GATEWAY, {**{CHAT.format(m): "expected a usage object in the answer" for m in MODELS},
                           STREAM: "expected a usage object in the stream's usage chunk", OPENAI: "carries no usable usage"}),
    "leak_upstream_model": (GATEWAY, {**{CHAT.format(m): f"expected model '{m}', got 'smollm2'" for m in MODELS},
                                      STREAM: "expected model 'hermes' in every chunk"}),
    "slow_model:phi3:2500": (GATEWAY, {CHAT.format("phi3"): "response time for phi3: expected < 2000 ms"}),
    "no_request_validation": (GATEWAY, {"A request for a model that is not served is refused with a clear error": "expected 400, got 200",
                                        "A request without any message is refused with a clear error": "expected 400, got 200"}),
    "single_chunk_stream": (GATEWAY, {STREAM: "got 1 chunk(s) with text", OPENAI: "received 1 streamed chunk(s) with text"}),
    "health_omits_model:phi3": (GATEWAY, {HEALTH_NAMES: "model 'phi3' is missing", HEALTH_MODELS_NAMES: "model 'phi3' is missing",
                                          HEALTH_OK: "model 'phi3' is reported 'missing'",
                                          OUTAGE: "model 'phi3' runs on the stopped service but is reported None"}),
    "health_reports_down": (GATEWAY, {HEALTH_OK: "is reported 'unreachable'",
                                      HEALTH_AGREES: "the gateway reports 'unreachable', a direct check finds 'healthy'"}),
    "health_always_healthy": (GATEWAY, {OUTAGE: "is stopped but reported 'healthy', expected 'unreachable'"}),
    "health_fails_during_outage": (GATEWAY, {OUTAGE: "expected HTTP 200, got 500"}),
    "accept_unknown_key": (GATEWAY, {REFUSED.format(UNKNOWN_KEY): "expected 401, got 200",
                                     KEYS: "old value after rotation: expected 401, got 200"}),
    "auth_optional": (GATEWAY, {REFUSED.format("no API key"): "expected 401, got 200",
                                REFUSED.format(MALFORMED): "expected 401, got 200"}),
    "echo_credential": (GATEWAY, {NO_ECHO.format(UNKNOWN_KEY): "repeats the credential",
                                  NO_ECHO.format(MALFORMED): "repeats the credential"}),
    "drop_index:documents_owner_created_at_idx": (DATABASE, {SCHEMA: "missing index 'documents_owner_created_at_idx'",
                                                             PLANS: "'documents_of_owner' scans documents sequentially"}),
    "slow_query:80": (DATABASE, {SLOW_STATEMENTS: "slowest statement mean: expected < 50 ms"}),
    "no_request_log": (DATABASE, {JOURNEY[1]: "expected 1 request-log row, found 0"}),
    "lifecycle_disabled": (DATABASE, {LIFECYCLE: "request-log rows are older than 30 days"}),
    "pg_max_connections:100": (DATABASE, {BURST: "concurrent connections served: expected >= 200"}),
    "app_role_can_ddl": (DATABASE, {DDL: "it succeeded (rolled back)"}),
    "retrieval_ignores_filter": (VECTOR, {FILTER: "has department"}),
    "ignore_filter": (VECTOR, {FILTER: "has department"}),
    "wrong_vector_size:384": (VECTOR, {COLLECTION: "expected vector size 576, the collection has 384",
                                       **{name: "Vector dimension error" for name in JOURNEY}, FILTER: "Vector dimension error",
                                       SEARCH: "Vector dimension error", CONCURRENT: "Vector dimension error",
                                       RECALL: "Vector dimension error", EMBED: "Vector dimension error"}),
    "slow_embeddings:250": (VECTOR, {EMBED: "embedding p95: expected < 200 ms"}),
    "degrade_ann:0.3": (VECTOR, {RECALL: "recall@10: expected >= 0.95"}),
    "slow_search:300": (VECTOR, {SEARCH: "similarity search p95: expected < 150 ms",
                                 CONCURRENT: "similarity search p95: expected < 150 ms"}),
    "vector_store_down": (VECTOR, {COLLECTION: "", SNAPSHOT: "", **{name: "the vector store is unavailable" for name in JOURNEY},
                                   FILTER: "the vector store is unavailable", SEARCH: "the vector store is unavailable",
                                   CONCURRENT: "the vector store is unavailable", RECALL: "the vector store is unavailable",
                                   EMBED: "the vector store is unavailable"}),
}
RATED, STREAMING = "{} answers within its latency target at its rated load", "{}'s streamed answers report their time to first token and time per token"
# Further cases of faults already above, against other features: "spec|label" keys (label only names the case).
EXPECTED_FAILURES.update({
    "slow_model:phi3:2500|rated load": ("@rated", {RATED.format("phi3"): "response time p95 under load for phi3: expected < 2000 ms"}),
    "fail_ratio:10": ("@rated", {RATED.format(m): "error rate" for m in MODELS}),
    "no_usage|streaming": ("@streaming", {STREAMING.format(m): "carried no usage: TPOT undefined" for m in MODELS}),
    "gateway_delay:60": ("@overhead", {"The gateway adds less than 30 ms at 100 requests per second": "gateway overhead (median)"}),
    "cache_disabled": ("@cache", {"A repeated deterministic question is answered from the cache":
                                  "expected the cache-hit counter to grow by 1"}),
    "cpu_hog": ("@resources", {"CPU and memory stay within their limits under normal load": "CPU use: expected < 80 %"}),
    "no_restart": ("@recovery", {"A crashed model service is healthy again within 3 minutes":
                                 "time to recover: expected < 30 s, measured inf"}),
    "broken_backup": ("@backup", {"A backup restores every table with the same rows and content": "exited 1"}),
    "config_not_audited": ("@admin", {"A configuration change is audited and rolled back": "no audit row records the change"}),
    "revoke_not_enforced": ("@admin", {KEYS: "new value after revocation: expected 401, got 200"}),
    "log_without_request_id": ("@logs", {"The request id of an answer leads to its structured log line":
                                         "no log line carries the request id"}),
})


def test_every_fault_of_the_catalog_has_its_expected_failures():
    assert {fault_name(spec.split("|")[0]) for spec in EXPECTED_FAILURES} == set(CATALOG), \
        "a fault without expectations proves nothing"


@pytest.mark.slow
def test_every_scenario_passes_on_a_healthy_stack_and_leaves_nothing_behind(tmp_path):
    with embedded_stack(tmp_path / "stack") as state:
        before = stored_objects(state)
        run = run_suite(tmp_path / "run", {"stack_dir": str(tmp_path / "stack")})
        after = stored_objects(state)
        secrets = [state.admin_key, state.vector_api_key, state.database_dsn.split(":")[2].split("@")[0],
                   state.owner_dsn.split(":")[2].split("@")[0]]
    assert run.returncode == 0, run.output[-3000:]
    assert len(run.scenarios) >= 39 and not run.failed(), {k: v[:300] for k, v in run.failed().items()}
    assert run.skipped() == {SNAPSHOT}, "only the snapshot scenario may skip here (the stand-in has no snapshots)"
    assert after == before, f"the run left test data behind: before {before}, after {after}"
    evidence = all_text_under(run.results_dir) + all_text_under(tmp_path / "run" / "reports") + run.output
    for secret in secrets:
        assert secret not in evidence, "a secret of the stack reached the evidence or the console"
    assert (run.results_dir / "environment.properties").exists()
    assert (run.results_dir / "categories.json").exists() and (run.results_dir / "executor.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(EXPECTED_FAILURES))
def test_fault_fails_exactly_its_scenarios(fault, tmp_path):
    tags, expected = EXPECTED_FAILURES[fault]
    spec = fault.split("|")[0]
    with embedded_stack(tmp_path / "stack", faults=(spec,)):
        run = run_suite(tmp_path / "run", {"stack_dir": str(tmp_path / "stack"), "faults": spec}, tags=tags)
    failed = run.failed()
    unexpected = {name: failed[name][:300] for name in set(failed) - set(expected)}
    missing = sorted(set(expected) - set(failed))
    assert not unexpected and not missing, f"fault {fault}: unexpected failures {unexpected}, expected but passed {missing}"
    for scenario, fragment in expected.items():
        assert fragment in failed[scenario], f"{scenario}: expected the reason to say {fragment!r}, got {failed[scenario]!r}"
    assert run.returncode != 0
