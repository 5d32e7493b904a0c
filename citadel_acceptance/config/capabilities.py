"""What a deployment provides, by name: the profile's `[capabilities]`.

A scenario names what it needs with `@requires.<capability>` (on its feature, itself or its examples). A
scenario whose need the profile does not declare is NOT APPLICABLE to that deployment: never passed, and its
criterion stays "not proven" in the handover. Absence is declared (left out of `provides`, or listed under
`lacks` by a profile that extends another), never expressed by emptying a list of another section.
"""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.errors import SuiteConfigError

# Every capability the feature files may require, with what it means (the pre-flight probe checks it).
CAPABILITIES: dict[str, str] = {
    "chat": "chat completions through the gateway (POST chat_path)",
    "streaming": "streamed chat completions (server-sent events)",
    "model_list": "the gateway lists its models (GET models_path or planned_models_path)",
    "embeddings": "embeddings through the gateway (POST embeddings_path)",
    "documents": "users store, list and delete their documents (documents_path)",
    "retrieval": "retrieval over stored documents, alone and in chat (retrieval_path)",
    "key_admin": "operators issue, rotate and revoke API keys (admin_keys_path)",
    "config_api": "operators read and change the gateway's configuration through its API, audited",
    "audit_chain": "an audit trail in the database whose rows are hash-chained (table audit_log)",
    "request_log": "the gateway writes one row per request to the database (table request_log)",
    "lifecycle": "a data-lifecycle job the suite may trigger (lifecycle_path)",
    "response_cache": "repeated deterministic questions are answered from a cache",
    "rate_limit": "a per-key request rate limit with 429 and Retry-After",
    "gateway_log": "the gateway's structured JSON-lines log, readable by the suite ([operations] gateway_log)",
    "health": "the gateway's health reports (health_path, health_models_path)",
    "metrics": "the gateway's Prometheus metrics (metrics_path)",
    "openapi": "the gateway publishes its OpenAPI document ([security] openapi_path)",
    "database": "the gateway's PostgreSQL, reachable with [secrets] database_dsn",
    "backup": "backup and restore commands the suite may run ([operations] backup_command, restore_command)",
    "vector_store": "the Qdrant behind the gateway, reachable directly ([vector] url, [secrets] qdrant_api_key)",
    "prometheus": "the deployment's Prometheus ([monitoring] prometheus_url)",
    "tls": "an HTTPS listener ([gateway] tls_url, ca_file)",
    "gpu": "NVIDIA GPUs the suite can read ([gpu] source)",
    "control": "the suite may stop and start parts of the deployment (@destructive scenarios)",
}


def unknown_capabilities(names: tuple[str, ...] | list[str] | set[str]) -> list[str]:
    """The names that are not capabilities the suite knows, sorted."""
    return sorted(set(names) - set(CAPABILITIES))


@dataclass(frozen=True)
class CapabilitySettings:
    """The profile's `[capabilities]`: what the deployment provides (`provides`), less what a profile that
    extends another says it `lacks`."""

    provides: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()

    @property
    def declared(self) -> frozenset[str]:
        """The capabilities this deployment is declared to provide."""
        return frozenset(self.provides) - frozenset(self.lacks)

    def problems(self) -> list[str]:
        """Why these declarations cannot be used (unknown names, nothing declared)."""
        problems = []
        for key, names in (("provides", self.provides), ("lacks", self.lacks)):
            unknown = unknown_capabilities(names)
            if unknown:
                problems.append(f"[capabilities] {key} names unknown capabilities {unknown}; known: "
                                f"{', '.join(CAPABILITIES)}")
        if not self.provides:
            problems.append("[capabilities] provides is missing: declare what the deployment provides, by name "
                            f"(known: {', '.join(CAPABILITIES)}); docs/deployment.md says how")
        return problems

    def require(self, name: str) -> None:
        """Raise SuiteConfigError when `name` is not a capability the suite knows (a typo in a tag)."""
        if name not in CAPABILITIES:
            raise SuiteConfigError(f"@requires.{name} names no capability the suite knows; known: "
                                   f"{', '.join(CAPABILITIES)}")
