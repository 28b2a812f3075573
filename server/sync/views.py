"""The JSON sync API (see docs/sync.md and /api/openapi.json)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server import access
from server.access import actor_of, current_user
from server.enums import Role
from server.errors import Invalid
from server.i18n import N_
from server.sync import openapi, services
from server.sync.keys import KeyRing
from server.web import json_body, now

# Families send their "will you come?" answers through the same outbox.
SYNCING = (Role.WORKER, Role.OFFICER, Role.FAMILY)


def _ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.sealing_keys
    return ring


@access.allow(*SYNCING)
async def sealing_key(request: Request) -> Response:
    key = _ring(request).current
    return JSONResponse({"kid": key.kid, "spki": key.public_spki(), "alg": "RSA-OAEP-256"})


@access.allow(*SYNCING)
async def push(request: Request) -> Response:
    body = await json_body(request)
    results = await services.push(
        user=current_user(request),
        records=body.get("records"),
        ring=_ring(request),
        now=now(request),
        actor=actor_of(request),
    )
    return JSONResponse({"results": [r.as_json() for r in results]})


@access.allow(*SYNCING)
async def pull(request: Request) -> Response:
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        raise Invalid(N_("The request could not be understood. Please try again.")) from None
    body = await services.pull(
        user=current_user(request),
        since=max(0, since),
        forms_hash=request.query_params.get("forms", ""),
        now=now(request),
    )
    return JSONResponse(body)


routes: list[BaseRoute] = [
    Route("/api/sync/key", sealing_key, name="sync_key"),
    Route("/api/sync/push", push, methods=["POST"], name="sync_push"),
    Route("/api/sync/pull", pull, name="sync_pull"),
    Route("/api/openapi.json", openapi.openapi, name="openapi"),
]
