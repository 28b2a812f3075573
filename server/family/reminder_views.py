"""Reminders on a family member's phone: the VAPID public key, on and off (JSON)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server import access
from server.access import actor_of, current_user
from server.enums import Role
from server.family import subscriptions, vapid
from server.web import json_body, now, settings_of


@cache
def _key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    return vapid.load(data_dir)


@access.allow(Role.FAMILY)
async def public_key(request: Request) -> Response:
    key = _key(settings_of(request).data_dir)
    return JSONResponse({"key": vapid.public_key(key)})


@access.allow(Role.FAMILY)
async def turn_on(request: Request) -> Response:
    settings = settings_of(request)
    parsed = subscriptions.parse(
        await json_body(request),
        # http push endpoints on this machine only while the app itself is
        # on http (tests, a developer's laptop); never in production.
        allow_local_http=not settings.secure,
    )
    await subscriptions.subscribe(
        user=current_user(request), subscription=parsed, now=now(request), actor=actor_of(request)
    )
    return JSONResponse({"reminders": "on"})


@access.allow(Role.FAMILY)
async def turn_off(request: Request) -> Response:
    body = await json_body(request)
    await subscriptions.unsubscribe(
        user=current_user(request), endpoint=body.get("endpoint"), actor=actor_of(request)
    )
    return JSONResponse({"reminders": "off"})


routes: list[BaseRoute] = [
    Route("/api/family/reminders/key", public_key, name="reminders_key"),
    Route("/api/family/reminders", turn_on, methods=["POST"], name="reminders_on"),
    Route("/api/family/reminders/off", turn_off, methods=["POST"], name="reminders_off"),
]
