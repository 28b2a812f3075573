"""Coordinators: the countries each one is assigned to, and creating one."""

from __future__ import annotations

from server.accounts import invitations
from server.accounts.invitations import IssuedInvitation
from server.accounts.models import User
from server.audit.services import Actor
from server.enums import Country, Role
from server.orgs.models import Organisation
from server.programme.models import CoordinatorCountry


def parse_countries(raw: str) -> tuple[Country, ...]:
    """``"kz, TN"`` → the countries, in code order (unknown codes are dropped)."""
    known = {c.value: c for c in Country}
    codes = sorted({code.strip() for code in raw.upper().split(",")})
    return tuple(known[code] for code in codes if code in known)


async def assign_countries(user: User, countries: str) -> None:
    """Give a newly enrolled coordinator the countries their invitation named."""
    for country in parse_countries(countries):
        await CoordinatorCountry.get_or_create(user_id=user.id, country=country)


async def invite(
    *,
    actor: Actor,
    organisation: Organisation,
    name: str,
    language: str,
    countries: tuple[Country, ...],
    valid_hours: int,
    created_by: User | None = None,
) -> IssuedInvitation:
    """An enrolment link for a coordinator of ``countries``.

    Raises:
        Invalid: not the programme's organisation, no country, a bad name or language.
    """
    return await invitations.issue(
        actor=actor,
        organisation=organisation,
        role=Role.COORDINATOR,
        name=name,
        language=language,
        valid_hours=valid_hours,
        countries=countries,
        created_by=created_by,
    )
