"""The gateway client's manners: each request carries a UUID request id under the profile's header name."""
from __future__ import annotations

import uuid

import httpx

from citadel_acceptance.config.endpoints import GatewaySettings
from citadel_acceptance.target.gateway_client import GatewayClient


def client_answering(settings: GatewaySettings, seen: list[httpx.Request]) -> GatewayClient:
    """A client whose transport records each request and answers 200 with the request id given back."""
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []}, headers={"correlation-id": request.headers.get("Correlation-ID", "")})

    client = GatewayClient(settings, "a-key")
    client._http = httpx.Client(base_url=settings.base_url, transport=httpx.MockTransport(answer))
    return client


def test_a_request_id_is_a_uuid_under_the_header_the_profile_names():
    """A gateway's request-id middleware may refuse an id that is not a UUID (the plan's answers 400 to others)."""
    seen: list[httpx.Request] = []
    client = client_answering(GatewaySettings(base_url="http://gateway", request_id_header="Correlation-ID"), seen)
    exchange = client.request("GET", "/v1/models")
    sent = seen[0].headers["correlation-id"]
    assert str(uuid.UUID(sent)) == sent == exchange.request_id and "x-request-id" not in seen[0].headers
    assert client.request_id_of(exchange) == sent, "the id the answer gives back, read under the same header"
    assert GatewaySettings().request_id_header == "X-Request-ID"
