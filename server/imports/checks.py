"""Checking a caseload file: every row against the rules, every problem at once.

The result (``Plan``) is what the preview shows: the participants that
would be created, or every mistake of every row. Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.support import NullTranslations

from server import policy
from server.accounts.models import User
from server.audit.services import Actor
from server.enums import Gender, Role
from server.i18n import N_
from server.imports import columns as col
from server.imports.reading import Sheet
from server.orgs.models import Organisation
from server.participants.forms import CHOOSE, REQUIRED, Problem

NAME_MAX = 200
CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


@dataclass(frozen=True)
class RowProblem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # a column key, or "" for the whole file
    problem: Problem
    value: str = ""


@dataclass(frozen=True)
class NewParticipant:
    row: int
    full_name: str
    gender: Gender
    date_of_birth: date | None
    release_date: date | None
    officer: User
    workers: list[User]
    code: str  # "" → a new code is made
    language: str
    consent_date: date | None


@dataclass
class Plan:
    format: str
    rows: list[NewParticipant] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # keys found in the header

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def whole_file(problem: Problem) -> Plan:
    return Plan("", problems=[RowProblem(0, "", problem)])


async def check(
    *,
    user: User,
    sheet: Sheet,
    catalogues: Mapping[str, NullTranslations],
    today: date,
    actor: Actor,
) -> Plan:
    """Read every row against the rules; every problem of every row at once.

    Raises:
        NotFound: the user may not import (audited).
    """
    if not policy.may_import(user):
        raise await policy.denied(actor, "import", "check")
    plan = Plan(sheet.format)
    if not sheet.rows:
        plan.problems.append(RowProblem(0, "", Problem(N_("The file is empty."))))
        return plan
    keys = col.header_keys(catalogues)
    header_number, header_cells = sheet.rows[0]
    header = [keys.get(col.normal(col.text_of(cell))) for cell in header_cells]
    plan.columns = [key for key in header if key]
    for column in col.COLUMNS:
        if column.required and column.key not in header:
            plan.problems.append(
                RowProblem(
                    header_number,
                    column.key,
                    Problem(N_("This column is missing from the first row.")),
                )
            )
    if len(sheet.rows) == 1:
        plan.problems.append(
            RowProblem(0, "", Problem(N_("The file has no rows under the first.")))
        )
    if plan.problems:
        return plan
    organisation = await Organisation.get(id=user.organisation_id)
    staff = await policy.importable_staff(user)
    context = _Context(
        user=user,
        organisation=organisation,
        officers=_by_name(s for s in staff if s.role is Role.OFFICER),
        workers=_by_name(s for s in staff if s.role is Role.WORKER),
        genders=col.gender_words(catalogues),
        languages=col.language_words(),
        today=today,
    )
    seen_codes: dict[str, int] = {}  # code → the first row that has it
    for number, cells in sheet.rows[1:]:
        values = {key: cells[i] for i, key in enumerate(header) if key and i < len(cells)}
        found = _row(number, values, context, seen_codes, plan.problems)
        if found is not None:
            plan.rows.append(found)
    # Every row's code, valid row or not: each of its mistakes is shown at once.
    taken = await policy.taken_codes(user, list(seen_codes)).values_list("code", flat=True)
    for code in map(str, taken):
        plan.problems.append(RowProblem(seen_codes[code], "code", TAKEN, code))
    wrong = {problem.row for problem in plan.problems}
    plan.rows = [row for row in plan.rows if row.row not in wrong]
    plan.problems.sort(key=lambda p: (p.row, _order(p.column)))
    return plan


TAKEN = Problem(N_("This code is already in use. Leave it empty to get a new one."))


def _order(key: str) -> int:
    keys = [c.key for c in col.COLUMNS]
    return keys.index(key) if key in keys else -1


@dataclass(frozen=True)
class _Context:
    user: User
    organisation: Organisation
    officers: dict[str, list[User]]
    workers: dict[str, list[User]]
    genders: dict[str, Gender]
    languages: dict[str, str]
    today: date


def _by_name(people: Any) -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    for person in people:
        found.setdefault(col.normal(person.name), []).append(person)
    return found


def _row(
    number: int,
    values: dict[str, Any],
    ctx: _Context,
    seen_codes: dict[str, int],
    problems: list[RowProblem],
) -> NewParticipant | None:
    before = len(problems)

    def bad(key: str, problem: Problem, value: str = "") -> None:
        problems.append(RowProblem(number, key, problem, value))

    text = {key: col.text_of(value) for key, value in values.items()}
    name = text.get("full_name", "")
    if not name:
        bad("full_name", REQUIRED)
    elif len(name) > NAME_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        bad("full_name", Problem(N_("This name is too long or holds invisible characters.")))
    gender = ctx.genders.get(col.normal(text.get("gender", "")))
    if gender is None:
        bad("gender", CHOOSE if not text.get("gender") else UNKNOWN_GENDER, text.get("gender", ""))
    days: dict[str, date | None] = {}
    for key in ("date_of_birth", "release_date", "consent_date"):
        days[key] = col.parse_day(values.get(key)) if text.get(key) else None
        if text.get(key) and days[key] is None:
            bad(key, BAD_DAY, text[key])
        elif key != "release_date" and (days[key] or ctx.today) > ctx.today:
            bad(key, Problem(N_("This date cannot be in the future.")), text[key])
    officer = _officer(text.get("officer", ""), ctx, bad)
    workers = _workers(text.get("workers", ""), ctx, bad)
    code = text.get("code", "").upper()
    if code:
        if not (3 <= len(code) <= 16 and set(code) <= CODE_CHARS):
            bad("code", BAD_CODE, text["code"])
        elif code in seen_codes:
            bad("code", Problem(N_("This code is already on another row of the file.")), code)
        else:
            seen_codes[code] = number
    language = ctx.organisation.default_language
    if text.get("language"):
        language = ctx.languages.get(col.normal(text["language"]), "")
        if not language:
            bad("language", CHOOSE, text["language"])
    if len(problems) > before or gender is None or officer is None or workers is None:
        return None
    return NewParticipant(
        number,
        name,
        gender,
        days["date_of_birth"],
        days["release_date"],
        officer,
        workers,
        code,
        language,
        days["consent_date"],
    )


UNKNOWN_GENDER = Problem(
    N_("Please write one of: woman, man, other, prefers not to say (in any of our languages).")
)
BAD_DAY = Problem(N_("Please write the date as 2024-03-15 or 15.03.2024 (day first)."))
BAD_CODE = Problem(N_("A code has 3 to 16 Latin letters, digits or dashes, for example KZ-4F7K2M."))


def _officer(name: str, ctx: _Context, bad: Any) -> User | None:
    if not name:
        if ctx.user.role is Role.OFFICER:
            return ctx.user  # the officer importing her own caseload
        bad("officer", REQUIRED)
        return None
    return _one(name, ctx.officers, "officer", bad)


def _workers(cell: str, ctx: _Context, bad: Any) -> list[User] | None:
    chosen: list[User] = []
    for name in col.names_in(cell):
        person = _one(name, ctx.workers, "workers", bad)
        if person is None:
            return None
        if person not in chosen:
            chosen.append(person)
    return chosen


def _one(name: str, people: dict[str, list[User]], key: str, bad: Any) -> User | None:
    matches = people.get(col.normal(name), [])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        message = (
            N_("No active reintegration officer of your organisation is called %(name)s.")
            if key == "officer"
            else N_("No active partner worker of your organisation is called %(name)s.")
        )
    else:
        message = N_("Several people of your organisation are called %(name)s.")
    bad(key, Problem(message, {"name": name}), name)
    return None
