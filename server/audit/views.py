"""Admins browse and filter their organisation's audit trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response
from tortoise.expressions import Q

from server import access, i18n
from server.access import actor_of, current_user
from server.audit.models import AuditEvent
from server.audit.services import record
from server.enums import Role
from server.participants.forms import parse_date
from server.web import page_number, whole_number
from server.web.templating import render

PAGE_SIZE = 50


def _day(value: str) -> date | None:
    # The shared parser: it refuses days at the ends of the calendar, where
    # turning them into instants overflows.
    return parse_date(value)


@access.allow(Role.ADMIN)
async def audit_page(request: Request) -> Response:
    admin = current_user(request)
    params = request.query_params
    # Their organisation's own trail, and what others tried on its records.
    mine = admin.organisation_id
    query = AuditEvent.filter(Q(organisation_id=mine) | Q(object_organisation_id=mine))
    action = params.get("action", "").strip()[:64]
    if action:
        query = query.filter(action__startswith=action)
    actor = params.get("actor", "").strip()
    actor_id = whole_number(actor, least=0, most=2**31 - 1)  # a database INTEGER
    if actor_id is not None:
        query = query.filter(actor_id=actor_id)
    elif actor:
        query = query.filter(actor_id=-1)  # no user has that id (ids start at 1)
    tz = i18n.current().tz
    start, end = _day(params.get("from", "")), _day(params.get("to", ""))
    if start:
        query = query.filter(at__gte=datetime.combine(start, time(), tz))
    if end:
        query = query.filter(at__lt=datetime.combine(end + timedelta(days=1), time(), tz))
    partners = params.get("partners") == "1"
    if partners:
        # Only what other organisations (a referral's partner, say) did with
        # this organisation's records (docs/referrals.md).
        query = query.exclude(organisation_id=mine)
    page = page_number(params.get("page"))
    events = await query.order_by("-id").offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    await record(
        actor=actor_of(request), action="audit.read", object_type="audit", detail={"page": page}
    )
    return render(
        request,
        "admin/audit.html",
        {
            "events": events[:PAGE_SIZE],
            "organisation_id": mine,
            "page": page,
            "more": len(events) > PAGE_SIZE,
            "filters": {
                "action": action,
                "actor": actor,
                "from": params.get("from", ""),
                "to": params.get("to", ""),
                "partners": "1" if partners else "",
            },
        },
    )
