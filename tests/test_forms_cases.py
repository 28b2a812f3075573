"""Answer sets shared by the session-form tests (imported by the other test_forms_*)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.forms import Field, FieldType, Form

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PARTICIPANT = "3f2b6c1e-8a4d-4c2e-9b1a-5d6e7f809a1b"

COMMON: dict[str, Any] = {
    "participant": PARTICIPANT,
    "occurred_on": "2025-03-10",
    "occurred_time": "10:30",
    "attendance": "attended",
    "duration_minutes": "60",
    "place": "Office",
    "facilitator": "",
    "engagement": "4",
    "notes": "",
    "follow_up": "no",
}
SPECIFIC: dict[str, dict[str, Any]] = {
    "family": {
        "family_present": ["mother", "children"],
        "setting": "home_visit",
        "family_readiness": "4",
        "family_concerns": ["housing"],
        "next_steps": "Visit again in two weeks",
    },
    "education": {
        "programme": "literacy",
        "class_attendance": "most",
        "progress": "3",
        "certificate_gained": "no",
    },
    "vocational": {
        "trade": "welding",
        "training_hours": "12",
        "placement": "no",
        "certificate": "no",
        "income_status": "in_training",
    },
    "counselling": {
        "format": "individual",
        "modality": "mentoring",
        "topics": ["future_plans"],
        "concerns_observed": "no",
        "referral_made": "no",
    },
}
PILLARS = tuple(SPECIFIC)


def valid(pillar: str) -> dict[str, Any]:
    """A complete, valid answer set as strings (what a form post carries)."""
    return {**COMMON, **SPECIFIC[pillar]}


def sample(field: Field) -> Any:
    """A valid answer for ``field``."""
    match field.type:
        case FieldType.NUMBER | FieldType.SCALE:
            return str(field.min)
        case FieldType.DATE:
            return "2025-03-01"
        case FieldType.TIME:
            return "09:00"
        case FieldType.SINGLE_CHOICE | FieldType.YES_NO:
            return field.choice_keys[0]
        case FieldType.MULTIPLE_CHOICE:
            return [next(c.key for c in field.choices if not c.exclusive)]
        case FieldType.PARTICIPANT:
            return PARTICIPANT
        case _:
            return "Some words"


def switch_on(form: Form, field: Field, data: dict[str, Any]) -> None:
    """Answer the questions ``field``'s conditions look at so that they hold."""
    for condition in (field.show_when, field.required_when):
        if condition is None:
            continue
        parent = form.by_key[condition.field]
        switch_on(form, parent, data)
        wanted = condition.values[0]
        data[parent.key] = [wanted] if parent.type is FieldType.MULTIPLE_CHOICE else wanted


def switch_off(form: Form, field: Field, data: dict[str, Any]) -> None:
    """Answer ``field``'s show condition with something that makes it false."""
    assert field.show_when is not None
    parent = form.by_key[field.show_when.field]
    other = next(k for k in parent.choice_keys if k not in field.show_when.values)
    data[parent.key] = [other] if parent.type is FieldType.MULTIPLE_CHOICE else other


def as_post(data: dict[str, Any]) -> Any:
    """``data`` as Starlette parses an HTML form post: repeated keys for lists."""
    from starlette.datastructures import FormData, UploadFile

    items: list[tuple[str, str | UploadFile]] = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            items.append((key, item))
    return FormData(items)


def test_every_pillar_has_a_complete_answer_set() -> None:
    from server.enums import Pillar
    from server.forms import latest_form

    assert set(PILLARS) == {str(p) for p in Pillar}
    for pillar in PILLARS:
        form = latest_form(pillar)
        assert set(valid(pillar)) <= set(form.by_key)
