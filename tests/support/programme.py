"""A small programme world for the coordinator tests, and the attacker that
tries to work suppressed cells back out of what was published."""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from server.accounts.models import User
from server.enums import Attendance, Country, Gender, Pillar, Role
from server.orgs.models import Organisation
from server.participants.codes import new_code
from server.participants.models import Participant
from server.programme.models import CoordinatorCountry
from server.sessions.models import SessionLog

# 25 November 2026: the last quarter ended everywhere is 2026-Q3.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def organisation(
    name: str, country: Country, zone: str, *, programme: bool = False
) -> Organisation:
    return await Organisation.create(
        name=name,
        country=country,
        default_language="en",
        time_zone=zone,
        is_programme=programme,
    )


async def staff(org: Organisation, role: Role = Role.WORKER, language: str = "en") -> User:
    return await User.create(
        organisation=org,
        name=f"{role.value} {secrets.token_hex(2)}",
        role=role,
        language=language,
        time_zone=org.time_zone,
        webauthn_handle=secrets.token_bytes(32),
    )


async def coordinator(
    programme: Organisation, countries: Iterable[Country], language: str = "en"
) -> User:
    user = await staff(programme, Role.COORDINATOR, language)
    for country in countries:
        await CoordinatorCountry.create(user=user, country=country)
    return user


async def person(
    org: Organisation,
    *,
    gender: Gender = Gender.FEMALE,
    born: str | None = "1990-05-01",
    name: str = "Test Participant",
    code: str | None = None,
) -> Participant:
    return await Participant.create(
        id=uuid.uuid4(),
        organisation=org,
        code=code or new_code(org.country.value),
        full_name=name,
        gender=gender,
        date_of_birth=born,
        language="en",
        consent_given=True,
    )


async def log(
    who: Participant,
    author: User,
    at: datetime,
    *,
    pillar: Pillar = Pillar.FAMILY,
    attendance: Attendance = Attendance.ATTENDED,
    notes: str = "",
) -> SessionLog:
    return await SessionLog.create(
        id=uuid.uuid4(),
        participant=who,
        pillar=pillar,
        form_version=1,
        occurred_at=at,
        duration_minutes=45,
        author=author,
        attendance=attendance,
        notes=notes,
        content_hash="0" * 64,
    )


def local(zone: str, *parts: int) -> datetime:
    """A wall-clock time in ``zone``: ``local("Asia/Almaty", 2026, 7, 1)``."""
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[arg-type,misc]


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def attack(rows: list[dict[str, str]], organisations: dict[str, str]) -> dict[tuple[str, ...], int]:
    """Work out what a reader can from the published CSV by subtraction.

    Equations a reader knows: in each table, a row's columns add up to its
    "all" column; in each column, a country's organisations add up to the
    country, and the countries to the programme. For every equation with
    exactly one unknown cell, solve it; repeat until nothing changes.

    Args:
        rows: the CSV rows.
        organisations: organisation name → its country code.

    Returns:
        Every cell the reader ends up knowing that was published as "< N".
    """
    known: dict[tuple[str, ...], int | None] = {}
    for row in rows:
        unit = row["organisation"] or row["country"] or "programme"
        key = (row["table"], row["level"], unit, row["column"])
        value = row["value"]
        known[key] = None if value.startswith("<") else int(value)
    suppressed = {key for key, value in known.items() if value is None}
    equations: list[tuple[list[tuple[str, ...]], tuple[str, ...]]] = []
    tables = {key[0] for key in known}
    for table in tables:
        columns = sorted({k[3] for k in known if k[0] == table})
        units = {(k[1], k[2]) for k in known if k[0] == table}
        for level, unit in units:
            members = [(table, level, unit, c) for c in columns if c != "all"]
            if members:
                equations.append((members, (table, level, unit, "all")))
        countries = sorted({u for lv, u in units if lv == "country"})
        for column in columns:
            for country in countries:
                children = [
                    (table, "organisation", name, column)
                    for name, code in organisations.items()
                    if code == country and (table, "organisation", name, column) in known
                ]
                equations.append((children, (table, "country", country, column)))
            equations.append(
                (
                    [(table, "country", c, column) for c in countries],
                    (table, "programme", "programme", column),
                )
            )
    changed = True
    while changed:
        changed = False
        for members, total in equations:
            cells = [*members, total]
            unknown = [c for c in cells if known.get(c) is None]
            if len(unknown) != 1:
                continue
            missing = unknown[0]
            member_sum = sum(known[c] or 0 for c in members if c != missing)
            if missing == total:
                known[missing] = member_sum
            else:
                known[missing] = (known[total] or 0) - member_sum
            changed = True
    return {key: value for key in suppressed if (value := known.get(key)) is not None}
