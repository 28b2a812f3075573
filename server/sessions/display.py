"""A stored session log as labelled answers, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.forms import FieldType, get_form
from server.forms.gender import say
from server.i18n import Translator
from server.sessions.models import SessionLog


@dataclass(frozen=True)
class Answer:
    label: str
    text: str
    long: bool = False
    code: bool = False  # a participant's code: shown left to right, unbroken


def stored_values(log: SessionLog, t: Translator) -> dict[str, Any]:
    """The log's answers keyed like its form's fields (local date and time)."""
    local = log.occurred_at.astimezone(t.tz)
    return {
        **log.answers,
        "participant": str(log.participant_id),
        "occurred_on": local.date().isoformat(),
        "occurred_time": local.strftime("%H:%M"),
        "attendance": log.attendance.value,
        "duration_minutes": log.duration_minutes or None,
        "place": log.place,
        "engagement": log.engagement,
        "notes": log.notes,
        "follow_up": "yes" if log.follow_up else "no",
    }


def answers(
    log: SessionLog, t: Translator, participant_label: str, gender: str | None = None
) -> list[Answer]:
    """Every answered question of the log, with the wording of its own form
    version, worded for the participant's ``gender`` where the language needs it."""
    form = get_form(log.pillar, log.form_version)
    values = stored_values(log, t)
    shown: list[Answer] = []
    for field in form.fields:
        value = values.get(field.key)
        if value in (None, "", []):
            continue
        label = say(t, field.label, gender)
        if field.type is FieldType.PARTICIPANT:
            shown.append(Answer(label, participant_label, code=True))
            continue
        if field.type is FieldType.MULTIPLE_CHOICE:
            text = t.join(say(t, field.choice_label(str(v)), gender) for v in value)
        elif field.type in (FieldType.SINGLE_CHOICE,):
            text = say(t, field.choice_label(str(value)), gender)
        elif field.type is FieldType.YES_NO:
            text = t.gettext("Yes") if value in ("yes", True) else t.gettext("No")
        elif field.type is FieldType.DATE:
            from datetime import date

            text = t.date(date.fromisoformat(str(value)))
        elif field.type in (FieldType.NUMBER, FieldType.SCALE):
            text = t.number(int(value))
        else:
            text = str(value)
        shown.append(Answer(label, text, field.type is FieldType.LONG_TEXT))
    return shown
