"""``/admin``: API keys for operators, and the data-lifecycle job. Admin role only."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .errors import GatewayError, bad_request
from .routes_chat import read_json_body
from .runtime import gateway_state, require_feature, require_role
from .stores import run_lifecycle

router = APIRouter(prefix="/admin", dependencies=[Depends(require_role("admin"))])
ROLES = ("admin", "user", "readonly")


@router.post("/keys", status_code=201)
async def create_key(request: Request) -> JSONResponse:
    """A new key with a role and an owner; its value is shown in this answer only."""
    state = gateway_state(request)
    keys = require_feature(state, "key administration", state.keys)
    body = await read_json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise bad_request("'name' must be non-empty text", param="name")
    role = body.get("role", "user")
    if role not in ROLES:
        raise bad_request(f"'role' must be one of {', '.join(ROLES)}", param="role")
    owner, run_id = body.get("owner") or body["name"], body.get("run_id")
    if not isinstance(owner, str) or (run_id is not None and not isinstance(run_id, str)):
        raise bad_request("'owner' and 'run_id' must be text", param="owner")
    created = await keys.create(body["name"], role, owner, run_id)
    return JSONResponse({"object": "api_key", **asdict(created)}, status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/keys")
async def list_keys(request: Request) -> dict[str, Any]:
    """Every key (never a key value or hash)."""
    state = gateway_state(request)
    return {"object": "list", "data": await require_feature(state, "key administration", state.keys).list()}


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: int, request: Request, purge: bool = False) -> dict[str, Any]:
    """Revoke a key (it gets 401 from now on); `?purge=true` deletes it entirely."""
    state = gateway_state(request)
    if not await require_feature(state, "key administration", state.keys).revoke(key_id, purge):
        raise GatewayError(404, f"no key {key_id}", type="not_found_error")
    return {"id": key_id, "object": "api_key", "revoked": True, "purged": purge}


@router.post("/lifecycle/run")
async def lifecycle(request: Request) -> dict[str, Any]:
    """Run the data-lifecycle job now: rows older than the retention are deleted."""
    state = gateway_state(request)
    require_feature(state, "key administration", state.keys)
    if "lifecycle_disabled" in state.config.faults:  # fault (self-test only)
        deleted = {"request_log": 0}
    else:
        deleted = await run_lifecycle(state.database.pool, state.config.retention_days)
    return {"object": "lifecycle_run", "retention_days": state.config.retention_days, "deleted": deleted}
