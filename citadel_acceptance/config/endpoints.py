"""Where the target is: the gateway, the model services, the model routing, embeddings and the vector store."""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.errors import SuiteConfigError


@dataclass(frozen=True)
class GatewaySettings:
    """The profile's `[gateway]`: how to reach the gateway and which paths it serves."""

    base_url: str = ""  # "" in the embedded profile: filled in from the running stack
    models_path: str = "/v1/models"
    planned_models_path: str = "/models"
    chat_path: str = "/v1/chat/completions"
    health_path: str = "/health"
    health_models_path: str = "/health/models"
    metrics_path: str = "/metrics"
    embeddings_path: str = "/v1/embeddings"
    documents_path: str = "/v1/documents"
    retrieval_path: str = "/v1/retrieval"
    admin_keys_path: str = "/admin/keys"
    lifecycle_path: str = "/admin/lifecycle/run"
    config_path: str = "/admin/config"  # GET the configuration, PUT a change; `{config_path}/rollback` undoes it
    audit_path: str = "/admin/audit"  # the audit trail (`?limit=N`, newest first)
    tls_url: str = ""  # the HTTPS listener
    ca_file: str = ""  # the CA that signed its certificate
    timeout_s: float = 60.0
    verify_tls: bool = True
    request_id_header: str = "X-Request-ID"  # where each request's id (a UUID) goes, and the answer gives it back

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))


@dataclass(frozen=True)
class ServiceSettings:
    """One `[services.NAME]`: a model service the gateway routes to."""

    url: str = ""  # "" in the embedded profile: filled in from the running stack
    model: str = ""  # the name the service itself knows ("" = the model id clients send)
    # The NAME of a [secrets] entry holding the key the service itself asks for ("" = it asks for none); the suite
    # sends it as `Authorization: Bearer <key>` on its direct calls (health look, gateway-overhead runs).
    api_key_secret: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))


@dataclass(frozen=True)
class ModelSettings:
    """One `[models.ID]`: the service that serves the model id, and the id the deployment gives it.

    ID is the plan's model id (the one the feature files name); `alias` is what the deployment calls the model
    where that differs ("" = the plan's id): the suite sends it, and looks for it in model lists and health reports.
    """

    service: str
    alias: str = ""


def model_label(model: str, served: str) -> str:
    """How a message names a model: `'phi3'`, or `'phi3' (served as 'Phi-3-mini')` where the deployment's id differs."""
    return f"{model!r}" if served in ("", model) else f"{model!r} (served as {served!r})"


HEALTH_SHAPES = ("auto", "current", "plan")


@dataclass(frozen=True)
class HealthSettings:
    """The profile's `[health]`: how the gateway's health report is shaped and which words it uses for states.

    `shape`: "current" reads `{"models": {id: {"service", "status"}}, "services": {name: {"status"}}}`, "plan"
    reads the plan's `{"service", "status", "timestamp", "model_services": {id: {"status", "url"}}}`, "auto" takes
    whichever of `model_services` / `models` the report holds. Each reported word is matched without regard to case
    against the three lists and read as healthy, unhealthy or unreachable; any other word is a problem.
    """

    shape: str = "auto"
    healthy_words: tuple[str, ...] = ("healthy", "ok", "up")
    unhealthy_words: tuple[str, ...] = ("unhealthy", "degraded", "down")
    unreachable_words: tuple[str, ...] = ("unreachable",)

    def state_of(self, word: object) -> str | None:
        """The state a reported word stands for ("healthy", "unhealthy", "unreachable"), None for a word of no list."""
        text = str(word).strip().lower()
        for state, words in self.words().items():
            if text in (w.lower() for w in words):
                return state
        return None

    def words(self) -> dict[str, tuple[str, ...]]:
        """State -> the words the profile accepts for it."""
        return {"healthy": self.healthy_words, "unhealthy": self.unhealthy_words, "unreachable": self.unreachable_words}

    def validate(self) -> None:
        """A known shape; each list non-empty; no word in two lists (raises SuiteConfigError)."""
        if self.shape not in HEALTH_SHAPES:
            raise SuiteConfigError(f"health.shape must be one of {', '.join(HEALTH_SHAPES)}, not {self.shape!r}")
        seen: dict[str, str] = {}
        for state, words in self.words().items():
            if not words:
                raise SuiteConfigError(f"health.{state}_words is empty: name at least one word for {state}")
            for word in words:
                other = seen.setdefault(word.lower(), state)
                if other != state:
                    raise SuiteConfigError(f"health: the word {word!r} is in both {other}_words and {state}_words")


@dataclass(frozen=True)
class EmbeddingsSettings:
    """The profile's `[embeddings]`: the embedding model clients ask for and the service computing it."""

    model: str = ""
    service: str = ""  # a [services] entry


@dataclass(frozen=True)
class VectorSettings:
    """The profile's `[vector]`: the vector store (Qdrant) the documents live in."""

    url: str = ""
    collection: str = ""
    vector_size: int = 0
    distance: str = "Cosine"
    # The named vector the gateway searches, where the collection names its vectors ("": the collection's one
    # unnamed vector, its only named one, or its only one of vector_size).
    vector_name: str = ""
    # The payload fields retrieval filters on: each needs a payload index (a strict-mode Qdrant refuses
    # filters on unindexed fields, and an unindexed filter scans every point).
    filter_fields: tuple[str, ...] = ("owner",)
    # How long the recall scenario waits for the collection to index its sample (seconds).
    index_wait_s: float = 120.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))
