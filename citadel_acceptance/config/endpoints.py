"""Where the target is: the gateway, the model services, the model routing, embeddings and the vector store."""
from __future__ import annotations

from dataclasses import dataclass


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))


@dataclass(frozen=True)
class ModelSettings:
    """One `[models.ID]`: the service that serves the model id."""

    service: str


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
    # The payload fields retrieval filters on: each needs a payload index (a strict-mode Qdrant refuses
    # filters on unindexed fields, and an unindexed filter scans every point).
    filter_fields: tuple[str, ...] = ("owner",)
    # How long the recall scenario waits for the collection to index its sample (seconds).
    index_wait_s: float = 120.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))
