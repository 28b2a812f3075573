"""Who may reach which route.

Every endpoint in the route table is wrapped by ``allow(...)`` or
``public``; the route test fails for one that is not. A role outside the
rule gets a 404 (the route does not exist for them) and the attempt is
audited. Object-level checks (which participant, which appointment) are in
``server.policy`` and called by the services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Role
from server.errors import NotFound, Unauthenticated

Endpoint = Callable[[Request], Awaitable[Response]]
PUBLIC: frozenset[Role] = frozenset()


def actor_of(request: Request) -> Actor:
    """The audit identity of whoever sent this request."""
    user: User | None = request.state.user
    client = request.client.host if request.client else ""
    device = request.headers.get("user-agent", "")[:200]
    if user is None:
        return Actor(None, None, client, device)
    return Actor(user.id, user.organisation_id, client, device)


def current_user(request: Request) -> User:
    user: User | None = request.state.user
    if user is None:
        raise Unauthenticated()
    return user


def allow(*roles: Role) -> Callable[[Endpoint], Endpoint]:
    """Only signed-in users with one of ``roles`` reach the endpoint."""
    allowed = frozenset(roles)

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = current_user(request)
            if user.role not in allowed:
                await record(
                    actor=actor_of(request),
                    action="access.denied",
                    object_type="route",
                    object_id=request.url.path[:64],
                    detail={"role": user.role.value},
                )
                raise NotFound()
            return await endpoint(request)

        guarded.access = allowed  # type: ignore[attr-defined]
        return guarded

    return decorate


def public(endpoint: Endpoint) -> Endpoint:
    """Reachable without signing in (the page itself shows nothing personal)."""
    endpoint.access = PUBLIC  # type: ignore[attr-defined]
    return endpoint


def signed_in(endpoint: Endpoint) -> Endpoint:
    """Any signed-in user, whatever their role (their own account pages)."""
    return allow(*Role)(endpoint)
