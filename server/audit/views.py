"""Admins browse and filter their organisation's audit trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from server import access, i18n
from server.access import actor_of, current_user
from server.audit.models import AuditEvent
from server.audit.services import record
from server.enums import Role
from server.templating import render

PAGE_SIZE = 50


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@access.allow(Role.ADMIN)
async def audit_page(request: Request) -> Response:
    admin = current_user(request)
    params = request.query_params
    query = AuditEvent.filter(organisation_id=admin.organisation_id)
    action = params.get("action", "").strip()[:64]
    if action:
        query = query.filter(action__startswith=action)
    actor = params.get("actor", "").strip()
    if actor.isdigit():
        query = query.filter(actor_id=int(actor))
    tz = i18n.current().tz
    start, end = _day(params.get("from", "")), _day(params.get("to", ""))
    if start:
        query = query.filter(at__gte=datetime.combine(start, time(), tz))
    if end:
        query = query.filter(at__lt=datetime.combine(end + timedelta(days=1), time(), tz))
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    events = await query.order_by("-id").offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    await record(
        actor=actor_of(request), action="audit.read", object_type="audit", detail={"page": page}
    )
    return render(
        request,
        "admin/audit.html",
        {
            "events": events[:PAGE_SIZE],
            "page": page,
            "more": len(events) > PAGE_SIZE,
            "filters": {
                "action": action,
                "actor": actor,
                "from": params.get("from", ""),
                "to": params.get("to", ""),
            },
        },
    )
