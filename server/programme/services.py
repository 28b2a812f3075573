"""The programme's figures for one quarter, across the coordinator's countries.

The same indicators as an organisation's (``server.indicators.services``),
counted in the database with aggregate queries, for each organisation,
each country and the programme as a whole:

- people supported (an attended session in the quarter), by gender and by
  age band on the quarter's last day;
- session logs by pillar and by attendance;
- people who attended a session under each of the four pillars;
- progress reviews written in the quarter.

An organisation's figures are those of the work its own staff recorded
(the author of the log, the officer of the review): with referrals, a
partner serving another organisation's participant serves them too. So a
person served by two organisations counts once in each, and once in their
country's and the programme's figures, which are counted distinct, not
summed. Each organisation's quarter runs from midnight to midnight in its
own time zone.

The counts here are raw and never leave the server as they are: the page
and the CSV publish them through ``server.programme.disclosure``.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.queryset import QuerySet, ValuesQuery

from server import policy
from server.accounts.models import User
from server.audit.services import Actor
from server.enums import Attendance, Country, Gender, Pillar, Role
from server.indicators.services import AgeBand, age_band
from server.programme.disclosure import Group, Key
from server.programme.models import ProgrammeSnapshot
from server.programme.period import Quarter
from server.sessions.models import SessionLog

ALL = "all"
PROGRAMME: tuple[str] = ("programme",)


@dataclass(frozen=True)
class Unit:
    """A row of the tables: an organisation, a country, or the programme."""

    kind: str  # "organisation", "country" or "programme"
    key: tuple[Any, ...]
    name: str
    country: Country | None = None


@dataclass
class Figures:
    quarter: Quarter
    threshold: int
    units: list[Unit]
    values: dict[Key, int] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)


def unit_key(kind: str, value: Any = None) -> tuple[Any, ...]:
    return PROGRAMME if kind == "programme" else (kind, value)


# The measures, each with its columns: (name, first dimension, second).
GENDERS = [g.value for g in Gender]
BANDS = [b.value for b in AgeBand]
PILLARS = [p.value for p in Pillar]
ATTENDANCES = [a.value for a in Attendance]


def _values_sql(query: ValuesQuery[Any]) -> tuple[str, list[Any]]:
    # The policy's query, as SQL with its parameters, to count its rows per
    # unit in an outer query (tortoise cannot select from a subquery).
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


async def _count_groups(logs: QuerySet[SessionLog], unit_column: str | None) -> dict[Any, int]:
    """People with an attended session under all four pillars, per unit."""
    columns = [unit_column] if unit_column else []
    inner = (
        logs.filter(attendance=Attendance.ATTENDED)
        .group_by(*columns, "participant_id")
        .annotate(pillars=Count("pillar", distinct=True))
        .filter(pillars=len(Pillar))
        .values(*columns, "participant_id")
    )
    sql, params = _values_sql(inner)
    select = f'"{unit_column}" AS unit, ' if unit_column else "'programme' AS unit, "
    # The column names are LEVELS' own, never a request's; values stay parameters.
    outer = f"SELECT {select}COUNT(*) AS n FROM ({sql}) AS every_pillar"  # noqa: S608
    if unit_column:
        outer += f' GROUP BY "{unit_column}"'
    _, rows = await connections.get("default").execute_query(outer, params)
    return {row["unit"]: int(row["n"]) for row in rows}


async def compute(*, user: User, quarter: Quarter, actor: Actor) -> Figures:
    """The raw figures of ``quarter`` for the coordinator's countries.

    Raises:
        NotFound: the user is not a coordinator (audited).
    """
    if not policy.may_see_programme(user):
        raise await policy.denied(actor, "programme", str(user.organisation_id))
    await user.fetch_related("organisation")
    countries = await policy.programme_countries(user)
    organisations = await policy.programme_organisations(user, countries).order_by(
        "country", "name", "id"
    )
    units: list[Unit] = []
    for country in countries:
        for org in organisations:
            if org.country is country:
                units.append(
                    Unit("organisation", unit_key("organisation", org.id), org.name, country)
                )
        units.append(Unit("country", unit_key("country", country.value), country.value, country))
    units.append(Unit("programme", PROGRAMME, "programme"))
    figures = Figures(quarter, user.organisation.suppression_threshold, units)
    # Each organisation's quarter in its own time zone: one window per zone.
    by_zone: dict[str, list[int]] = defaultdict(list)
    for org in organisations:
        by_zone[org.time_zone].append(org.id)
    windows: list[tuple[list[int], datetime, datetime]] = []
    for zone, ids in sorted(by_zone.items()):
        period = quarter.period(zone)
        windows.append((ids, period.start, period.end))
    logs = policy.programme_logs(user, countries, windows)
    org_country = {org.id: org.country for org in organisations}
    await _supported(figures, logs, quarter)
    await _sessions(figures, logs, org_country)
    await _every_pillar(figures, logs)
    await _reviews(
        figures, user, countries, [org.id for org in organisations], quarter, org_country
    )
    _add_groups(figures)
    return figures


LEVELS = (
    ("organisation", "author__organisation_id"),
    ("country", "author__organisation__country"),
    ("programme", None),
)


def _unit_of(kind: str, value: Any) -> tuple[Any, ...]:
    if kind == "country":
        return unit_key("country", Country(str(value)).value)
    if kind == "organisation":
        return unit_key("organisation", int(value))
    return PROGRAMME


async def _supported(figures: Figures, logs: QuerySet[SessionLog], quarter: Quarter) -> None:
    """Distinct people per unit, gender and age band; one query per level,
    since a person served by two organisations is one person above them."""
    for unit in figures.units:
        figures.values[("supported", unit.key, ALL, ALL)] = 0
        for gender in GENDERS:
            figures.values[("supported", unit.key, gender, ALL)] = 0
        for band in BANDS:
            figures.values[("supported", unit.key, ALL, band)] = 0
    attended = logs.filter(attendance=Attendance.ATTENDED)
    band_of = age_band(quarter.period("UTC"), prefix="participant__")
    for kind, column in LEVELS:
        columns = [column] if column else []
        rows = (
            await attended.annotate(band=band_of)
            .annotate(n=Count("participant_id", distinct=True))
            .group_by(*columns, "participant__gender", "band")
            .values(*columns, "participant__gender", "band", "n")
        )
        for row in rows:
            where = _unit_of(kind, row[column] if column else None)
            gender, age, n = str(row["participant__gender"]), str(row["band"]), int(row["n"])
            # Within one unit a person has one gender and one band: these add up.
            figures.values[("supported", where, ALL, ALL)] += n
            figures.values[("supported", where, gender, ALL)] += n
            figures.values[("supported", where, ALL, age)] += n


async def _sessions(
    figures: Figures, logs: QuerySet[SessionLog], org_country: dict[int, Country]
) -> None:
    """Session logs per organisation, pillar and attendance (they add up)."""
    for unit in figures.units:
        figures.values[("sessions", unit.key, ALL, ALL)] = 0
        for pillar in PILLARS:
            figures.values[("sessions", unit.key, pillar, ALL)] = 0
        for attendance in ATTENDANCES:
            figures.values[("sessions", unit.key, ALL, attendance)] = 0
    rows = (
        await logs.annotate(n=Count("id"))
        .group_by("author__organisation_id", "pillar", "attendance")
        .values("author__organisation_id", "pillar", "attendance", "n")
    )
    for row in rows:
        org_id = int(row["author__organisation_id"])
        pillar, attendance, n = str(row["pillar"]), str(row["attendance"]), int(row["n"])
        for where in _up(org_id, org_country):
            figures.values[("sessions", where, ALL, ALL)] += n
            figures.values[("sessions", where, pillar, ALL)] += n
            figures.values[("sessions", where, ALL, attendance)] += n


def _up(org_id: int, org_country: dict[int, Country]) -> list[tuple[Any, ...]]:
    """An organisation's unit, its country's and the programme's."""
    return [
        unit_key("organisation", org_id),
        unit_key("country", org_country[org_id].value),
        PROGRAMME,
    ]


async def _every_pillar(figures: Figures, logs: QuerySet[SessionLog]) -> None:
    for unit in figures.units:
        figures.values[("every_pillar", unit.key)] = 0
    for kind, column in LEVELS:
        for value, n in (await _count_groups(logs, column)).items():
            figures.values[("every_pillar", _unit_of(kind, value))] = n


async def _reviews(
    figures: Figures,
    user: User,
    countries: list[Country],
    organisation_ids: list[int],
    quarter: Quarter,
    org_country: dict[int, Country],
) -> None:
    """Progress reviews dated in the quarter (a local date), per organisation."""
    for unit in figures.units:
        figures.values[("reviews", unit.key)] = 0
    rows = (
        await policy.programme_reviews(user, countries, organisation_ids)
        .filter(reviewed_on__gte=quarter.first, reviewed_on__lte=quarter.last)
        .annotate(n=Count("id"))
        .group_by("officer__organisation_id")
        .values("officer__organisation_id", "n")
    )
    for row in rows:
        for where in _up(int(row["officer__organisation_id"]), org_country):
            figures.values[("reviews", where)] += int(row["n"])


# The tables of the page: (measure, the columns of its first and second
# dimension; a table shows one of them, the other fixed at ALL).
TABLES: dict[str, tuple[str, list[str], bool]] = {
    "supported_gender": ("supported", GENDERS, True),
    "supported_band": ("supported", BANDS, False),
    "sessions_pillar": ("sessions", PILLARS, True),
    "sessions_attendance": ("sessions", ATTENDANCES, False),
}
SINGLE = ("every_pillar", "reviews")


def cell(measure: str, unit: tuple[Any, ...], column: str, first: bool) -> Key:
    return (measure, unit, column, ALL) if first else (measure, unit, ALL, column)


def _add_groups(figures: Figures) -> None:
    """Every row and column of every table as a sum, for disclosure control.

    Country and programme totals of people are counted distinct, so they
    may be smaller than the sum of their organisations; the groups treat
    them as sums all the same, which can only hide more.
    """
    countries = [u for u in figures.units if u.kind == "country"]
    orgs_of: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {
        c.key: [u.key for u in figures.units if u.kind == "organisation" and u.country is c.country]
        for c in countries
    }
    parents = [(c.key, orgs_of[c.key]) for c in countries]
    parents.append((PROGRAMME, [c.key for c in countries]))
    for measure, columns, first in TABLES.values():
        for unit in figures.units:
            figures.groups.append(
                Group(
                    tuple(cell(measure, unit.key, c, first) for c in columns),
                    (measure, unit.key, ALL, ALL),
                )
            )
        for column in [*columns, ALL]:
            for parent, children in parents:
                figures.groups.append(
                    Group(
                        tuple(cell(measure, child, column, first) for child in children),
                        cell(measure, parent, column, first),
                    )
                )
    for measure in SINGLE:
        for parent, children in parents:
            figures.groups.append(
                Group(tuple((measure, child) for child in children), (measure, parent))
            )


# How long a quarter's counts are kept before they are counted again (late
# syncs of sessions from phones that were offline when the quarter ended).
SNAPSHOT_AGE = timedelta(days=1)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _stored(figures: Figures) -> dict[str, Any]:
    return {
        "units": [
            [u.kind, list(u.key), u.name, u.country.value if u.country else None]
            for u in figures.units
        ],
        "values": [
            [list(key) if isinstance(key, tuple) else key, n] for key, n in figures.values.items()
        ],
    }


def _restored(stored: dict[str, Any], quarter: Quarter, threshold: int) -> Figures:
    units = [
        Unit(kind, _tuples(key), name, Country(country) if country else None)
        for kind, key, name, country in stored["units"]
    ]
    figures = Figures(quarter, threshold, units)
    figures.values = {_tuples(key): int(n) for key, n in stored["values"]}
    _add_groups(figures)
    return figures


async def figures_for(
    *, user: User, quarter: Quarter, actor: Actor, now: datetime, fresh: bool = False
) -> Figures:
    """The quarter's figures for the coordinator's countries: kept counts when
    counted less than a day ago, else (or when ``fresh``) counted now and kept.

    Raises:
        NotFound: the user is not a coordinator (audited).
    """
    if not policy.may_see_programme(user):
        raise await policy.denied(actor, "programme", str(user.organisation_id))
    await user.fetch_related("organisation")
    scope = ",".join(c.value for c in await policy.programme_countries(user))
    kept = await ProgrammeSnapshot.get_or_none(quarter=quarter.key, countries=scope)
    if kept is not None and not fresh and now - kept.computed_at < SNAPSHOT_AGE:
        return _restored(kept.figures, quarter, user.organisation.suppression_threshold)
    figures = await compute(user=user, quarter=quarter, actor=actor)
    if kept is not None:
        kept.figures, kept.computed_at = _stored(figures), now
        await kept.save(update_fields=["figures", "computed_at"])
        return figures
    # Another request may count the same quarter at the same moment: one row stays.
    with contextlib.suppress(IntegrityError):
        await ProgrammeSnapshot.create(
            quarter=quarter.key, countries=scope, computed_at=now, figures=_stored(figures)
        )
    return figures


async def count_ahead(*, quarter: Quarter, actor: Actor, now: datetime) -> int:
    """Count ``quarter`` now for every active coordinator's set of countries
    (``homeward programme refresh``, nightly), so that no coordinator waits
    for the counting. Returns how many sets of countries were counted."""
    done: set[str] = set()
    for user in await User.filter(role=Role.COORDINATOR, is_active=True).order_by("id"):
        scope = ",".join(c.value for c in await policy.programme_countries(user))
        if scope and scope not in done:
            await figures_for(user=user, quarter=quarter, actor=actor, now=now, fresh=True)
            done.add(scope)
    return len(done)
