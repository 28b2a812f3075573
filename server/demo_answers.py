"""Believable answers for the demo's session logs, valid for their form."""

from __future__ import annotations

import random
from datetime import datetime, tzinfo
from typing import Any

from server.enums import Attendance, Pillar
from server.forms import FieldType, latest_form
from server.forms.validator import Result, validate

NOTES = [
    "Talked about the week ahead; agreed to meet again.",
    "Calm and open today.",
    "Asked for help with documents.",
    "",
]


def answers(
    *,
    pillar: Pillar,
    participant_id: str,
    occurred: datetime,
    tz: tzinfo,
    attendance: Attendance,
    place: str,
    facilitator: str,
    rng: random.Random,
) -> Result:
    """A validated answer set; the demo only stores what the validator accepts."""
    form = latest_form(pillar)
    local = occurred.astimezone(tz)
    values: dict[str, Any] = {
        "participant": participant_id,
        "occurred_on": local.date().isoformat(),
        "occurred_time": local.strftime("%H:%M"),
        "attendance": attendance.value,
        "facilitator": facilitator,
        "notes": rng.choice(NOTES),
        "follow_up": "no",
    }
    if attendance is Attendance.ATTENDED:
        values.update(
            duration_minutes=rng.choice([30, 45, 60, 90]), place=place, engagement=rng.randint(2, 5)
        )
    else:
        values["attendance_reason"] = "Could not travel."
    for field in form.fields:
        if field.key in values:
            continue
        values[field.key] = _value(field, rng)
    # Answers to questions hidden by their condition are dropped by the validator.
    return validate(form, values, now=occurred, tz=tz)


def _value(field: Any, rng: random.Random) -> Any:
    if field.type is FieldType.SINGLE_CHOICE:
        return rng.choice(field.choice_keys)
    if field.type is FieldType.MULTIPLE_CHOICE:
        plain = [c.key for c in field.choices if not c.exclusive]
        return rng.sample(plain, k=min(len(plain), rng.randint(1, 2)))
    if field.type is FieldType.YES_NO:
        return "no"
    if field.type is FieldType.SCALE:
        return rng.randint(field.min or 1, field.max or 5)
    if field.type is FieldType.NUMBER:
        low, high = field.min or 0, field.max or 10
        return rng.randint(low, min(high, low + 40))
    if field.type in (FieldType.TEXT, FieldType.LONG_TEXT):
        return "Tailoring workshop" if "trade" in field.key else "—"
    return None
