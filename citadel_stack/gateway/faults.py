"""Named faults the gateway can be started with, for the acceptance suite's self-test only.

Each fault is registered once here with a one-line description; code asks
``NO_DONE_MARKER in config.faults``. Adding a fault means one ``_register`` line plus the
code that honours it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Fault:
    """A fault the gateway knows how to inject."""

    name: str
    description: str


KNOWN_FAULTS: dict[str, Fault] = {}


def _register(name: str, description: str) -> str:
    """Add a fault to the registry and return its name (used as the module constant)."""
    if name in KNOWN_FAULTS:
        raise ValueError(f"fault {name!r} registered twice")
    KNOWN_FAULTS[name] = Fault(name, description)
    return name


NO_DONE_MARKER = _register(
    "no_done_marker", "streamed chat completions never send the final 'data: [DONE]' line"
)
NO_V1_MODELS = _register(
    "no_v1_models", "the GET /v1/models route does not exist (404); GET /models still works"
)
HEALTH_ALWAYS_HEALTHY = _register(
    "health_always_healthy", "/health and /health/models report every service healthy without probing"
)
ACCEPT_UNKNOWN_KEY = _register(
    "accept_unknown_key", "any well-formed Bearer key is accepted (unknown keys get role 'user')"
)
HIDE_MODEL = _register("hide_model", "hide_model:MODEL leaves MODEL out of /v1/models and /models (it is still served)")
NO_USAGE = _register("no_usage", "chat answers carry no usage: none in plain answers, no usage chunk in streams")
LEAK_UPSTREAM_MODEL = _register(
    "leak_upstream_model", "answers name the upstream model (e.g. smollm2) instead of the model id that was asked for"
)
NO_REQUEST_VALIDATION = _register(
    "no_request_validation", "chat requests are not validated: unknown models go to the first service, empty messages upstream"
)
SINGLE_CHUNK_STREAM = _register(
    "single_chunk_stream", "streamed answers are generated whole and sent as one content chunk"
)
HEALTH_OMITS_MODEL = _register("health_omits_model", "health_omits_model:MODEL leaves MODEL out of the health reports")
HEALTH_REPORTS_DOWN = _register(
    "health_reports_down", "/health reports every model service unreachable without probing it"
)
HEALTH_FAILS_DURING_OUTAGE = _register(
    "health_fails_during_outage", "/health answers 500 whenever a model service is not healthy"
)
AUTH_OPTIONAL = _register(
    "auth_optional", "a request without a Bearer key (missing or malformed header) is served as an anonymous user"
)
ECHO_CREDENTIAL = _register("echo_credential", "401 answers repeat the Authorization header they refused")
DROP_INDEX = _register("drop_index", "drop_index:NAME drops that index after the migrations ran")
SLOW_QUERY = _register("slow_query", "slow_query:MS makes every request-log write run a pg_sleep of MS ms first")
NO_REQUEST_LOG = _register("no_request_log", "no request-log row is written")
RETRIEVAL_IGNORES_FILTER = _register(
    "retrieval_ignores_filter", "retrieval ignores the metadata filter (the owner filter still applies)"
)
WRONG_VECTOR_SIZE = _register("wrong_vector_size", "wrong_vector_size:N creates the documents collection with N dimensions")
SLOW_EMBEDDINGS = _register("slow_embeddings", "slow_embeddings:MS delays every answer of POST /v1/embeddings by MS ms")
LIFECYCLE_DISABLED = _register("lifecycle_disabled", "the data-lifecycle job deletes nothing")
CACHE_DISABLED = _register("cache_disabled", "the response cache is off: every request reaches the model")
FAIL_RATIO = _register("fail_ratio", "fail_ratio:PERCENT answers that percentage of chat requests with 500 (every k-th)")
GATEWAY_DELAY = _register("gateway_delay", "gateway_delay:MS adds MS ms to every chat request inside the gateway")
CONFIG_NOT_AUDITED = _register("config_not_audited", "admin changes (configuration, keys) leave no audit row")
REVOKE_NOT_ENFORCED = _register("revoke_not_enforced", "revoked keys keep working")
LOG_WITHOUT_REQUEST_ID = _register("log_without_request_id", "request log lines carry no request id")
AUTH_BYPASS_EMBEDDINGS = _register("auth_bypass_embeddings", "POST /v1/embeddings answers without authentication")
ROLES_NOT_ENFORCED = _register("roles_not_enforced", "any valid key may use admin routes and store documents")
RATE_LIMIT_OFF = _register("rate_limit_off", "no rate limit")
NO_RETRY_AFTER = _register("no_retry_after", "429 answers carry no Retry-After header")
STACK_TRACE_IN_ERRORS = _register("stack_trace_in_errors", "error answers carry a Python traceback with file paths")
MISSING_SECURITY_HEADER = _register("missing_security_header", "answers lack X-Content-Type-Options: nosniff")
TLS_1_0_ACCEPTED = _register("tls_1_0_accepted", "the HTTPS listener accepts TLS 1.0")
AUDIT_CHAIN_BROKEN = _register("audit_chain_broken", "audit rows are not chained (prev_hash is random)")
VECTOR_OUTAGE_IS_500 = _register("vector_outage_is_500",
                                 "with the vector store unreachable, retrieval answers 500 (unhandled) instead of 503")
INVALID_BODY_IS_500 = _register("invalid_body_is_500",
                                "a request body the gateway refuses as invalid answers 500 (a crash) instead of 400")
OPENAPI_WITHOUT_SECURITY = _register("openapi_without_security",
                                     "the OpenAPI document declares no authentication for any operation")
OWNER_FILTER_MISSING = _register("owner_filter_missing", "retrieval searches every owner's documents")
INJECTION_GUARD_OFF = _register("injection_guard_off", "no prompt-injection guard on user messages and retrieved passages")
COUNTER_NOT_INCREMENTED = _register(
    "counter_not_incremented", "model_requests_total is exported with its labels but never incremented"
)
LABEL_MISSING = _register("label_missing", "model_requests_total is exported with an empty service label (absent to Prometheus)")
LATENCY_NOT_MEASURED = _register("latency_not_measured", "model_inference_duration_seconds observes 0 s for every request")
INJECTION_OBEYED = _register(
    "injection_obeyed", "no guard, and the answer becomes what an injection asks for (a gateway and model that obey)"
)
SLOW_MODEL = _register(
    "slow_model", "slow_model:MODEL:MS delays every chat answer of MODEL by MS milliseconds before it is forwarded"
)


@dataclass(frozen=True)
class FaultSet:
    """The faults active in one gateway process."""

    names: frozenset[str] = frozenset()
    arguments: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[object]) -> "FaultSet":
        """Validate fault specs (`name` or `name:arg:arg`) against the registry; unknown names raise ValueError."""
        seen: set[str] = set()
        arguments: list[tuple[str, tuple[str, ...]]] = []
        for spec in specs:
            name, *args = spec.split(":") if isinstance(spec, str) else [spec]
            if not isinstance(name, str) or name not in KNOWN_FAULTS:
                known = ", ".join(sorted(KNOWN_FAULTS))
                raise ValueError(f"unknown fault {spec!r}; known faults: {known}")
            seen.add(name)
            arguments.append((name, tuple(args)))
        fault_set = cls(frozenset(seen), tuple(arguments))
        fault_set.model_delays_s()  # validate the arguments now, not at the first request
        for name in (SLOW_QUERY, WRONG_VECTOR_SIZE, SLOW_EMBEDDINGS, FAIL_RATIO, GATEWAY_DELAY):
            fault_set.number(name)
        return fault_set

    def args_of(self, name: str) -> list[tuple[str, ...]]:
        """The argument lists given to every occurrence of fault `name`."""
        return [args for fault, args in self.arguments if fault == name]

    def models_named_by(self, name: str) -> set[str]:
        """The models named as the first argument of every occurrence of fault `name` (e.g. hide_model:phi3)."""
        return {args[0] for args in self.args_of(name) if args}

    def number(self, name: str) -> int | None:
        """The integer argument of fault `name` (e.g. slow_query:200 -> 200), or None when absent."""
        for args in self.args_of(name):
            if len(args) != 1 or not args[0].isdigit():
                raise ValueError(f"{name} needs one integer argument, e.g. {name}:200, got {':'.join(args)!r}")
            return int(args[0])
        return None

    def model_delays_s(self) -> dict[str, float]:
        """model id -> seconds of delay, from `slow_model:MODEL:MS` faults."""
        delays: dict[str, float] = {}
        for args in self.args_of(SLOW_MODEL):
            if len(args) != 2 or not args[1].isdigit():
                raise ValueError(f"slow_model needs MODEL:MS, e.g. slow_model:phi3:2500, got {':'.join(args)!r}")
            delays[args[0]] = int(args[1]) / 1000
        return delays

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)


# Faults of the stability run (SC6), honoured by soak_faults.SoakFaultsMiddleware.
LEAK_MEMORY = _register("leak_memory", "leak_memory:KB keeps KB kilobytes per request for the life of the gateway")
LATENCY_CREEP = _register(
    "latency_creep",
    "latency_creep:MS_PER_MIN[:AFTER_S] delays chat requests by MS_PER_MIN ms per minute from AFTER_S s after the first",
)
INTERMITTENT_500 = _register(
    "intermittent_500", "intermittent_500:PERCENT answers PERCENT % of /v1/ requests with 500 (every k-th)"
)

# The GPU gates (SC6) need GPUs; the self-test proves them on simulated ones (simulated_gpu.py).
SIMULATED_GPU = _register(
    "simulated_gpu",
    "simulated_gpu:CONDITION serves GET /health/gpu from two simulated 16 GB GPUs, busy while chat requests run; "
    "CONDITION is healthy, hot, memory_full, ecc_errors, throttled, one_missing or idle (never busy)",
)
