"""The suite's self-test: every fault of the catalog fails exactly the scenarios guarding its promise.

With no fault every scenario passes; with each fault, the whole suite runs against a stack started
with it, and the set of failed scenarios must equal the expected set, each for the expected reason and stopped at the
expected step (a Then-step, named where the scenario has several: tests/selftest/completeness.py).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from citadel_stack.faults import CATALOG, fault_name
from tests.harness import all_text_under, dry_run, embedded_stack, run_suite, shared_stack, stored_objects
from tests.selftest.expectations import At, Early, Expectation, reason_of, step_problem

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
EVERYWHERE = "Every protected endpoint refuses {}"
CREDENTIALS = ("no API key", "a malformed authorization header", "an API key the system never issued", "a revoked API key")
RATE = "The 101st request in a minute is refused with 429, and service resumes after waiting"
ABUSE = "Oversized, malformed and out-of-range requests get a client error that reveals nothing"
TRANSPORT = "Only TLS 1.2 or newer is accepted, and answers carry the security headers"
COMPONENTS = "The components hold their own line"
ISOLATION = "One user cannot read, list, delete or retrieve another user's document"
INJECTION = "Prompt injections, direct and through a document, are not obeyed"
KEYS = "A rotated key works, while the replaced and the revoked values are refused"
JOURNEY = ["The answer cites the user's document", "The request log holds a row for each request the user made",
           "The vector store holds the document with its owner and metadata", "The gateway counts exactly the requests it was sent"]
COLLECTION = "The documents collection is set up with the expected vector size and distance"
FILTER = "A search within one department finds only that department's documents"
SEARCH, CONCURRENT = "Similarity search answers within its target", "20 similarity searches at once all succeed within the target"
RECALL, EMBED = "The deployed search finds what an exact search finds", "Embeddings are computed within their target"
EMBED_SIZE = "Every embedding has the size the collection is set up for"
SCHEMA, PLANS = "Every table, index and constraint the gateway needs exists", "Every critical query of the gateway can use an index"
QUERIES_FAST = "Critical queries stay under the optimised-query target under concurrent load"
BURST, SLOW_STATEMENTS = "200 connections at once are all served, and released afterwards", "No statement of the application is slow on average"
LIFECYCLE, DDL = "The data-lifecycle job removes rows older than the retention period", "The application's database role cannot create a table"
QDRANT_DOWN = "ENVIRONMENT NOT READY: capability 'vector_store' is declared by profile 'embedded', but the pre-flight check could not reach it"
SNAPSHOT = "A snapshot of the documents collection restores with every point"
VECTOR_OUTAGE = "With the vector store down, chat is served and retrieval is refused as unavailable"

# The Then-steps of the scenarios that have several: each case names the one its scenario must stop at (At), so that
# every Then-step is shown failing by some case (tests/selftest/completeness.py). Early: a failure before the Thens.
CHAT_COMPLETE, CHAT_USAGE, CHAT_IN_TIME = ('the answer is a complete chat completion from "<model>"',
                                           "the answer reports how many tokens it used", "the answer arrives within <response_ms> ms")
STREAM_PIECES, STREAM_ENDS, STREAM_USAGE = ("the answer arrives in several pieces",
                                            "the stream tells the application that the answer is complete",
                                            "the stream reports how many tokens the answer used")
OPENAI_MODELS, OPENAI_ANSWERS = ("the client sees every model of the deployment",
                                 "the client receives a complete answer and a complete streamed answer, each with usage")
OUTAGE_ANSWERS, OUTAGE_REPORTED = ("the gateway itself still answers",
                                   "the stopped service and every model it runs are reported unreachable")
COLLECTION_SHAPE, COLLECTION_INDEXES = ("it exists with the expected vector size and distance, and its status is green",
                                        "the fields that searches filter on are indexed")
BURST_SERVED, CONCURRENT_FAST = "every connection is served", "95 % of the searches complete within 150 ms"
RATED_P95, RATED_ERRORS = "95 % of responses complete within <p95_ms> ms", "fewer than 0.1 % of requests fail"
CPU_BELOW, CONFIG_AUDITED = "CPU use stays below 80 %", "the audit trail records the change with its values before and after"
RETRIEVAL_REFUSED = "the question with retrieval is refused as temporarily unavailable, with a clear message"
ABUSE_CLIENT_ERROR, ABUSE_NO_INTERNALS = ("each is refused as the client's mistake, never as a server error",
                                          "no error answer reveals a stack trace, SQL, a file path or a version")
FUZZ_DECLARED, FUZZ_NO_5XX, FUZZ_NO_BYPASS = ("every protected operation of the document declares that it needs a key",
                                              "no generated request caused a server error",
                                              "no protected operation answered a request without a valid key")
VECTOR_KEY, AUDIT_CHAIN = ("the vector store refuses a request without its API key",
                           "the audit trail's hash chain holds, and a modified row breaks it")
INJECTION_RATE, INJECTION_GUARD = ("the share of answers that obey the injection stays within the target",
                                   "the gateway's guard reports catching every one of them")
TLS_VERSIONS, TLS_HEADERS = ("only TLS 1.2 or newer is accepted, with a certificate the client trusts",
                             "answers carry the security headers, and a foreign origin is not let in")
GPU_COUNT, GPU_SIZE = "there are at least 2 GPUs", "each GPU has at least 16 GB of memory"
GPU_ECC, GPU_SLOWDOWN = "no GPU reports an uncorrectable memory error", "no GPU is slowed down by its hardware"
SOAK_SLOPE = "the gateway's resident memory grows by less than 10 MB per hour"
FORECAST_ANSWERS, FORECAST_NO_EXHAUSTION = ("Prometheus answers a forecast query for the horizon",
                                            "neither memory nor disk is forecast to run out within the horizon")

# Each case runs only the features its fault concerns (a behave tag expression): exact within them.

# fault -> (features concerned, {scenario name: a fragment its failure message must contain, or At(the Then-step it
# stops at, the fragment), or Early(the fragment): see tests/selftest/expectations.py})
# Every model answers several times slower: each example row of the chat outline fails its response time. The
# embedded profile holds a model to the larger of the plan's number and 2 x a calibrated answer, so on a fast machine
# the plan's number applies: FACTOR x an answer must pass it too. At 4 mixtral did not on a machine whose answer took
# 388 ms (1 of 4 runs passed mixtral's rated load, plan 1500 ms). Each factor here needs answers over 75-125 ms
# (mixtral 1500/16, hermes 1000/8, openchat 800/8, phi3 300/4), far below any seen on this kind (200-1000 ms), and is
# at least twice the calibrated multiple of 2 (a model three times slower measured 2.5-3 x a calibrated answer).
# The gateway waits FACTOR - 1 times what the model took: 16 for every model made these cases a minute longer.
SLOWER = {"mixtral": 16, "hermes": 8, "openchat": 8, "phi3": 4}
ALL_MODELS_SLOWER = ",".join(f"model_slower:{m}:{SLOWER[m]}" for m in MODELS)
EXPECTED_FAILURES: dict[str, tuple[str, dict[str, Expectation]]] = {
    "no_done_marker": ("@stream", {STREAM: At(STREAM_ENDS, "ended without it")}),
    "no_v1_models": ("@models or @openai", {LIST_OPENAI: "expected HTTP 200, got 404", OPENAI: At(OPENAI_MODELS, "models.list() failed")}),
    "hide_model:phi3": ("@models or @openai", {LIST_OPENAI: "missing 'phi3'", LIST_PLAN: "missing 'phi3'",
                                  OPENAI: At(OPENAI_MODELS, "did not list 'phi3'")}),
    "no_usage": ("@chat or @stream or @openai", {**{CHAT.format(m): At(CHAT_USAGE, "expected a usage object in the answer") for m in MODELS},
                           STREAM: At(STREAM_USAGE, "expected a usage object in the stream's usage chunk"),
                           OPENAI: At(OPENAI_ANSWERS, "carries no usable usage")}),
    "leak_upstream_model": ("@chat or @stream", {**{CHAT.format(m): At(CHAT_COMPLETE, f"expected model '{m}', got 'smollm2'") for m in MODELS},
                                      STREAM: At(STREAM_ENDS, "expected model 'hermes' in every chunk")}),
    ALL_MODELS_SLOWER: ("@chat", {CHAT.format(m): At(CHAT_IN_TIME, f"response time for {m}: expected < ") for m in MODELS}),
    "no_request_validation": ("@chat", {"A request for a model that is not served is refused with a clear error": "expected 400, got 200",
                                        "A request without any message is refused with a clear error": "expected 400, got 200"}),
    "buffered_stream": ("@stream", {STREAM: At(STREAM_PIECES, "the text arrived in one burst, not as it was written")}),
    "single_chunk_stream": ("@stream or @openai", {STREAM: At(STREAM_PIECES, "got 1 chunk(s) with text"),
                                                   OPENAI: At(OPENAI_ANSWERS, "received 1 streamed chunk(s) with text")}),
    "health_omits_model:phi3": ("@health or @outage", {HEALTH_NAMES: "model 'phi3' is missing", HEALTH_MODELS_NAMES: "model 'phi3' is missing",
                                          HEALTH_OK: "model 'phi3' is reported missing",
                                          OUTAGE: At(OUTAGE_REPORTED, "model 'phi3' runs on the stopped service but is reported missing")}),
    "health_reports_down": ("@health", {HEALTH_OK: "is reported 'unreachable'",
                                      HEALTH_AGREES: "the gateway reports 'unreachable', a direct check finds 'healthy'"}),
    "health_always_healthy": ("@outage", {OUTAGE: At(OUTAGE_REPORTED, "is stopped but reported 'healthy', expected 'unreachable'")}),
    "health_fails_during_outage": ("@outage", {OUTAGE: At(OUTAGE_ANSWERS, "expected HTTP 200, got 500")}),
    "accept_unknown_key": ("@auth or @auth_everywhere or @keys", {REFUSED.format(UNKNOWN_KEY): "expected 401, got 200",
                                     EVERYWHERE.format(UNKNOWN_KEY): "expected 401, got",
                                     EVERYWHERE.format("a revoked API key"): "expected 401, got",
                                     KEYS: "old value after rotation: expected 401, got 200"}),
    "auth_optional": ("@auth or @auth_everywhere", {REFUSED.format("no API key"): "expected 401, got 200",
                                EVERYWHERE.format("no API key"): "expected 401, got",
                                EVERYWHERE.format(MALFORMED): "expected 401, got",
                                REFUSED.format(MALFORMED): "expected 401, got 200"}),
    "echo_credential": ("@auth or @auth_everywhere", {NO_ECHO.format(UNKNOWN_KEY): "repeats the credential",
                                  **{EVERYWHERE.format(c): "repeats the credential" for c in CREDENTIALS[1:]},
                                  NO_ECHO.format(MALFORMED): "repeats the credential"}),
    "drop_index:documents_owner_created_at_idx": ("@db_schema or @db_perf", {SCHEMA: "missing index 'documents_owner_created_at_idx'",
                                                             PLANS: "'documents_of_owner' scans documents sequentially"}),
    "slow_query:80": ("@db_perf", {SLOW_STATEMENTS: "slowest statement mean: expected < 50 ms"}),
    "no_request_log": ("@journey", {JOURNEY[1]: "expected 1 request-log row, found 0"}),
    "no_citations": ("@journey", {JOURNEY[0]: "among the citations, got []"}),
    "metadata_not_stored": ("@journey", {JOURNEY[2]: "expected metadata topic='journey', the point says None"}),
    "lifecycle_disabled": ("@db_schema", {LIFECYCLE: "request-log rows are older than 30 days"}),
    "pg_max_connections:100": ("@db_perf", {BURST: At(BURST_SERVED, "concurrent connections served: expected >= 200")}),
    "app_role_can_ddl": ("@db_role", {DDL: "it succeeded (rolled back)"}),
    "table_lock:120": ("@db_perf", {QUERIES_FAST: "expected < 50 ms"}),
    "retrieval_ignores_filter": ("@vector_functional", {FILTER: "has department"}),
    "ignore_filter": ("@vector_functional", {FILTER: "has department"}),
    "wrong_vector_size:384": ("@vector_functional or @journey or (@vector_perf and not @embeddings)", {COLLECTION: At(COLLECTION_SHAPE, "expected vector size 576, the collection has 384"),
                                       # storing the documents the other scenarios search fails first
                                       **{name: Early("Vector dimension error") for name in (*JOURNEY, FILTER, SEARCH, CONCURRENT, RECALL)}}),
    # (wrong_vector_size and vector_store_down leave the embedding scenario out: it needs no vector store, and it
    # times embeddings, which a neighbour would slow as these cases run side by side; embeddings_slower fails it.)
    "embeddings_slower:4": ("@vector_perf", {EMBED: "embedding p95: expected < "}),
    "truncated_embeddings:384": ("@vector_functional", {EMBED_SIZE: "the embedding has 384 dimensions, the collection expects 576"}),
    # The vector store's two performance faults, each on the scenarios it breaks (ONE_SCENARIO): slow search fails the
    # two search-time gates (800 ms, above the embedded profile's 600), an HNSW graph built with m=1, ef_construct=5
    # the recall gate. In one case, the recall scenario's 40 searches waited 800 ms each for nothing.
    "slow_search:800": ("@vector_perf", {SEARCH: "similarity search p95: expected < ",
                                         CONCURRENT: At(CONCURRENT_FAST, "similarity search p95: expected < ")}),
    "degrade_ann:0.95": ("@vector_perf", {RECALL: "recall@10: expected >= 0.95"}),
    # The store never builds the owner index the gateway asks for: the collection check names the field.
    "missing_payload_index:owner": ("@vector_functional", {COLLECTION: At(COLLECTION_INDEXES, "field 'owner' has no payload index")}),
    # The pre-flight check finds Qdrant unreachable: what needs it directly fails at once as not ready; the journey's
    # other scenarios reach the vector store through the gateway, which refuses their documents as unavailable.
    "vector_store_down": ("@vector_functional or @journey or (@vector_perf and not @embeddings)",
                          {**{name: Early(QDRANT_DOWN) for name in (COLLECTION, SNAPSHOT, SEARCH, CONCURRENT, RECALL, JOURNEY[2])},
                           **{name: Early("the vector store is unavailable") for name in (FILTER, *JOURNEY) if name != JOURNEY[2]}}),
}
# Every model answers several times slower under its rated load: each example row of the rated-load outline fails its p95.
ALL_MODELS_SLOWER_LOADED = ALL_MODELS_SLOWER + "|rated load"
RATED, STREAMING = "{} answers within its latency target at its rated load", "{}'s streamed answers report their time to first token and time per token"
# Further cases of faults already above, against other features: "spec|label" keys (label only names the case).
EXPECTED_FAILURES.update({
    ALL_MODELS_SLOWER_LOADED: ("@rated", {RATED.format(m): At(RATED_P95, f"response time p95 under load for {m}: expected < ")
                                          for m in MODELS}),
    "fail_ratio:50": ("@rated", {RATED.format(m): At(RATED_ERRORS, "error rate") for m in MODELS}),
    "no_usage|streaming": ("@streaming", {STREAMING.format(m): "carried no usage: TPOT undefined" for m in MODELS}),
    "gateway_delay:2000": ("@overhead", {"The gateway adds less than 30 ms at 100 requests per second": "gateway overhead (median)"}),
    "cache_disabled": ("@cache", {"A repeated deterministic question is answered from the cache":
                                  "expected the cache-hit counter to grow by 1"}),
    "cpu_hog": ("@resources", {"CPU and memory stay within their limits under normal load": At(CPU_BELOW, "CPU use: expected < 80 %")}),
    "no_restart": ("@recovery", {"A crashed model service is healthy again within 3 minutes":
                                 "time to recover: expected < 10 s, measured inf"}),
    "broken_backup": ("@backup", {"A backup restores every table with the same rows and content": "exited 1"}),
    "config_not_audited": ("@config", {"A configuration change is audited and rolled back": At(CONFIG_AUDITED, "no audit row records the change")}),
    "revoke_not_enforced": ("@keys", {KEYS: "new value after revocation: expected 401, got 200"}),
    "auth_bypass_embeddings": ("@auth_everywhere", {EVERYWHERE.format(c): "POST /v1/embeddings: expected 401" for c in CREDENTIALS}),
    "roles_not_enforced": ("@authz", {"A user key cannot use any operator endpoint": "expected 403",
                                      "A read-only key cannot store documents": "expected 403, got 201"}),
    "rate_limit_off": ("@ratelimit", {RATE: "request 101 in the minute: expected 429, got 200"}),
    "no_retry_after": ("@ratelimit", {RATE: "the 429 carries no Retry-After header"}),
    "stack_trace_in_errors": ("@abuse and not @ratelimit", {ABUSE: At(ABUSE_NO_INTERNALS, "the error body reveals")}),
    "missing_security_header": ("@transport", {TRANSPORT: At(TLS_HEADERS, "X-Content-Type-Options is None, expected nosniff")}),
    "tls_1_0_accepted": ("@transport", {TRANSPORT: At(TLS_VERSIONS, "TLS 1.0 was accepted")}),
    "audit_chain_broken": ("@components", {COMPONENTS: At(AUDIT_CHAIN, "the chain is broken at rows")}),
    "vector_store_no_auth": ("@components", {COMPONENTS: At(VECTOR_KEY, "the vector store answered 200 without a key")}),
    "vector_outage_is_500": ("@vector_outage", {VECTOR_OUTAGE: At(RETRIEVAL_REFUSED, "expected 503, got 500")}),
    "owner_filter_missing": ("@authz", {ISOLATION: "chat with retrieval cited the other user's document"}),
    "injection_guard_off": ("@llm", {INJECTION: At(INJECTION_GUARD, "injections caught by the guard: 0 of 6")}),
    "injection_obeyed": ("@llm", {INJECTION: At(INJECTION_RATE, "prompt-injection hit rate (direct): expected <= 0")}),
    "log_without_request_id": ("@logs", {"The request id of an answer leads to its structured log line":
                                         "no log line carries the request id"}),
})
FUZZ = "Generated requests to every published operation cause no server error and skip no authentication"
EXPECTED_FAILURES.update({
    "invalid_body_is_500": ("@fuzz or (@abuse and not @ratelimit)", {FUZZ: At(FUZZ_NO_5XX, "server error (Schemathesis ST101"),
                                                                      ABUSE: At(ABUSE_CLIENT_ERROR, "malformed JSON: expected 400 or 422, got 500")}),
    "auth_bypass_embeddings|generated requests": ("@fuzz", {FUZZ: At(FUZZ_NO_BYPASS, "POST /v1/embeddings: served without a valid key")}),
    "openapi_without_security": ("@fuzz", {FUZZ: At(FUZZ_DECLARED, "no security requirement: GET /models, GET /v1/models")}),
})

# The stability run (SC6): a 40-second soak per case (the profile's is minutes; the plan's 72 hours), two
# latency windows of 17 requests (one a second: three soaks share the cores, make test's second phase, and a queue
# must not build behind them). On two shared cores a window's p95 can double with what else runs, so
# the self-test holds drift to 2.5 and latency_creep leaves the first window alone, then adds seconds.
# The rate stays fixed (capacity_share 0): the cases count on a known number of requests (every 20th failing),
# and a crashing model must not be asked for a calibration.
SOAK = "@soak"
SHORT_SOAK = {"soak.duration_s": "40", "soak.rate_rps": "1", "soak.capacity_share": "0", "soak.warmup_s": "5", "soak.window_s": "17",
              "soak.interval_s": "2", "soak.checkpoint_every_s": "20", "overrides.stability.duration_h.value": "0.01",
              "overrides.stability.latency_drift_ratio.value": "2.5"}
SOAK_AVAILABLE, SOAK_ERRORS = "The system stays available throughout the run", "Requests keep succeeding throughout the run"
SOAK_DRIFT, SOAK_MEMORY = "Answers do not slow down over the run", "The gateway does not leak memory"
SOAK_RESTARTS = "No part of the system restarts unplanned"
# The gateway's three soak faults share one soak (each breaks a different gate; a soak is the costliest case).
# Soak cases run in make test's second phase: the test suite's three stability runs side by side, nothing else.
SOAK_TRIO = "leak_memory:512,latency_creep:30000:23,intermittent_500:5"
EXPECTED_FAILURES.update({
    SOAK_TRIO: (SOAK, {SOAK_MEMORY: At(SOAK_SLOPE, "gateway memory slope: expected < 300 MB/h"),
                       SOAK_DRIFT: "latency drift: expected <= 2.5 x first window",
                       SOAK_ERRORS: "soak error rate: expected < 0.1 %"}),
    "model_crash_every:5": (SOAK, {SOAK_AVAILABLE: "availability: expected >= 95 %", SOAK_ERRORS: "soak error rate",
                                    SOAK_RESTARTS: "model_service:smollm2: process"}),
})


# GPUs (SC6): read through the gateway's simulated GPUs (this machine has none; with NVML they are skipped).
GPU_PLACE, GPU_MEMORY, GPU_HEAT, GPU_ERRORS, GPU_WORK = ("The planned GPUs are in place with their memory",
    "GPU memory stays within the serving limit", "Every GPU runs clear of its slowdown temperature",
    "No GPU reports an uncorrectable memory error or a hardware slowdown", "The GPUs do the work when the models serve requests")
GPU_STATIC = "@gpu and not @gpu_load"  # the conditions the load does not change: no load applied
GPU_READ = {"gpu.source": "gateway", "gpu.load_s": "6"}  # the userdata of these cases
GPU_SCENARIOS = {GPU_PLACE, GPU_MEMORY, GPU_HEAT, GPU_ERRORS, GPU_WORK}
EXPECTED_FAILURES.update({
    "simulated_gpu:one_missing": (GPU_STATIC, {GPU_PLACE: At(GPU_COUNT, "GPUs present: expected >= 2")}),
    "simulated_gpu:small_memory": (GPU_STATIC, {GPU_PLACE: At(GPU_SIZE, "GPU memory size: expected >= 16")}),
    "simulated_gpu:memory_full": (GPU_STATIC, {GPU_MEMORY: "GPU memory in use: expected <= 0.9"}),
    "simulated_gpu:hot": (GPU_STATIC, {GPU_HEAT: "GPU temperature margin: expected >= 5"}),
    "simulated_gpu:ecc_errors": (GPU_STATIC, {GPU_ERRORS: At(GPU_ECC, "ecc_uncorrected_volatile=2")}),
    "simulated_gpu:throttled": (GPU_STATIC, {GPU_ERRORS: At(GPU_SLOWDOWN, "is slowed down by hw_slowdown")}),
    "simulated_gpu:idle": ("@gpu", {GPU_WORK: "GPU utilisation under load: expected >= 10"}),
})

# Cases that run one scenario only (behave -n on the scenario names). The load cases (rated load, streaming) load all
# four models: each example row of an outline is a gate of its own (tests/selftest/completeness.py).
# embeddings_slower runs its one scenario: the search scenarios read stored vectors and never call /v1/embeddings,
# and leaving them out spares the case storing the 100-document sample.
ONE_SCENARIO = {"embeddings_slower:4": "^Embeddings are computed",
                "truncated_embeddings:384": f"^{EMBED_SIZE}$",
                # the two scenarios the dropped index breaks, and the schema's other: left out are the database's
                # timed scenarios, which a missing index may slow past the plan's 50 ms on a slow machine (56 ms once,
                # a true consequence of the fault, not the one this case shows) and which need the machine alone
                "drop_index:documents_owner_created_at_idx": f"^({SCHEMA}|{PLANS}|{LIFECYCLE})$",
                # the vector store's performance faults leave the embedding scenario out (it needs no vector store)
                "slow_search:800": f"^({SEARCH}|{CONCURRENT})$", "degrade_ann:0.95": f"^{RECALL}$",
                # the lock fault leaves the statement statistics out: a lock a statement waits for inside its
                # execution (a foreign key's check of api_keys in the gateway's inserts) counts in its mean, so
                # whether one of the few such statements of the case waited is chance (143 ms once, in CI); the
                # critical queries wait before execution, which pg_stat_statements does not count
                "table_lock:120": f"^({PLANS}|{QUERIES_FAST}|{BURST})$"}

# The load windows of the self-test are 4 s (the profile's 6), and hold at least 3 requests (load.min_window_requests):
# fail_ratio:50 fails every second chat request, so one of them at least.
SHORT_LOAD = {"load.window_s": "4"}

# Options of a case beyond its stack and faults (behave -D NAME=VALUE).
CASE_USERDATA: dict[str, dict[str, str]] = {
    **{case: GPU_READ for case in EXPECTED_FAILURES if case.startswith("simulated_gpu")},
    # The trio runs beside the other soaks: a busy core can hold llama.cpp's answer to a health probe past its
    # timeout (a "degraded" check while every answer succeeds), so availability, not at stake here, is held to 80 %.
    SOAK_TRIO: {"overrides.availability.percent.value": "80"},
    # model_crash_every too: the gates it must leave passing are drift (held to 10 x here: its own restarts and
    # a busy neighbour move a window's p95) and memory; the ones it breaks do not depend on the machine.
    "model_crash_every:5": {"overrides.stability.latency_drift_ratio.value": "10"},
    **{case: SHORT_LOAD for case in (ALL_MODELS_SLOWER_LOADED, "fail_ratio:50", "no_usage|streaming", "gateway_delay:2000",
                                     "cpu_hog")},
    # A case whose gate waits for something the fault stops from ever happening waits less than the healthy run:
    # the healthy stack raises these alerts within a few seconds and recovers a crashed model in about 2 s.
    "counter_not_incremented": {"monitoring.error_alert_window_s": "8"},
    "latency_not_measured": {"monitoring.anomaly_alert_window_s": "12"},
    "no_restart": {"overrides.recovery.mttr_s.value": "10"},
}


def skipped_gpu_scenarios() -> set[str]:
    """The GPU scenarios, where this machine's NVML cannot be read (they must be skipped, never passed)."""
    from citadel_acceptance.checks.gpu import GpuReader, GpuSettings

    return GPU_SCENARIOS if GpuReader(GpuSettings()).unavailable_reason() else set()


# Monitoring (SC3): each fault runs against the monitoring features it concerns.
TARGETS_UP, SCRAPE_EVERY = "Every part that exposes metrics is being collected", "Metrics are collected at least every 10 seconds"
FAMILIES = "Every planned metric is exposed with its labels and bucket bounds"
COUNTERS = "The gateway's request counters agree with what the clients saw"
RULES, FORECAST = "Every planned alert and predictive rule is loaded", "Memory and disk are not forecast to run out within the forecast horizon"
ERROR_ALERT = "A burst of failing inference requests raises the inference-error alert"
ANOMALY = "A sudden slowdown of a model is flagged as an anomaly"
EXPECTED_FAILURES.update({
    "scrape_target_down:qdrant": ("@monitoring and @scrape", {TARGETS_UP: "qdrant target 127.0.0.1:"}),
    "scrape_target_down:citadel-gateway": ("@monitoring and (@scrape or @forecast)", {
        TARGETS_UP: "server returned HTTP status 404", FORECAST: At(FORECAST_ANSWERS, "answered an empty vector")}),
    "slow_scrape:15": ("@monitoring and @scrape", {SCRAPE_EVERY: "scrape interval: expected <= 10 s, measured 15 s"}),
    "label_missing": ("@monitoring and @metrics", {FAMILIES: "samples lack the label 'service'"}),
    "counter_not_incremented": ("(@monitoring and (@metrics or @errors)) or @journey", {
        JOURNEY[3]: "request counter for hermes: expected to grow by exactly 1, grew by 0",
        COUNTERS: 'model_requests_total{status="success"} of hermes grew by 0, expected exactly 5',
        ERROR_ALERT: "ModelInferenceErrors for phi3 was not pending or firing within 8 s"}),
    "latency_not_measured": ("@monitoring and @anomaly", {
        ANOMALY: "InferenceLatencyAnomaly for openchat was not pending or firing within 12 s"}),
    "rule_file_not_loaded:alerts": ("@monitoring and (@rules or @errors)", {
        RULES: "not loaded: ServiceDown, HighCPUUsage, HighMemoryUsage, ModelInferenceErrors",
        ERROR_ALERT: Early("the alert rule ModelInferenceErrors is not loaded")}),
    "rule_file_not_loaded:predictive": ("@monitoring and @rules", {
        RULES: "not loaded: MemoryExhaustionPredicted, DiskExhaustionPredicted, model:inference_latency_p95_seconds:5m, "
               "InferenceLatencyTrendingUp"}),
    "rule_file_not_loaded:anomaly": ("@monitoring and (@rules or @anomaly)", {
        RULES: "not loaded: model:inference_latency_mean_seconds:recent, InferenceLatencyAnomaly",
        ANOMALY: Early("the alert rule InferenceLatencyAnomaly is not loaded")}),
    "disk_fill:500": ("@monitoring and @forecast", {FORECAST: At(FORECAST_NO_EXHAUSTION, "time to exhaustion for disk: expected >= 0.25 h")}),
})

# `make test` runs tests side by side on the two cores, except those marked `timed`, which run afterwards one
# at a time: a case is timed when a scenario that must pass there measures time or resources, when its fault
# loads the machine (cpu_hog, disk_fill), when it applies load itself (rated load, streaming at normal load,
# the overhead check's load at the calibrated capacity), which would slow every test beside it, or when the threshold
# its fault must break is a multiple of a calibration a busy neighbour would inflate (embeddings_slower), or when the
# case's own length depends on the machine's speed: the loads and windows are calibrated, and model_slower waits
# FACTOR - 1 times what the model took (side by side, model_slower's cases and no_usage's streaming case took 3 times
# as long, 65-119 s against 23-41 s alone). slow_search runs side by side: its searches wait a fixed 800 ms (they do
# not load the machine), only they run, and a neighbour can only slow them further.
TIMED_CASES = {ALL_MODELS_SLOWER, ALL_MODELS_SLOWER_LOADED, "no_request_validation", "fail_ratio:50",
               "no_usage|streaming", "gateway_delay:2000",
               "slow_query:80", "pg_max_connections:100", "table_lock:120",
               "embeddings_slower:4", "cpu_hog", "disk_fill:500"}
# The healthy run in three parts, each on its own stack: the features that measure time or resources (run alone),
TIMED_FEATURES = ("@chat or @rated or @streaming or @overhead or @cache or @resources or @vector_perf or @db_perf "
                  "or @forecast or @alerting or @gpu")
# the stability run, and all the other features (beside other tests). The stability run's healthy part is the soak
# resume test's (tests/stack/test_soak_resume.py): its run, interrupted twice and resumed, must end with every soak
# scenario passed on a healthy stack, nothing left behind and no secret in the evidence; a second healthy soak here
# would prove nothing more and cost make test 45 s of CPU beside the other soaks.
PARTS = {"timed": TIMED_FEATURES, "soak": SOAK, "untimed": f"not ({TIMED_FEATURES} or {SOAK})"}
PROVEN_ELSEWHERE = {"soak": "tests/stack/test_soak_resume.py"}
PART_USERDATA = {"timed": SHORT_LOAD}


def specs_of(case: str) -> tuple[str, ...]:
    """The fault specs a case starts the stack with ("spec,spec|label" -> (spec, spec))."""
    return tuple(case.split("|")[0].split(","))


def test_every_fault_of_the_catalog_has_its_expected_failures():
    assert {fault_name(spec) for case in EXPECTED_FAILURES for spec in specs_of(case)} == set(CATALOG), \
        "a fault without expectations proves nothing"
    assert TIMED_CASES <= set(EXPECTED_FAILURES), "a timed case that is not a case"


@pytest.mark.slow
def test_the_parts_of_the_healthy_run_cover_every_scenario_once():
    parts = {name: set(dry_run(tags)) for name, tags in PARTS.items()}
    everything = set(dry_run(None))
    assert all(parts.values()) and sum(len(p) for p in parts.values()) == len(everything)
    assert set().union(*parts.values()) == everything


def _healthy_part(part: str):
    return pytest.param(part, marks={"timed": [pytest.mark.timed]}.get(part, [pytest.mark.long]))


def stack_secrets(state) -> list[str]:
    """The secrets of an embedded stack that no evidence may hold: admin key, vector key, both database passwords."""
    return [state.admin_key, state.vector_api_key, state.database_dsn.split(":")[2].split("@")[0],
            state.owner_dsn.split(":")[2].split("@")[0]]


def assert_a_healthy_part(run, tags: str, reports: Path, before: dict[str, int], after: dict[str, int],
                          secrets: list[str]) -> None:
    """What every part of the healthy run must show: each selected scenario passed (only the snapshot and, without
    NVML, the GPU scenarios may skip), no test data left behind, no secret in the evidence or the console, and
    Allure's environment, categories and executor written."""
    assert run.returncode == 0, run.explain()
    selected = {name.split(" -- @")[0] for name in dry_run(tags)}  # the rest: "skipped"
    assert len(selected) >= 4 and not run.failed(), {k: v[:300] for k, v in run.failed().items()}
    may_skip = {SNAPSHOT} | skipped_gpu_scenarios()
    assert run.skipped() & selected == may_skip & selected, \
        "only the snapshot scenario (the stand-in has no snapshots) and, without NVML, the GPU ones may skip here"
    assert after == before, f"the run left test data behind: before {before}, after {after}"
    evidence = all_text_under(run.results_dir) + all_text_under(reports) + run.output
    for secret in secrets:
        assert secret not in evidence, "a secret of the stack reached the evidence or the console"
    assert (run.results_dir / "environment.properties").exists()
    assert (run.results_dir / "categories.json").exists() and (run.results_dir / "executor.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("half", [_healthy_part(p) for p in PARTS if p not in PROVEN_ELSEWHERE])
def test_every_scenario_passes_on_a_healthy_stack_and_leaves_nothing_behind(half, tmp_path):
    with embedded_stack(tmp_path / "stack") as state:
        before = stored_objects(state)
        userdata = {"stack_dir": str(tmp_path / "stack"), **PART_USERDATA.get(half, {})}
        run = run_suite(tmp_path / "run", userdata, tags=PARTS[half])
        after = stored_objects(state)
    assert_a_healthy_part(run, PARTS[half], tmp_path / "run" / "reports", before, after, stack_secrets(state))


def test_the_healthy_part_proven_elsewhere_is_proven_there():
    for part, where in PROVEN_ELSEWHERE.items():
        assert "assert_a_healthy_part(" in (Path(__file__).parents[2] / where).read_text(), \
            f"the healthy {part} part is no longer proven by {where}"


# Cases that wait a minute or so (a soak, an alert window, a recovery deadline, 60 slow searches): started first
# (pytest.ini: long).
LONG_CASES = {SOAK_TRIO, "model_crash_every:5", "latency_not_measured", "counter_not_incremented", "no_restart",
              "slow_search:800"}


def _case(fault: str):
    marks = [pytest.mark.timed] if fault in TIMED_CASES else [pytest.mark.soak] if EXPECTED_FAILURES[fault][0] == SOAK else []
    return pytest.param(fault, marks=marks + ([pytest.mark.long] if fault in LONG_CASES else []), id=fault)


# A case whose faults are the gateway's or Prometheus' runs on a stack shared with other such cases, only its gateway
# (and Prometheus, emptied, where the faults change or the features read Prometheus' history) restarted with the
# faults, unless the fault or the features leave something behind that the next case would meet (a dropped index, a
# collection of the wrong size, an unaudited or rolled-back configuration, unchained audit rows), or the features
# stop parts or measure a long run.
NOT_SHARED_FAULTS = {"drop_index", "wrong_vector_size", "config_not_audited", "roles_not_enforced", "audit_chain_broken"}
NOT_SHARED_TAGS = ("@soak", "@outage", "@recovery", "@vector_outage")


def shares_a_stack(fault: str) -> bool:
    """Whether a case may run on the shared stack (see NOT_SHARED_FAULTS)."""
    tags, names = EXPECTED_FAILURES[fault][0], {fault_name(spec) for spec in specs_of(fault)}
    return (all(CATALOG[name].part in ("gateway", "prometheus") for name in names) and not names & NOT_SHARED_FAULTS
            and not any(tag in tags for tag in NOT_SHARED_TAGS))


@contextmanager
def stack_for(fault: str, stack_dir: Path) -> Iterator[str]:
    """The stack directory a case runs against: the shared stack, or one of its own (stopped afterwards)."""
    specs = specs_of(fault)
    if shares_a_stack(fault):
        yield shared_stack(specs, fresh_monitoring="@monitoring" in EXPECTED_FAILURES[fault][0]).stack_dir
        return
    with embedded_stack(stack_dir, faults=specs):
        yield str(stack_dir)


@pytest.mark.slow
@pytest.mark.parametrize("fault", [_case(f) for f in sorted(EXPECTED_FAILURES)])
def test_fault_fails_exactly_its_scenarios(fault, tmp_path):
    tags, expected = EXPECTED_FAILURES[fault]
    with stack_for(fault, tmp_path / "stack") as stack_dir:
        userdata = {"stack_dir": stack_dir, "faults": ",".join(specs_of(fault)),
                    **(SHORT_SOAK if tags == SOAK else {}), **CASE_USERDATA.get(fault, {})}
        run = run_suite(tmp_path / "run", userdata, tags=tags, names=ONE_SCENARIO.get(fault))
    failed = run.failed()
    unexpected = {name: failed[name][:300] for name in set(failed) - set(expected)}
    missing = sorted(set(expected) - set(failed))
    assert not unexpected and not missing, f"fault {fault}: unexpected failures {unexpected}, expected but passed {missing}"
    for scenario, expectation in expected.items():
        fragment, stopped = reason_of(expectation), run.failed_steps.get(scenario)
        assert fragment in failed[scenario], f"{scenario}: expected the reason to say {fragment!r}, got {failed[scenario]!r}"
        problem = step_problem(expectation, stopped and stopped.step_type, stopped and stopped.name)
        assert problem is None, f"{scenario}: {problem}"
    assert run.returncode != 0


@pytest.mark.slow
def test_the_gpu_scenarios_pass_on_healthy_simulated_gpus(tmp_path):
    """The other side of the GPU cases: on simulated GPUs in good order, every GPU scenario runs and passes."""
    stack = shared_stack(("simulated_gpu:healthy",))
    run = run_suite(tmp_path / "run", {"stack_dir": stack.stack_dir, "faults": "simulated_gpu:healthy", **GPU_READ},
                    tags="@gpu")
    assert run.returncode == 0 and not run.failed(), {k: v[:300] for k, v in run.failed().items()}
    assert {name for name, (status, _) in run.scenarios.items() if status == "passed"} == GPU_SCENARIOS


@pytest.mark.slow
def test_every_then_step_is_shown_failing_by_some_case_or_named_test():
    from tests.selftest.completeness import uncovered, unknown

    assert [str(step) for step in uncovered()] == [], "Then-steps nothing makes fail: add a fault and its case, or a test"
    assert unknown() == [], "expectations naming a scenario or step the features do not have, or no step where one is needed"


@pytest.mark.slow
def test_the_completeness_check_names_a_step_no_case_covers(monkeypatch):
    from tests.selftest import completeness

    monkeypatch.setattr(completeness, "EXPECTED_FAILURES", {k: v for k, v in EXPECTED_FAILURES.items() if k != "no_restart"})
    assert [str(step) for step in completeness.uncovered()] == [
        "A crashed model service is healthy again within 3 minutes: Then the service is healthy again within 180 seconds, "
        "restarted by the platform"]
