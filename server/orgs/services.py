"""Organisations: starting one, and its admin's settings.

Every change is written with its audit event in one transaction; the
event names the fields that changed, never their values (a phone number
or a name is not the trail's business).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from babel.core import get_global
from tortoise.transactions import in_transaction

from server import policy
from server.accounts import invitations
from server.accounts.invitations import IssuedInvitation
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Country, Role
from server.errors import Invalid
from server.i18n import N_
from server.orgs.models import Organisation
from server.participants.forms import CHOOSE, REQUIRED, Problem, Problems
from server.settings import LANGUAGES

NAME_MAX = 200
PHONE_DIGITS = (6, 15)  # a short local number up to E.164's longest
RETENTION_DAYS = (30, 36_500)  # a month to a hundred years


def country_zones() -> dict[Country, tuple[str, ...]]:
    """Each programme country's time zones, from the CLDR data Babel ships."""
    zones = get_global("territory_zones")
    return {country: tuple(zones[country.value]) for country in Country}


TIME_ZONES: tuple[str, ...] = (*(z for c in country_zones().values() for z in c), "UTC")


@dataclass(frozen=True)
class SettingsInput:
    name: str
    contact_phone: str
    default_language: str
    time_zone: str
    retention_days: int


FIELDS = tuple(f.name for f in fields(SettingsInput))


def normalise_phone(raw: str) -> str | None:
    """``+256 772-123 456`` → ``+256772123456``; None when it is not a phone number.

    Digits, spaces and dashes, with at most one ``+`` and only in front;
    an empty answer is an empty number (none given).
    """
    text = raw.strip()
    if not text:
        return ""
    plus = text.startswith("+")
    body = text[1:] if plus else text
    if not body or any(ch not in "0123456789 -" for ch in body):
        return None
    digits = "".join(ch for ch in body if ch.isdigit())
    if not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1] or not body[0].isdigit():
        return None
    return ("+" if plus else "") + digits


def check_settings(values: dict[str, str]) -> tuple[SettingsInput | None, Problems]:
    """Check the settings form; every problem at once, keyed by field."""
    problems: Problems = {}
    name = values.get("name", "").strip()
    if not name:
        problems["name"] = REQUIRED
    elif len(name) > NAME_MAX:
        problems["name"] = Problem(
            N_("This is too long. Most characters allowed: %(max)s."), {"max": NAME_MAX}
        )
    phone = normalise_phone(values.get("contact_phone", ""))
    if phone is None:
        problems["contact_phone"] = Problem(
            N_(
                "Please enter a phone number with digits only, for example +256 772 123456."
                " Spaces and dashes are allowed."
            )
        )
    language = values.get("default_language", "")
    if language not in LANGUAGES:
        problems["default_language"] = CHOOSE
    zone = values.get("time_zone", "")
    if zone not in TIME_ZONES:
        problems["time_zone"] = CHOOSE
    days = _whole(values.get("retention_days", ""))
    if days is None or not RETENTION_DAYS[0] <= days <= RETENTION_DAYS[1]:
        problems["retention_days"] = Problem(
            N_("Please enter a number of days from %(least)s to %(most)s."),
            {"least": RETENTION_DAYS[0], "most": RETENTION_DAYS[1]},
        )
    if problems or phone is None or days is None:
        return None, problems
    return SettingsInput(name, phone, language, zone, days), problems


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def values_of(organisation: Organisation) -> dict[str, str]:
    return {key: str(getattr(organisation, key)) for key in FIELDS}


async def own(*, admin: User, actor: Actor) -> Organisation:
    """The admin's own organisation (policy), or NotFound (audited)."""
    return await policy.organisation_for(admin, actor)


async def update(*, admin: User, data: SettingsInput, actor: Actor) -> list[str]:
    """Change the admin's organisation's settings.

    Returns:
        The names of the fields that changed (none: nothing written, no event).
    """
    organisation = await own(admin=admin, actor=actor)
    columns = {key: getattr(data, key) for key in FIELDS}
    changed = sorted(k for k, v in columns.items() if getattr(organisation, k) != v)
    if not changed:
        return []
    async with in_transaction() as conn:
        await policy.row(organisation).using_db(conn).update(**columns)
        await record(
            actor=actor,
            action="organisation.updated",
            object_type="organisation",
            object_id=str(organisation.id),
            detail={"fields": changed},
        )
    return changed


@dataclass(frozen=True)
class Started:
    organisation: Organisation
    invitation: IssuedInvitation


async def start(
    *,
    name: str,
    country: Country,
    language: str,
    time_zone: str,
    admin_name: str,
    valid_hours: int,
    actor: Actor,
    is_programme: bool = False,
) -> Started:
    """Create an organisation and its first admin's invitation, together.

    ``is_programme``: the programme's own organisation, whose admin invites
    the coordinators (docs/programme.md).

    Raises:
        Invalid: a blank or too long name, or a language or time zone not offered.
    """
    if not name.strip() or len(name.strip()) > NAME_MAX:
        raise Invalid(N_("Please enter the organisation's name (at most 200 characters)."))
    if language not in LANGUAGES or time_zone not in TIME_ZONES:
        raise Invalid(N_("Please choose one of the languages and time zones offered."))
    # One transaction: an organisation nobody can enter is never left behind.
    async with in_transaction():
        organisation = await Organisation.create(
            name=name.strip(),
            country=country,
            default_language=language,
            time_zone=time_zone,
            is_programme=is_programme,
        )
        await record(
            actor=actor,
            action="organisation.created",
            object_type="organisation",
            object_id=str(organisation.id),
            organisation_id=organisation.id,
            detail={"country": country.value},
        )
        issued = await invitations.issue(
            actor=actor,
            organisation=organisation,
            role=Role.ADMIN,
            name=admin_name,
            language=language,
            valid_hours=valid_hours,
        )
    return Started(organisation, issued)


async def every_organisation() -> list[Organisation]:
    """For the command line (the server's operator), oldest first."""
    return await Organisation.all().order_by("id")
