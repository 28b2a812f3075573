"""The JSON sync API (see docs/sync.md and /api/openapi.json)."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access
from server.access import actor_of, current_user
from server.enums import Role
from server.errors import Invalid
from server.i18n import N_
from server.ratelimit import SYNC_PER_ACCOUNT, SYNC_PER_SESSION
from server.sync import conflicts, openapi, services
from server.sync.keys import KeyRing
from server.sync.sealing import ALGORITHM
from server.web import json_body, limiter, now
from server.web.templating import render

CLIENT_CLOSED_REQUEST = 499
# Families send their "will you come?" answers through the same outbox.
SYNCING = (Role.WORKER, Role.OFFICER, Role.FAMILY)


def _ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.sealing_keys
    return ring


async def _limit(request: Request) -> None:
    """The sync limits of this phone's session, then of the whole account:
    429 with Retry-After past either. The session is named by a prefix of
    its token's hash (never the token)."""
    phone = request.state.login_session.token_hash[:32]
    await limiter(request).hit(SYNC_PER_SESSION, "sync-session", phone)
    await limiter(request).hit(SYNC_PER_ACCOUNT, "sync-account", str(current_user(request).id))


@access.allow(*SYNCING)
async def sealing_key(request: Request) -> Response:
    key = _ring(request).current
    return JSONResponse({"kid": key.kid, "spki": key.public_spki(), "alg": ALGORITHM})


@access.allow(*SYNCING)
async def push(request: Request) -> Response:
    await _limit(request)  # before the body is read and parsed
    try:
        body = await json_body(request)
    except ClientDisconnect:
        # The phone hung up mid-upload (a dropped network): nothing was read,
        # nothing stored, it will send again. Logged as a client abort, with
        # the status nginx uses for it, not as a server error.
        return Response(status_code=CLIENT_CLOSED_REQUEST)
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
    await _limit(request)
    try:
        since = int(request.query_params.get("since", "0"))
        if since >= 2**63:  # past a database BIGINT: an OverflowError (500) otherwise
            raise ValueError(since)
    except ValueError:
        raise Invalid(N_("The request could not be understood. Please try again.")) from None
    body = await services.pull(
        user=current_user(request),
        since=max(0, since),
        forms_hash=request.query_params.get("forms", ""),
        now=now(request),
        actor=actor_of(request),
    )
    return JSONResponse(body)


@access.allow(Role.OFFICER)
async def conflicts_page(request: Request) -> Response:
    items = await conflicts.open_conflicts(officer=current_user(request))
    return render(request, "sync/conflicts.html", {"items": items})


@access.allow(Role.OFFICER)
async def resolve_conflict(request: Request) -> Response:
    form = await request.form()
    try:
        conflict_id = int(request.path_params["id"])
    except ValueError:
        raise Invalid() from None
    await conflicts.resolve(
        officer=current_user(request),
        conflict_id=conflict_id,
        replace=form.get("choice") == "replace",
        now=now(request),
        actor=actor_of(request),
    )
    return RedirectResponse("/conflicts", status_code=303)


routes: list[BaseRoute] = [
    Route("/conflicts", conflicts_page, name="conflicts"),
    Route("/conflicts/{id:int}", resolve_conflict, methods=["POST"]),
    Route("/api/sync/key", sealing_key, name="sync_key"),
    Route("/api/sync/push", push, methods=["POST"], name="sync_push"),
    Route("/api/sync/pull", pull, name="sync_pull"),
    Route("/api/openapi.json", openapi.openapi, name="openapi"),
]
