"""Reading the appointment form: local date and times in, UTC instants out.

The officer types the date and times of their own time zone (their
translator's); the record keeps UTC, and every screen shows it back in the
reader's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from server.enums import Pillar
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

FIELDS = (
    "pillar",
    "date",
    "start",
    "end",
    "duration",
    "place",
    "coordinates",
    "with_user",
    "what_to_bring",
    "family_visible",
)
PLACE_MAX = 200
BRING_MAX = 500
DURATION_MIN, DURATION_MAX = 5, 12 * 60
BAD_COORDINATES = Problem(
    N_(
        "Please enter the latitude and longitude as two numbers with a comma,"
        " for example 0.3136, 32.5811."
    ),
    unreadable=True,
)
BAD_TIME = Problem(
    N_("Please enter the time as hours:minutes, for example 14:30."), unreadable=True
)


@dataclass(frozen=True)
class AppointmentInput:
    pillar: Pillar
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    place: str
    with_user_id: int | None
    what_to_bring: str
    family_visible: bool
    # Optional map point, so the family's phone can open its maps app.
    latitude: float | None = None
    longitude: float | None = None


def parse_time(value: str) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def parse_coordinates(value: str) -> tuple[float | None, float | None] | None:
    """ "lat, lon" in decimal degrees (as a maps app copies them): the point,
    ``(None, None)`` when left empty, None when unreadable or off the globe."""
    if not value.strip():
        return None, None
    parts = value.replace(";", ",").split(",")
    if len(parts) != 2:
        return None
    try:
        latitude, longitude = (float(part.strip()) for part in parts)
    except ValueError:
        return None
    # Also refuses nan and inf, which fail every comparison.
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


def degrees(value: float) -> str:
    """A coordinate as typed and linked: plain decimals, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def format_coordinates(latitude: float | None, longitude: float | None) -> str:
    """The stored point as the form shows it back."""
    if latitude is None or longitude is None:
        return ""
    return f"{degrees(latitude)}, {degrees(longitude)}"


def local_values(starts_at: datetime, ends_at: datetime, tz: tzinfo) -> dict[str, str]:
    """The date and time inputs for a stored appointment, in the reader's zone."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    return {
        "date": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        # An appointment that ends on a later day is shown by its duration.
        "end": end.strftime("%H:%M") if end.date() == start.date() else "",
        "duration": ""
        if end.date() == start.date()
        else str(int((ends_at - starts_at).total_seconds() // 60)),
    }


def check_appointment(
    values: dict[str, str], *, tz: tzinfo, allowed_workers: set[int]
) -> tuple[AppointmentInput | None, Problems]:
    """Check the appointment form.

    Args:
        values: the trimmed answers (``FIELDS``).
        tz: the officer's time zone, in which the date and times were typed.
        allowed_workers: ids of the workers assigned to the participant.

    Returns:
        The clean input in UTC (None when anything is wrong) and the problems.
    """
    problems: Problems = {}
    pillar = Pillar(values["pillar"]) if values["pillar"] in set(Pillar) else None
    if pillar is None:
        problems["pillar"] = CHOOSE
    day = _day(values["date"], problems)
    start = _time(values["start"], problems, "start")
    starts_at = _instant(day, start, tz)
    ends_at = _end(values, starts_at, day, tz, problems)
    place = text(values["place"], problems, "place", PLACE_MAX, required=False)
    bring = text(values["what_to_bring"], problems, "what_to_bring", BRING_MAX, required=False)
    point = parse_coordinates(values.get("coordinates", ""))
    if point is None:
        problems["coordinates"] = BAD_COORDINATES
    with_user = None
    if values["with_user"]:
        if not values["with_user"].isdigit() or int(values["with_user"]) not in allowed_workers:
            problems["with_user"] = Problem(N_("Please choose among the workers listed."))
        else:
            with_user = int(values["with_user"])
    if problems or pillar is None or starts_at is None or ends_at is None or point is None:
        return None, problems
    return (
        AppointmentInput(
            pillar=pillar,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place,
            with_user_id=with_user,
            what_to_bring=bring,
            family_visible=values["family_visible"] == "yes",
            latitude=point[0],
            longitude=point[1],
        ),
        problems,
    )


def _day(value: str, problems: Problems) -> date | None:
    if not value:
        problems["date"] = REQUIRED
        return None
    day = parse_date(value)
    if day is None:
        problems["date"] = BAD_DATE
    return day


def _time(value: str, problems: Problems, key: str) -> time | None:
    if not value:
        problems[key] = REQUIRED
        return None
    parsed = parse_time(value)
    if parsed is None:
        problems[key] = BAD_TIME
    return parsed


def _instant(day: date | None, moment: time | None, tz: tzinfo) -> datetime | None:
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def _end(
    values: dict[str, str],
    starts_at: datetime | None,
    day: date | None,
    tz: tzinfo,
    problems: Problems,
) -> datetime | None:
    """The end from an end time or, failing that, a duration in minutes."""
    if values["end"]:
        end = _instant(day, _time(values["end"], problems, "end"), tz)
        if end is not None and starts_at is not None and end <= starts_at:
            problems["end"] = Problem(N_("The end must be after the start."))
        return end
    if values["duration"]:
        minutes = int(values["duration"]) if values["duration"].isdigit() else 0
        if not DURATION_MIN <= minutes <= DURATION_MAX:
            problems["duration"] = Problem(
                N_("Please enter a number from %(min)s to %(max)s."),
                {"min": DURATION_MIN, "max": DURATION_MAX},
                unreadable=not values["duration"].isdigit(),
            )
            return None
        return starts_at + timedelta(minutes=minutes) if starts_at is not None else None
    problems["end"] = Problem(N_("Please give an end time or a duration."))
    return None
