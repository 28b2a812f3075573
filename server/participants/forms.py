"""Reading the participant and goal forms: what was typed, and what is wrong.

Checks return every problem at once, keyed by field, so the page can show
them all next to the answers the officer typed (nothing is lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from server.enums import Gender, GoalStatus, Pillar
from server.i18n import N_, Translator
from server.settings import LANGUAGES

NAME_MAX = 200
GOAL_MAX = 1_000
PARTICIPANT_FIELDS = (
    "full_name",
    "gender",
    "date_of_birth",
    "release_date",
    "language",
    "consent_given",
    "consent_date",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one answer: a marked message and its parameters."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    # The answer could not be read: a date or time picker would drop it, so
    # the page shows it again as plain text for the person to correct.
    unreadable: bool = False

    def text(self, t: Translator) -> str:
        """The message in the reader's language, numbers formatted by Babel."""
        params = {k: t.number(v) if isinstance(v, int) else v for k, v in self.params.items()}
        return t.gettext(self.message, **params)


Problems = dict[str, Problem]
REQUIRED = Problem(N_("Please fill this in."))
CHOOSE = Problem(N_("Please choose an answer."))
BAD_DATE = Problem(
    N_("Please enter the date as year-month-day, for example 2024-03-15."), unreadable=True
)


@dataclass(frozen=True)
class ParticipantInput:
    full_name: str
    gender: Gender
    date_of_birth: date | None
    release_date: date | None
    language: str
    consent_given: bool
    consent_date: date | None
    worker_ids: frozenset[int]


@dataclass(frozen=True)
class GoalInput:
    pillar: Pillar | None
    status: GoalStatus | None
    text: str | None


def values_of(form: FormData, keys: tuple[str, ...]) -> dict[str, str]:
    """The typed answers, trimmed; what the page shows back on an error."""
    return {key: str(form.get(key, "")).strip() for key in keys}


def sent_values(form: FormData, keys: tuple[str, ...]) -> dict[str, str]:
    """Only the answers the form actually sent (a goal's status or its text)."""
    return {key: str(form[key]).strip() for key in keys if key in form}


# Dates outside these are typing slips, and at the ends of the calendar
# (0001-01-01, 9999-12-31) turning a day into an instant in a time zone overflows.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)


def parse_date(value: str) -> date | None:
    """An ISO date (what ``<input type="date">`` sends) from 1900 to 2199, or None."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST_DAY <= day <= LATEST_DAY else None


def text(value: str, problems: Problems, key: str, maximum: int, required: bool) -> str:
    if required and not value:
        problems[key] = REQUIRED
    elif len(value) > maximum:
        problems[key] = Problem(
            N_("This is too long. Most characters allowed: %(max)s."), {"max": maximum}
        )
    return value


def past_date(value: str, problems: Problems, key: str, today: date) -> date | None:
    """An optional date that cannot lie in the future (birth, consent)."""
    if not value:
        return None
    parsed = parse_date(value)
    if parsed is None:
        problems[key] = BAD_DATE
    elif parsed > today:
        problems[key] = Problem(N_("This date cannot be in the future."))
        return None
    return parsed


def check_participant(
    values: dict[str, str], workers: list[str], *, today: date, allowed_workers: set[int]
) -> tuple[ParticipantInput | None, Problems]:
    """Check the participant form.

    Args:
        values: the trimmed answers (``values_of(form, PARTICIPANT_FIELDS)``).
        workers: the ticked worker ids, as sent.
        today: the officer's date, for "not in the future".
        allowed_workers: ids of the organisation's active workers.

    Returns:
        The clean input (None when anything is wrong) and the problems.
    """
    problems: Problems = {}
    full_name = text(values["full_name"], problems, "full_name", NAME_MAX, required=True)
    gender = values["gender"] if values["gender"] in set(Gender) else None
    if gender is None:
        problems["gender"] = CHOOSE
    born = past_date(values["date_of_birth"], problems, "date_of_birth", today)
    released = None
    if values["release_date"]:
        released = parse_date(values["release_date"])
        if released is None:
            problems["release_date"] = BAD_DATE
    if values["language"] not in LANGUAGES:
        problems["language"] = CHOOSE
    if values["consent_given"] not in ("yes", "no"):
        problems["consent_given"] = Problem(N_("Please say whether consent was given."))
    consent_on = past_date(values["consent_date"], problems, "consent_date", today)
    if values["consent_given"] == "yes" and not values["consent_date"]:
        problems["consent_date"] = Problem(N_("Please enter the date consent was given."))
    chosen = {int(w) for w in workers if w.isdigit()}
    if len(chosen) != len(workers) or not chosen <= allowed_workers:
        problems["workers"] = Problem(N_("Please choose among the workers listed."))
    if problems or gender is None:
        return None, problems
    return (
        ParticipantInput(
            full_name=full_name,
            gender=Gender(gender),
            date_of_birth=born,
            release_date=released,
            language=values["language"],
            consent_given=values["consent_given"] == "yes",
            consent_date=consent_on,
            worker_ids=frozenset(chosen),
        ),
        problems,
    )


def check_goal(values: dict[str, str], *, new: bool) -> tuple[GoalInput | None, Problems]:
    """Check a new goal (pillar and text) or a change (status and/or text)."""
    problems: Problems = {}
    pillar = Pillar(values["pillar"]) if values.get("pillar") in set(Pillar) else None
    status = GoalStatus(values["status"]) if values.get("status") in set(GoalStatus) else None
    goal_text = values.get("text") or None
    if new and pillar is None:
        problems["pillar"] = CHOOSE
    if values.get("status") and status is None:
        problems["status"] = CHOOSE
    if new or "text" in values:
        text(values.get("text", ""), problems, "text", GOAL_MAX, required=True)
    if not new and status is None and goal_text is None:
        problems["status"] = CHOOSE
    if problems:
        return None, problems
    return GoalInput(pillar=pillar, status=status, text=goal_text), problems
