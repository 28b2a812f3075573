"""Route-level access (server/access.py): who reaches an endpoint, and what
the audit trail keeps about a refusal (who, from where, which path)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from server import access
from server.audit.models import AuditEvent
from server.audit.services import Actor
from server.enums import Role
from tests.support import world
from tests.support.web import signed_in

AGENT = "Mozilla/5.0 (Linux; Android 9) " + "x" * 300
AGENT_KEPT = "Mozilla/5.0 (Linux; Android 9) " + "x" * 169  # the first 200 characters


def request(user: object, client: tuple[str, int] | None, agent: str | None) -> Request:
    headers = [(b"user-agent", agent.encode())] if agent is not None else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "headers": headers,
        "client": client,
        "state": {"user": user},
    }
    return Request(scope)


def test_the_actor_is_who_and_where_from() -> None:
    class Someone:
        id = 41
        organisation_id = 7

    assert access.actor_of(request(None, ("10.1.2.3", 5000), AGENT)) == Actor(
        None, None, "10.1.2.3", AGENT_KEPT
    )
    assert access.actor_of(request(Someone(), ("10.1.2.3", 5000), "phone")) == Actor(
        41, 7, "10.1.2.3", "phone"
    )
    assert access.actor_of(request(None, None, None)) == Actor(None, None, "", "")


async def test_a_role_outside_the_rule_gets_404_and_the_attempt_is_audited(
    app: Starlette,
) -> None:
    org = await world.organisation()
    worker = await world.user(org, Role.WORKER)
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, worker) as client:
        response = await client.get("/admin/users", headers={"user-agent": AGENT})
        assert response.status_code == 404
        # A long path is kept to its first 64 characters.
        path = "/participants/" + "p" * 70 + "/progress"
        refused = await client.get(path, headers={"user-agent": "phone"})
        assert refused.status_code == 404
    async with await signed_in(app, admin) as client:
        assert (await client.get("/admin/users")).status_code == 200
    events = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [
        (e.actor_id, e.organisation_id, e.object_type, e.object_id, e.ip, e.device, e.detail)
        for e in events
    ] == [
        (worker.id, org.id, "route", "/admin/users", "127.0.0.1", AGENT_KEPT, {"role": "worker"}),
        (worker.id, org.id, "route", "/participants/" + "p" * 50, "127.0.0.1", "phone",
         {"role": "worker"}),
    ]  # fmt: skip


async def test_without_a_sign_in_the_route_asks_for_one(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/users")
    assert page.status_code == 303 and page.headers["location"] == "/signin"
    api = await client.get("/api/me", headers={"accept": "application/json"})
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "sign_in_required"
    assert await AuditEvent.filter(action="access.denied").count() == 0


async def _endpoint(request: Request) -> Response:
    return PlainTextResponse("in")


def test_the_decorators_declare_who_may_enter() -> None:
    assert access.signed_in(_endpoint).access == frozenset(Role)  # type: ignore[attr-defined]
    assert access.public(_endpoint).access == frozenset()  # type: ignore[attr-defined]
    guarded = access.allow(Role.OFFICER, Role.WORKER)(_endpoint)
    assert guarded.access == frozenset({Role.OFFICER, Role.WORKER})  # type: ignore[attr-defined]
    assert guarded.__name__ == "_endpoint"  # wraps: the route table names it


async def test_every_role_in_the_rule_gets_through(app: Starlette) -> None:
    org = await world.organisation()
    family = await world.user(org, Role.FAMILY)
    answer = await access.signed_in(_endpoint)(request(family, ("127.0.0.1", 1), "t"))
    assert answer.body == b"in"
    guarded = access.allow(Role.OFFICER, Role.WORKER)(_endpoint)
    for role, status in [
        (Role.OFFICER, 200),
        (Role.WORKER, 200),
        (Role.ADMIN, 404),
        (Role.FAMILY, 404),
    ]:
        user = await world.user(org, role)
        answer = None
        try:
            answer = await guarded(request(user, ("127.0.0.1", 1), "t"))
        except Exception as error:  # NotFound
            assert getattr(error, "status", None) == status, role
        else:
            assert answer.status_code == status and answer.body == b"in", role
