"""Every fault of the embedded stack, each defined once: name, part, what it breaks, argument form.

The parts import these constants (``from citadel_stack.faults import NO_DONE_MARKER``) and ask
``NO_DONE_MARKER in faults``; none compares a fault with a name of its own. The self-test
(tests/selftest/test_fault_catalog.py) names the scenarios each fault must make fail, and
docs/faults.md is generated from this module (``python -m citadel_stack.faults``).
"""
from __future__ import annotations

from .model import Catalog, Fault, Part, fraction, name, number, one_of, whole

CATALOG = Catalog()
_define = CATALOG.define
GATEWAY, VECTOR_STORE, POSTGRES, PROMETHEUS, STACK = (Part.GATEWAY, Part.VECTOR_STORE, Part.POSTGRES, Part.PROMETHEUS,
                                                      Part.STACK)

# --- the gateway: chat, models, health ----------------------------------------------------------------------------
NO_DONE_MARKER = _define("no_done_marker", GATEWAY, "streamed chat completions never send the final 'data: [DONE]' line")
NO_V1_MODELS = _define("no_v1_models", GATEWAY, "the GET /v1/models route does not exist (404); GET /models still works")
HEALTH_ALWAYS_HEALTHY = _define("health_always_healthy", GATEWAY,
                                "/health and /health/models report every service healthy without probing")
ACCEPT_UNKNOWN_KEY = _define("accept_unknown_key", GATEWAY,
                             "any well-formed Bearer key is accepted (unknown keys get role 'user')")
HIDE_MODEL = _define("hide_model", GATEWAY, "leaves MODEL out of /v1/models and /models (it is still served)",
                     name("MODEL", "phi3"))
NO_USAGE = _define("no_usage", GATEWAY, "chat answers carry no usage: none in plain answers, no usage chunk in streams")
LEAK_UPSTREAM_MODEL = _define("leak_upstream_model", GATEWAY,
                              "answers name the upstream model (e.g. smollm2) instead of the model id that was asked for")
NO_REQUEST_VALIDATION = _define("no_request_validation", GATEWAY, "chat requests are not validated: unknown models go to "
                                "the first service, empty messages upstream")
SINGLE_CHUNK_STREAM = _define("single_chunk_stream", GATEWAY,
                              "streamed answers are generated whole and sent as one content chunk")
BUFFERED_STREAM = _define("buffered_stream", GATEWAY, "streamed answers are held back and sent all at once when the "
                          "model has finished (what a buffering reverse proxy does): every chunk, the usage and [DONE] "
                          "intact")
HEALTH_OMITS_MODEL = _define("health_omits_model", GATEWAY, "leaves MODEL out of the health reports",
                             name("MODEL", "phi3"))
HEALTH_REPORTS_DOWN = _define("health_reports_down", GATEWAY,
                              "/health reports every model service unreachable without probing it")
HEALTH_FAILS_DURING_OUTAGE = _define("health_fails_during_outage", GATEWAY,
                                     "/health answers 500 whenever a model service is not healthy")
MODEL_SLOWER = _define("model_slower", GATEWAY, "chat answers of MODEL take FACTOR times as long: after the model's "
                       "own answer (streamed: before its end) the gateway waits FACTOR - 1 times what the model took",
                       name("MODEL", "phi3"), number("FACTOR", "4"))
FAIL_RATIO = _define("fail_ratio", GATEWAY, "answers PERCENT % of chat requests with 500 (every k-th)",
                     whole("PERCENT", "10"))
GATEWAY_DELAY = _define("gateway_delay", GATEWAY, "adds MS ms to every chat request inside the gateway", whole("MS", "60"))
CACHE_DISABLED = _define("cache_disabled", GATEWAY, "the response cache is off: every request reaches the model")

# --- the gateway: security ----------------------------------------------------------------------------------------
AUTH_OPTIONAL = _define("auth_optional", GATEWAY,
                        "a request without a Bearer key (missing or malformed header) is served as an anonymous user")
ECHO_CREDENTIAL = _define("echo_credential", GATEWAY, "401 answers repeat the Authorization header they refused")
REVOKE_NOT_ENFORCED = _define("revoke_not_enforced", GATEWAY, "revoked keys keep working")
AUTH_BYPASS_EMBEDDINGS = _define("auth_bypass_embeddings", GATEWAY, "POST /v1/embeddings answers without authentication")
ROLES_NOT_ENFORCED = _define("roles_not_enforced", GATEWAY, "any valid key may use admin routes and store documents")
RATE_LIMIT_OFF = _define("rate_limit_off", GATEWAY, "no rate limit")
NO_RETRY_AFTER = _define("no_retry_after", GATEWAY, "429 answers carry no Retry-After header")
STACK_TRACE_IN_ERRORS = _define("stack_trace_in_errors", GATEWAY,
                                "error answers carry a Python traceback with file paths")
MISSING_SECURITY_HEADER = _define("missing_security_header", GATEWAY, "answers lack X-Content-Type-Options: nosniff")
TLS_1_0_ACCEPTED = _define("tls_1_0_accepted", GATEWAY, "the HTTPS listener accepts TLS 1.0 (and weak ciphers)")
VECTOR_OUTAGE_IS_500 = _define("vector_outage_is_500", GATEWAY,
                               "with the vector store unreachable, retrieval answers 500 (unhandled) instead of 503")
INVALID_BODY_IS_500 = _define("invalid_body_is_500", GATEWAY,
                              "a request body the gateway refuses as invalid answers 500 (a crash) instead of 400")
OPENAPI_WITHOUT_SECURITY = _define("openapi_without_security", GATEWAY,
                                   "the OpenAPI document declares no authentication for any operation")
OWNER_FILTER_MISSING = _define("owner_filter_missing", GATEWAY, "retrieval searches every owner's documents")
INJECTION_GUARD_OFF = _define("injection_guard_off", GATEWAY,
                              "no prompt-injection guard on user messages and retrieved passages")
INJECTION_OBEYED = _define("injection_obeyed", GATEWAY, "no guard, and the answer becomes what an injection asks for "
                           "(a gateway and model that obey)")

# --- the gateway: database, documents, audit, metrics ---------------------------------------------------------------
DROP_INDEX = _define("drop_index", GATEWAY, "drops the index NAME after the migrations ran",
                     name("NAME", "documents_owner_created_at_idx"))
SLOW_QUERY = _define("slow_query", GATEWAY, "every request-log write runs a pg_sleep of MS ms first", whole("MS", "200"))
NO_REQUEST_LOG = _define("no_request_log", GATEWAY, "no request-log row is written")
LOG_WITHOUT_REQUEST_ID = _define("log_without_request_id", GATEWAY, "request log lines carry no request id")
NO_CITATIONS = _define("no_citations", GATEWAY, "chat answers with retrieval are built from the retrieved passages but "
                       "list no citations")
METADATA_NOT_STORED = _define("metadata_not_stored", GATEWAY, "a stored document's vector point keeps only the run id of "
                              "its metadata (its owner, and its row in PostgreSQL, are intact)")
RETRIEVAL_IGNORES_FILTER = _define("retrieval_ignores_filter", GATEWAY,
                                   "retrieval ignores the metadata filter (the owner filter still applies)")
WRONG_VECTOR_SIZE = _define("wrong_vector_size", GATEWAY, "creates the documents collection with N dimensions",
                            whole("N", "384"))
EMBEDDINGS_SLOWER = _define("embeddings_slower", GATEWAY, "answers of POST /v1/embeddings take FACTOR times as long "
                            "(the gateway waits FACTOR - 1 times what the embedding service took)", number("FACTOR", "4"))
TRUNCATED_EMBEDDINGS = _define("truncated_embeddings", GATEWAY, "answers of POST /v1/embeddings carry only the first "
                               "DIMS numbers of each vector (documents stored through the gateway keep whole vectors)",
                               whole("DIMS", "384"))
LIFECYCLE_DISABLED = _define("lifecycle_disabled", GATEWAY, "the data-lifecycle job deletes nothing")
CONFIG_NOT_AUDITED = _define("config_not_audited", GATEWAY, "admin changes (configuration, keys) leave no audit row")
AUDIT_CHAIN_BROKEN = _define("audit_chain_broken", GATEWAY, "audit rows are not chained (prev_hash is random)")
COUNTER_NOT_INCREMENTED = _define("counter_not_incremented", GATEWAY,
                                  "model_requests_total is exported with its labels but never incremented")
LABEL_MISSING = _define("label_missing", GATEWAY,
                        "model_requests_total is exported with an empty service label (absent to Prometheus)")
LATENCY_NOT_MEASURED = _define("latency_not_measured", GATEWAY,
                               "model_inference_duration_seconds observes 0 s for every request")

# --- the gateway: what only a stability run (SC6) shows, and simulated GPUs ------------------------------------------
LEAK_MEMORY = _define("leak_memory", GATEWAY, "keeps KB kilobytes per request for the life of the gateway",
                      whole("KB", "512"))
LATENCY_CREEP = _define("latency_creep", GATEWAY, "delays chat requests by MS_PER_MIN ms per minute from AFTER_S s "
                        "(default 0) after the first", whole("MS_PER_MIN", "600"), whole("AFTER_S", "30", default=0))
INTERMITTENT_500 = _define("intermittent_500", GATEWAY, "answers PERCENT % of /v1/ requests with 500 (every k-th)",
                           whole("PERCENT", "5"))
SIMULATED_GPU_CONDITIONS = ("healthy", "hot", "memory_full", "ecc_errors", "throttled", "one_missing", "small_memory",
                            "idle")
SIMULATED_GPU = _define("simulated_gpu", GATEWAY, "not a defect: GET /health/gpu serves two simulated 16 GB GPUs, busy "
                        "while chat requests run, in CONDITION (idle: never busy), for the self-test of the GPU gates",
                        one_of("CONDITION", SIMULATED_GPU_CONDITIONS))

# --- the vector store ---------------------------------------------------------------------------------------------
DEGRADE_ANN = _define("degrade_ann", VECTOR_STORE, "the engine builds every HNSW graph with m and ef_construct cut by "
                      "that FRACTION (m at least 1, ef_construct at least 4) whatever the collection asks: approximate "
                      "searches miss true neighbours, exact ones stay exact", fraction("FRACTION", "0.95"))
IGNORE_FILTER = _define("ignore_filter", VECTOR_STORE, "searches (query and legacy search) ignore their payload filter")
SLOW_SEARCH = _define("slow_search", VECTOR_STORE, "every search waits MS milliseconds before it answers",
                      whole("MS", "250"))
MISSING_PAYLOAD_INDEX = _define("missing_payload_index", VECTOR_STORE, "the payload index on FIELD is never built: "
                                "requests to create it are acknowledged and dropped, one already stored is deleted at start",
                                name("FIELD", "owner"))

# --- PostgreSQL -----------------------------------------------------------------------------------------------------
PG_MAX_CONNECTIONS = _define("pg_max_connections", POSTGRES, "PostgreSQL starts with max_connections=N",
                             whole("N", "100"))
APP_ROLE_CAN_DDL = _define("app_role_can_ddl", POSTGRES,
                           "the gateway's application role may create tables in the public schema")
TABLE_LOCK = _define("table_lock", POSTGRES, "holds an exclusive lock on the gateway's tables MS ms at a time, releasing "
                     "it for 1 ms in between (a maintenance job that blocks everyone)", whole("MS", "100"))

# --- Prometheus -----------------------------------------------------------------------------------------------------
RULE_FILE_NOT_LOADED = _define("rule_file_not_loaded", PROMETHEUS, "leaves rules/NAME.yml out of Prometheus' rule_files",
                               name("NAME", "predictive"))
SCRAPE_TARGET_DOWN = _define("scrape_target_down", PROMETHEUS,
                             "Prometheus scrapes JOB at a wrong metrics path: the target is down", name("JOB", "qdrant"))
SLOW_SCRAPE = _define("slow_scrape", PROMETHEUS, "Prometheus scrapes the vector store only every SECONDS s",
                      number("SECONDS", "15"))

# --- the stack as a whole -------------------------------------------------------------------------------------------
VECTOR_STORE_DOWN = _define("vector_store_down", STACK, "the vector store is stopped once the stack has started")
VECTOR_STORE_NO_AUTH = _define("vector_store_no_auth", STACK, "the vector store starts without an API key: anyone may use it")
NO_RESTART = _define("no_restart", STACK, "no supervisor: a part that crashes stays down")
BROKEN_BACKUP = _define("broken_backup", STACK, "the backup tool writes a dump cut in half")
CPU_HOG = _define("cpu_hog", STACK, "two busy-looping processes keep both CPU cores occupied while the stack runs")
DISK_FILL = _define("disk_fill", STACK, "reserves disk space at MB_PER_S megabytes a second (up to 15 GB, a quarter of the "
                    "free space at most): storage runs out soon", number("MB_PER_S", "500"))
MODEL_CRASH_EVERY = _define("model_crash_every", STACK, "kills the chat model service every S seconds (SIGKILL) and "
                            "starts it again 3 s later, as a supervisor would", number("S", "5"))

# What `from citadel_stack.faults import ...` offers: the registry and one constant per fault.
__all__ = ["CATALOG", "SIMULATED_GPU_CONDITIONS", *(key for key, value in list(globals().items()) if isinstance(value, Fault))]
