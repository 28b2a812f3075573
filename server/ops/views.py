"""Routes of the operations domain: the Prometheus metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server import access
from server.errors import NotFound
from server.ops.access import may_read_metrics
from server.ops.metrics import CONTENT_TYPE, Metrics
from server.ops.middleware import METRICS_STATE
from server.web import client_ip, settings_of


# Public in the route table because a scraper on a listed network has no
# session; everyone else is answered as if the page did not exist.
@access.public
async def metrics(request: Request) -> Response:
    allowed = may_read_metrics(
        user=request.state.user,
        client_ip=client_ip(request),
        networks=settings_of(request).metrics_networks,
    )
    if not allowed:
        raise NotFound()
    # This app's own metrics, which its observability middleware keeps.
    current: Metrics = getattr(request.state, METRICS_STATE)
    return Response(current.render(), media_type=CONTENT_TYPE)


routes: list[BaseRoute] = [Route("/metrics", metrics, name="metrics")]
