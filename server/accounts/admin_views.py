"""Admins and officers: invitations, users, passkeys."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import access, policy
from server.access import actor_of, current_user
from server.accounts import invitations, services
from server.accounts.models import Passkey, User
from server.enums import Country, Role
from server.errors import Invalid
from server.i18n import N_
from server.programme.coordinators import parse_countries
from server.web import now, settings_of
from server.web.templating import render


async def _invite_context(user: User) -> dict[str, object]:
    await user.fetch_related("organisation")
    roles = [role for role in Role if policy.can_invite(user, role, user.organisation)]
    participants = (
        await policy.participants_for(user).order_by("code") if user.role is Role.OFFICER else []
    )
    countries = list(Country) if Role.COORDINATOR in roles else []
    return {"roles": roles, "participants": participants, "countries": countries, "errors": []}


@access.allow(Role.ADMIN, Role.OFFICER)
async def invitation_form(request: Request) -> Response:
    user = current_user(request)
    return render(request, "admin/invite.html", {**await _invite_context(user), "values": {}})


@access.allow(Role.ADMIN, Role.OFFICER)
async def invitation_create(request: Request) -> Response:
    user = current_user(request)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("role", "name", "language", "participant")}
    countries = parse_countries(",".join(str(c) for c in form.getlist("countries")))
    values["countries"] = ",".join(c.value for c in countries)
    try:
        role = Role(values["role"])
    except ValueError:
        role = None
    errors: list[str] = []
    participant = None
    await user.fetch_related("organisation")
    if role is None or not policy.can_invite(user, role, user.organisation):
        errors.append(N_("Please choose a role you may invite."))
    if role is Role.FAMILY:
        participant = (
            await policy.participants_for(user).filter(id=values["participant"] or None).first()
            if _uuid_like(values["participant"])
            else None
        )
        if participant is None:
            errors.append(N_("A family member must be linked to a participant."))
    if errors or role is None:
        return render(
            request,
            "admin/invite.html",
            {
                **await _invite_context(user),
                "values": values,
                "errors": errors,
            },
            status=422,
        )
    await user.fetch_related("organisation")
    try:
        issued = await invitations.issue(
            actor=actor_of(request),
            organisation=user.organisation,
            role=role,
            name=values["name"],
            language=values["language"],
            valid_hours=settings_of(request).invitation_hours,
            participant=participant,
            created_by=user,
            countries=countries,
        )
    except Invalid as error:
        return render(
            request,
            "admin/invite.html",
            {
                **await _invite_context(user),
                "values": values,
                "errors": [error.message],
            },
            status=422,
        )
    return render(
        request,
        "admin/invite_done.html",
        {
            "link": issued.link(settings_of(request).origin),
            "invitation": issued.invitation,
            "recovery": False,
        },
    )


@access.allow(Role.ADMIN)
async def users_page(request: Request) -> Response:
    admin = current_user(request)
    users = await User.filter(organisation_id=admin.organisation_id).order_by("role", "name")
    keys = await Passkey.filter(user_id__in=[u.id for u in users], revoked_at=None)
    by_user: dict[int, list[Passkey]] = {}
    for key in keys:
        by_user.setdefault(key.user_id, []).append(key)
    return render(request, "admin/users.html", {"users": users, "passkeys": by_user})


@access.allow(Role.ADMIN)
async def user_disable(request: Request) -> Response:
    await services.set_active(
        admin=current_user(request), user_id=_id(request), active=False, actor=actor_of(request)
    )
    return _back()


@access.allow(Role.ADMIN)
async def user_enable(request: Request) -> Response:
    await services.set_active(
        admin=current_user(request), user_id=_id(request), active=True, actor=actor_of(request)
    )
    return _back()


@access.allow(Role.ADMIN)
async def passkey_revoke(request: Request) -> Response:
    await services.revoke_passkey(
        admin=current_user(request),
        passkey_id=_id(request),
        now=now(request),
        actor=actor_of(request),
    )
    return _back()


@access.allow(Role.ADMIN)
async def user_recovery(request: Request) -> Response:
    admin = current_user(request)
    other = await services.organisation_user(
        admin=admin, user_id=_id(request), actor=actor_of(request)
    )
    await admin.fetch_related("organisation")
    issued = await invitations.issue(
        actor=actor_of(request),
        organisation=admin.organisation,
        role=other.role,
        name=other.name,
        language=other.language,
        valid_hours=settings_of(request).invitation_hours,
        user=other,
        created_by=admin,
    )
    return render(
        request,
        "admin/invite_done.html",
        {
            "link": issued.link(settings_of(request).origin),
            "invitation": issued.invitation,
            "recovery": True,
        },
    )


def _id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except (KeyError, ValueError) as error:
        raise Invalid() from error


def _uuid_like(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _back() -> Response:
    from starlette.responses import RedirectResponse

    return RedirectResponse("/admin/users", status_code=303)
