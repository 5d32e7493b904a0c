"""``GET /v1/models`` and ``GET /models``: the served model ids."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from citadel_stack.faults import HIDE_MODEL, NO_V1_MODELS

from .faults import FaultSet
from .runtime import gateway_state, require_api_key


def model_list(model_ids: list[str], created: int) -> dict[str, Any]:
    """The OpenAI model list body."""
    return {
        "object": "list",
        "data": [{"id": mid, "object": "model", "created": created, "owned_by": "citadel"} for mid in model_ids],
    }


async def list_models(request: Request) -> dict[str, Any]:
    """Every model id this gateway serves."""
    state = gateway_state(request)
    hidden = set(state.config.faults.values(HIDE_MODEL))
    return model_list([m for m in state.config.models if m not in hidden], state.started_at)


def build_models_router(faults: FaultSet) -> APIRouter:
    """The model list routes; the ``no_v1_models`` fault leaves out ``/v1/models``."""
    router = APIRouter(dependencies=[Depends(require_api_key)])
    router.add_api_route("/models", list_models, methods=["GET"])
    if NO_V1_MODELS not in faults:
        router.add_api_route("/v1/models", list_models, methods=["GET"])
    return router
