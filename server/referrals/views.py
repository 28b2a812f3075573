"""Routes of referrals: the referring officer's page per participant and the
partner's inbox (docs/referrals.md). Decisions are in the services and in
``server.policy``; a refusal (``Invalid``) is shown as the error page, with
its reason in the reader's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n, policy
from server.access import actor_of, current_user
from server.enums import Pillar, Role
from server.participants import services as participants
from server.referrals import services
from server.referrals.labels import KINDS, status_label
from server.referrals.models import Referral, ReferralKind
from server.sessions.labels import PILLARS
from server.web import now
from server.web.templating import render

POST = ["POST"]


def _today(request: Request) -> date:
    return now(request).astimezone(i18n.current().tz).date()


def _rows(referrals: list[Referral], request: Request) -> list[dict[str, Any]]:
    at = now(request)
    return [
        {
            "referral": r,
            "pillars": services.pillar_list(r),
            "status": status_label(r, at),
            "open": r.status.value in ("pending", "active") and r.expires_at > at,
        }
        for r in referrals
    ]


@access.allow(Role.OFFICER)
async def participant_referrals(request: Request) -> Response:
    """The referring officer's page: the participant's referrals, and a new one."""
    user = current_user(request)
    actor = actor_of(request)
    participant = await participants.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor
    )
    if request.method == "POST":
        form = await request.form()
        pillars = [Pillar(p) for p in form.getlist("pillars") if p in set(Pillar)]
        kind = str(form.get("kind", ""))
        until = str(form.get("valid_until", ""))
        try:
            valid_until: date | None = date.fromisoformat(until)
        except ValueError:
            valid_until = None
        await services.refer(
            officer=user,
            participant=participant,
            to_organisation_id=form.get("to_organisation"),
            kind=ReferralKind(kind) if kind in set(ReferralKind) else ReferralKind.REFERRAL,
            pillars=pillars,
            share_goals=form.get("share_goals") == "yes",
            valid_until=valid_until,
            consent_confirmed=form.get("consent") == "yes",
            today=_today(request),
            now=now(request),
            actor=actor,
        )
        return RedirectResponse(f"/participants/{participant.id}/referrals?saved=1", 303)
    made = await (
        policy.referrals_made(user)
        .filter(participant_id=participant.id)
        .prefetch_related("to_organisation")
        .order_by("-created_at")
    )
    partners = await policy.referral_partners(user).order_by("name")
    return render(
        request,
        "referrals/participant.html",
        {
            "participant": participant,
            "rows": _rows(list(made), request),
            "partners": partners,
            "pillars": PILLARS,
            "kinds": KINDS,
            "today": _today(request),
            "saved": "saved" in request.query_params,
        },
    )


@access.allow(Role.OFFICER, Role.ADMIN)
async def inbox(request: Request) -> Response:
    """The partner's inbox: referrals addressed to the user's organisation."""
    user = current_user(request)
    received = await (
        policy.referrals_received(user)
        .prefetch_related("participant", "from_organisation")
        .order_by("-created_at")
    )
    return render(
        request,
        "referrals/inbox.html",
        {
            "rows": _rows(list(received), request),
            "workers": await policy.assignable_partner_staff(user).order_by("name"),
            "officers": await policy.assignable_partner_officers(user).order_by("name"),
            "pillars": PILLARS,
            "kinds": KINDS,
            "saved": "saved" in request.query_params,
        },
    )


@access.allow(Role.OFFICER, Role.ADMIN)
async def accept(request: Request) -> Response:
    return await _decide(request, accepting=True)


@access.allow(Role.OFFICER, Role.ADMIN)
async def decline(request: Request) -> Response:
    return await _decide(request, accepting=False)


async def _decide(request: Request, *, accepting: bool) -> Response:
    """Accept or decline a referral the user's organisation received."""
    user = current_user(request)
    actor = actor_of(request)
    referral = await policy.referral_to_decide(user, request.path_params["id"], actor)
    form = await request.form()
    if accepting:
        await services.accept(
            user=user,
            referral=referral,
            worker_ids=[int(str(w)) for w in form.getlist("workers") if str(w).isdigit()],
            officer_id=services.as_int(form.get("officer")),
            now=now(request),
            actor=actor,
        )
    else:
        await services.decline(
            user=user,
            referral=referral,
            reason=str(form.get("reason", "")),
            now=now(request),
            actor=actor,
        )
    return RedirectResponse("/referrals?saved=1", 303)


@access.allow(Role.OFFICER, Role.ADMIN)
async def end(request: Request) -> Response:
    """End a referral: the referring officer or the partner."""
    user = current_user(request)
    actor = actor_of(request)
    referral = await policy.referral_to_end(user, request.path_params["id"], actor)
    form = await request.form()
    await services.end(
        user=user,
        referral=referral,
        reason=str(form.get("reason", "")),
        now=now(request),
        actor=actor,
    )
    if referral.from_organisation_id == user.organisation_id:
        return RedirectResponse(f"/participants/{referral.participant_id}/referrals?saved=1", 303)
    return RedirectResponse("/referrals?saved=1", 303)


routes: list[BaseRoute] = [
    Route("/referrals", inbox, name="referrals"),
    Route(
        "/participants/{id}/referrals",
        participant_referrals,
        methods=["GET", "POST"],
        name="participant_referrals",
    ),
    Route("/referrals/{id}/accept", accept, methods=POST),
    Route("/referrals/{id}/decline", decline, methods=POST),
    Route("/referrals/{id}/end", end, methods=POST),
]
