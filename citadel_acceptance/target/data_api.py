"""The gateway's data and admin API as the suite uses it: keys, documents, retrieval, embeddings, lifecycle."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from citadel_acceptance.target.gateway_client import Exchange, GatewayClient


WITHHELD = "[issued; withheld from the evidence]"  # what an exchange keeps of an issued key's secret


@dataclass(frozen=True)
class IssuedKey:
    """A key the suite created for this run (its value is a secret: register it with the redactor)."""

    id: int | str  # as the gateway gave it: a number or a string (a UUID)
    key: str
    role: str
    owner: str

    @property
    def authorization(self) -> str:
        """The Authorization header value."""
        return f"Bearer {self.key}"


class DataApi:
    """Calls of the gateway beyond chat, with the admin key of the run or an issued key."""

    def __init__(self, gateway: GatewayClient) -> None:
        self.gateway = gateway
        self.paths = gateway.settings

    def create_key(self, name: str, role: str, owner: str, run_id: str) -> tuple[Exchange, IssuedKey | None]:
        """POST the admin keys path; the key is returned only when the gateway created it."""
        ex = self.gateway.request("POST", self.paths.admin_keys_path,
                                  {"name": name, "role": role, "owner": owner, "run_id": run_id})
        if ex.status != 201 or not isinstance(ex.body, dict) or "key" not in ex.body:
            return ex, None
        secret = str(ex.body["key"])
        ex.body = {**ex.body, "key": WITHHELD}  # the secret is never kept in an exchange
        key_id = ex.body.get("id")
        if isinstance(key_id, bool) or not isinstance(key_id, (int, str)) or key_id == "":
            return ex, None  # a key the suite could not revoke by its id: the caller says so
        return ex, IssuedKey(id=key_id, key=secret, role=role, owner=owner)

    def delete_key(self, key_id: int | str) -> Exchange:
        """Remove a key of this run entirely (revoke and purge)."""
        return self.gateway.request("DELETE", f"{self.paths.admin_keys_path}/{key_id}?purge=true")

    def store_document(self, key: IssuedKey, content: str, title: str, metadata: dict[str, Any]) -> Exchange:
        """Store a document as the owner of `key`."""
        return self.gateway.request("POST", self.paths.documents_path,
                                    {"content": content, "title": title, "metadata": metadata}, auth=key.authorization)

    def list_documents(self, key: IssuedKey) -> Exchange:
        """The documents of `key`'s owner."""
        return self.gateway.request("GET", self.paths.documents_path, auth=key.authorization)

    def delete_document(self, key: IssuedKey, document_id: str) -> Exchange:
        """Delete a document as its owner."""
        return self.gateway.request("DELETE", f"{self.paths.documents_path}/{document_id}", auth=key.authorization)

    def retrieve(self, key: IssuedKey, query: str, top_k: int, metadata: dict[str, Any] | None = None) -> Exchange:
        """The owner's documents nearest to `query`, optionally filtered by metadata."""
        return self.gateway.request("POST", self.paths.retrieval_path,
                                    {"query": query, "top_k": top_k, "filter": metadata or {}}, auth=key.authorization)

    def ask_with_retrieval(self, key: IssuedKey, model: str, question: str, top_k: int, max_tokens: int,
                           metadata: dict[str, Any] | None = None) -> Exchange:
        """A chat request whose prompt carries the owner's most relevant documents."""
        body = self.gateway.chat_body(model, question, max_tokens,
                                      retrieval={"top_k": top_k, "filter": metadata or {}})
        return self.gateway.request("POST", self.paths.chat_path, body, auth=key.authorization)

    def embed(self, model: str, texts: list[str]) -> Exchange:
        """OpenAI embeddings through the gateway."""
        return self.gateway.request("POST", self.paths.embeddings_path, {"model": model, "input": texts})

    def run_lifecycle(self) -> Exchange:
        """Run the data-lifecycle job now."""
        return self.gateway.request("POST", self.paths.lifecycle_path)
