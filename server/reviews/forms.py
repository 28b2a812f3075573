"""Reading the progress review form: what was chosen and typed, and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from server.enums import Pillar, ReviewStatus
from server.i18n import N_
from server.participants.forms import (
    BAD_DATE,
    CHOOSE,
    REQUIRED,
    Problem,
    Problems,
    parse_date,
    text,
)

SUMMARY_MAX = 4_000
# A review plans the next one within this horizon; later is likely a typo.
NEXT_REVIEW_MAX_DAYS = 366
FIELDS = (*(pillar.value for pillar in Pillar), "summary", "next_review_on")


@dataclass(frozen=True)
class ReviewInput:
    statuses: dict[Pillar, ReviewStatus]
    summary: str
    next_review_on: date


def check_review(values: dict[str, str], *, today: date) -> tuple[ReviewInput | None, Problems]:
    """Check the review form; every problem at once, keyed by field.

    Args:
        values: the trimmed answers (``values_of(form, FIELDS)``).
        today: the officer's local date: the review's date.
    """
    problems: Problems = {}
    statuses: dict[Pillar, ReviewStatus] = {}
    for pillar in Pillar:
        chosen = values.get(pillar.value, "")
        if chosen in set(ReviewStatus):
            statuses[pillar] = ReviewStatus(chosen)
        else:
            problems[pillar.value] = CHOOSE
    summary = text(values.get("summary", ""), problems, "summary", SUMMARY_MAX, required=True)
    raw = values.get("next_review_on", "")
    next_on = parse_date(raw) if raw else None
    if not raw:
        problems["next_review_on"] = REQUIRED
    elif next_on is None:
        problems["next_review_on"] = BAD_DATE
    elif next_on <= today:
        problems["next_review_on"] = Problem(N_("The next review must be after today."))
    elif next_on > today + timedelta(days=NEXT_REVIEW_MAX_DAYS):
        problems["next_review_on"] = Problem(N_("The next review must be within a year."))
    if problems or next_on is None:
        return None, problems
    return ReviewInput(statuses, summary, next_on), problems
