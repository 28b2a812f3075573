"""Measure every request once: an access log line and the request metrics.

It sits outside the sign-in middleware (so it also times that), which means
the user is known only after the inner app has answered: it is read from
the scope's state then. The route template is read from the scope too, where
Starlette's router leaves the route it matched.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import errors
from server.ops import logs
from server.ops.metrics import Metrics, counting_into
from server.settings import Settings

UNMATCHED = "<unmatched>"  # never the concrete path: it may be anything a client sent
# A request id from a proxy is kept only when it cannot smuggle anything into a log.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Any other method is one label, so a client cannot grow the metrics at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
METRICS_STATE = "metrics"  # the key in the scope's state


def middleware(settings: Settings) -> list[Middleware]:
    """Middleware to install outermost-but-one (inside the security headers).

    Each call makes new metrics: one set per app.
    """
    logs.quiet_libraries()
    return [Middleware(ObservabilityMiddleware, metrics=Metrics())]


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = str(getattr(route, "path", UNMATCHED))
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def _user_id(scope: Scope) -> int | None:
    user: Any = scope.get("state", {}).get("user")
    return getattr(user, "id", None)


def _request_id(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            offered = str(value.decode("latin-1"))
            if _REQUEST_ID.fullmatch(offered):
                return offered
    return uuid.uuid4().hex


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._on_startup(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # The /metrics view reads this app's metrics from the request's state.
        scope.setdefault("state", {})[METRICS_STATE] = self.metrics
        request_id = _request_id(scope)
        status = 500  # what the client gets if the app raises before answering
        answered = False  # the response has started: too late for an error page

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = int(message["status"]), True
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            with counting_into(self.metrics):
                await self.app(scope, receive, send_with_id)
        except Exception as error:
            # Answered here, not re-raised: Starlette's outermost middleware
            # would hand it on to uvicorn, which logs the whole traceback,
            # messages and concrete path (with its token) included.
            errors.log_unhandled(scope, error, request_id)
            if answered:
                return  # too late for an error page; the client sees a cut answer
            response = await errors.server_error_response(Request(scope))
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.observe_request(route=route, method=method, status=status, seconds=seconds)
            logs.access(
                method=method,
                route=route,
                status=status,
                duration_ms=seconds * 1000,
                user_id=_user_id(scope),
                request_id=request_id,
            )

    @staticmethod
    def _on_startup(receive: Receive) -> Receive:
        # The app's lifespan is not ours to edit; configuring logging when
        # the server announces start-up keeps it out of import time.
        async def watching() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                logs.configure()
            return message

        return watching
