"""Every route has an access rule, and every role meets exactly that rule."""

from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from server.access import PUBLIC
from server.accounts import sessions
from server.accounts.models import User
from server.audit.models import AuditEvent
from server.enums import Role
from tests.support import world
from tests.support.web import ORIGIN

SAMPLE_PARAMS = {
    "token": "not-a-real-token",
    "id": "1",
    "passkey_id": "1",
    "lang": "kk",
    "pillar": "family",
}


def app_routes(app: Starlette) -> list[Route]:
    routes = [route for route in app.routes if isinstance(route, Route)]
    # Signing out ends the session the walk uses: do it last.
    return sorted(routes, key=lambda route: route.path == "/signout")


def concrete(path: str) -> str:
    for name, value in SAMPLE_PARAMS.items():
        path = path.replace(f"{{{name}}}", value).replace(f"{{{name}:int}}", value)
    assert "{" not in path, f"add a sample value for {path}"
    return path


def test_every_route_declares_who_may_use_it(app: Starlette) -> None:
    missing = [r.path for r in app_routes(app) if not hasattr(r.endpoint, "access")]
    assert missing == [], f"routes without an access rule: {missing}"


async def signed_in_client(app: Starlette, user: User) -> httpx.AsyncClient:
    started = await sessions.start(user=user, now=datetime.now(UTC), ip="", device="test")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://localhost:8000",
    )
    client.cookies.set("homeward_session", started.token)
    return client


async def route_denials(path: str) -> int:
    return await AuditEvent.filter(
        action="access.denied", object_type="route", object_id=path[:64]
    ).count()


@pytest.mark.parametrize("role", [*Role, "other-organisation-admin"])
async def test_each_role_meets_each_route_as_the_rule_says(
    app: Starlette, role: Role | str
) -> None:
    home = await world.organisation("Home org")
    elsewhere = await world.organisation("Other org")
    if role == "other-organisation-admin":
        user = await world.user(elsewhere, Role.ADMIN)
    else:
        assert isinstance(role, Role)
        user = await world.user(home, role)
    async with await signed_in_client(app, user) as client:
        page = await client.get("/")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        for route in app_routes(app):
            allowed = route.endpoint.access  # type: ignore[attr-defined]
            path = concrete(route.path)
            for method in sorted(route.methods or {"GET"}):
                if method == "HEAD":
                    continue
                before = await route_denials(path)
                response = await client.request(
                    method, path, headers={"origin": ORIGIN, "x-csrf-token": token}
                )
                denied = await route_denials(path) - before
                if allowed == PUBLIC or user.role in allowed:
                    assert denied == 0, f"{user.role} wrongly refused {method} {path}"
                    assert response.status_code < 500, f"{method} {path}: {response.status_code}"
                else:
                    assert response.status_code == 404, f"{user.role} reached {method} {path}"
                    assert denied == 1, f"refusal of {method} {path} was not audited"


async def test_anonymous_visitors_reach_only_public_routes(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    page = await client.get("/")
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    for route in app_routes(app):
        path = concrete(route.path)
        for method in sorted(route.methods or {"GET"}):
            if method == "HEAD" or route.endpoint.access == PUBLIC:  # type: ignore[attr-defined]
                continue
            response = await client.request(
                method, path, headers={"origin": ORIGIN, "x-csrf-token": token}
            )
            expected = 401 if path.startswith("/api/") else 303
            assert response.status_code == expected, f"anonymous {method} {path}"
