"""``/admin``: API keys for operators, and the data-lifecycle job. Admin role only."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from citadel_stack.faults import LIFECYCLE_DISABLED

from .database import ApiKey
from .errors import GatewayError, bad_request
from .runtime_config import validate
from .routes_chat import read_json_body
from .runtime import gateway_state, require_feature, require_role
from .stores import run_lifecycle

router = APIRouter(prefix="/admin", dependencies=[Depends(require_role("admin"))])
ADMIN = Depends(require_role("admin"))
ROLES = ("admin", "user", "readonly")


@router.post("/keys", status_code=201)
async def create_key(request: Request, admin: ApiKey = ADMIN) -> JSONResponse:
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
    await _audit(state, admin, "key.create", f"api_key:{created.id}", {"role": role, "owner": owner})
    return JSONResponse({"object": "api_key", **asdict(created)}, status_code=201, headers={"Cache-Control": "no-store"})


@router.post("/keys/{key_id}/rotate")
async def rotate_key(key_id: int, request: Request, admin: ApiKey = ADMIN) -> JSONResponse:
    """A new value for the key; the old value gets 401 from now on. Shown in this answer only."""
    state = gateway_state(request)
    rotated = await require_feature(state, "key administration", state.keys).rotate(key_id)
    if rotated is None:
        raise GatewayError(404, f"no active key {key_id}", type="not_found_error")
    await _audit(state, admin, "key.rotate", f"api_key:{key_id}", {})
    return JSONResponse({"object": "api_key", **asdict(rotated)}, headers={"Cache-Control": "no-store"})


@router.get("/keys")
async def list_keys(request: Request) -> dict[str, Any]:
    """Every key (never a key value or hash)."""
    state = gateway_state(request)
    return {"object": "list", "data": await require_feature(state, "key administration", state.keys).list()}


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: int, request: Request, purge: bool = False, admin: ApiKey = ADMIN) -> dict[str, Any]:
    """Revoke a key (it gets 401 from now on); `?purge=true` deletes it entirely."""
    state = gateway_state(request)
    if not await require_feature(state, "key administration", state.keys).revoke(key_id, purge):
        raise GatewayError(404, f"no key {key_id}", type="not_found_error")
    await _audit(state, admin, "key.purge" if purge else "key.revoke", f"api_key:{key_id}", {})
    return {"id": key_id, "object": "api_key", "revoked": True, "purged": purge}


@router.post("/lifecycle/run")
async def lifecycle(request: Request) -> dict[str, Any]:
    """Run the data-lifecycle job now: rows older than the retention are deleted."""
    state = gateway_state(request)
    require_feature(state, "key administration", state.keys)
    if LIFECYCLE_DISABLED in state.config.faults:  # fault (self-test only)
        deleted = {"request_log": 0}
    else:
        deleted = await run_lifecycle(state.database.pool, state.config.retention_days)
    return {"object": "lifecycle_run", "retention_days": state.config.retention_days, "deleted": deleted}


@router.get("/config")
async def read_config(request: Request) -> dict[str, Any]:
    """The current runtime settings and their version."""
    config = require_feature(gateway_state(request), "runtime configuration", gateway_state(request).runtime_config)
    return {"object": "config", "version": config.version, "settings": config.current}


@router.put("/config")
async def change_config(request: Request, admin: ApiKey = ADMIN) -> dict[str, Any]:
    """Change some settings: a new version, recorded in the audit trail with the values before and after."""
    state = gateway_state(request)
    config = require_feature(state, "runtime configuration", state.runtime_config)
    try:
        changes = validate(await read_json_body(request))
    except ValueError as exc:
        raise bad_request(str(exc), param="settings") from None
    before = dict(config.current)
    version = await config.save({**before, **changes}, admin.name)
    await _audit(state, admin, "config.change", f"config:v{version}", {"before": before, "after": config.current})
    return {"object": "config", "version": version, "settings": config.current}


@router.post("/config/rollback")
async def rollback_config(request: Request, admin: ApiKey = ADMIN) -> dict[str, Any]:
    """Go back to the settings of the previous version (as a new version), audited."""
    state = gateway_state(request)
    config = require_feature(state, "runtime configuration", state.runtime_config)
    previous = await config.previous()
    if previous is None:
        raise GatewayError(409, "there is no earlier configuration to roll back to", type="conflict_error")
    before = dict(config.current)
    version = await config.save(previous, admin.name)
    await _audit(state, admin, "config.rollback", f"config:v{version}", {"before": before, "after": config.current})
    return {"object": "config", "version": version, "settings": config.current}


@router.get("/audit")
async def audit_trail(request: Request, limit: int = 100) -> dict[str, Any]:
    """The newest audit rows, newest first, with their hash chain."""
    state = gateway_state(request)
    trail = require_feature(state, "an audit trail", state.audit)
    return {"object": "list", "data": await trail.recent(max(1, min(limit, 1000)))}


async def _audit(state: Any, admin: ApiKey, action: str, target: str, details: dict[str, Any]) -> None:
    if state.audit is not None:
        await state.audit.append(admin.name, action, target, details)
