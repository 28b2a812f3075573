from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from server.errors import Invalid
from server.forms import Field, FieldType, Form, get_form, latest_form, validate
from server.forms import messages as m
from server.sessions.services import columns
from tests.test_forms_cases import (
    NOW,
    PARTICIPANT,
    PILLARS,
    as_post,
    sample,
    switch_off,
    switch_on,
    valid,
)

ALL_FIELDS = [(pillar, field) for pillar in PILLARS for field in latest_form(pillar).fields]
FIELD_IDS = [f"{pillar}.{field.key}" for pillar, field in ALL_FIELDS]
CONDITIONAL = [(p, f) for p, f in ALL_FIELDS if f.show_when is not None]


def check(pillar: str, data: Any, **options: Any) -> Any:
    return validate(latest_form(pillar), data, now=NOW, **options)


def codes(result: Any) -> dict[str, str]:
    return {key: message.code for key, message in result.errors.items()}


@pytest.mark.parametrize("pillar", PILLARS)
@pytest.mark.parametrize("transport", [dict, as_post])
def test_a_complete_answer_set_is_valid(pillar: str, transport: Any) -> None:
    result = check(pillar, transport(valid(pillar)))
    assert codes(result) == {}
    assert result.clean["participant"] == UUID(PARTICIPANT)
    assert result.clean["occurred_on"] == date(2025, 3, 10)
    assert result.clean["occurred_time"] == time(10, 30)
    assert result.clean["duration_minutes"] == 60
    assert result.clean["follow_up"] is False
    assert "attendance_reason" not in result.clean  # hidden: attended
    assert result.occurred_at == datetime(2025, 3, 10, 10, 30, tzinfo=UTC)
    # What production stores (sessions.services.columns): the questions every
    # form shares go to columns, only the form's own answers to ``answers``.
    stored = columns(result)
    assert stored["participant_id"] == UUID(PARTICIPANT)
    assert stored["duration_minutes"] == 60 and stored["follow_up"] is False
    assert stored["answers"]
    shared = {"participant", "occurred_on", "occurred_time", "duration_minutes", "follow_up"}
    assert not set(stored["answers"]) & shared


@pytest.mark.parametrize(("pillar", "field"), ALL_FIELDS, ids=FIELD_IDS)
def test_every_field_accepts_a_valid_answer(pillar: str, field: Field) -> None:
    form = latest_form(pillar)
    data = valid(pillar)
    switch_on(form, field, data)
    data[field.key] = sample(field)
    result = validate(form, data, now=NOW)
    assert field.key not in result.errors
    assert field.key in result.clean


@pytest.mark.parametrize(("pillar", "field"), ALL_FIELDS, ids=FIELD_IDS)
def test_every_field_is_required_exactly_when_declared(pillar: str, field: Field) -> None:
    form = latest_form(pillar)
    data = valid(pillar)
    switch_on(form, field, data)
    data.pop(field.key, None)
    result = validate(form, data, now=NOW)
    if field.required or field.required_when is not None:
        assert result.errors[field.key].code == m.REQUIRED
    else:
        assert field.key not in result.errors
        assert result.clean[field.key] in (None, [])


@pytest.mark.parametrize(("pillar", "field"), ALL_FIELDS, ids=FIELD_IDS)
def test_every_field_refuses_a_wrong_answer(pillar: str, field: Field) -> None:
    form = latest_form(pillar)
    data = valid(pillar)
    switch_on(form, field, data)
    wrong: dict[FieldType, tuple[Any, str]] = {
        FieldType.TEXT: ("x" * ((field.max_length or 0) + 1), m.TOO_LONG),
        FieldType.LONG_TEXT: ("x" * ((field.max_length or 0) + 1), m.TOO_LONG),
        FieldType.NUMBER: (str((field.max or 0) + 1), m.OUT_OF_RANGE),
        FieldType.SCALE: (str((field.min or 0) - 1), m.OUT_OF_RANGE),
        FieldType.DATE: ("10.03.2025", m.BAD_DATE),
        FieldType.TIME: ("half past ten", m.BAD_TIME),
        FieldType.SINGLE_CHOICE: ("not-a-choice", m.BAD_CHOICE),
        FieldType.YES_NO: ("maybe", m.BAD_CHOICE),
        FieldType.MULTIPLE_CHOICE: (["not-a-choice"], m.BAD_CHOICE),
        FieldType.PARTICIPANT: ("not-a-uuid", m.BAD_CHOICE),
    }
    value, code = wrong[field.type]
    data[field.key] = value
    for transport in (dict, as_post):
        result = validate(form, transport(data), now=NOW)
        assert result.errors[field.key].code == code
        assert result.raw[field.key] == value  # what was typed comes back


@pytest.mark.parametrize(
    ("pillar", "field"), CONDITIONAL, ids=[f"{p}.{f.key}" for p, f in CONDITIONAL]
)
def test_a_field_hidden_by_its_condition_is_dropped_and_never_required(
    pillar: str, field: Field
) -> None:
    form = latest_form(pillar)
    data = valid(pillar)
    switch_off(form, field, data)
    data[field.key] = "x" * 20_000  # would be wrong if it were checked
    result = validate(form, data, now=NOW)
    assert field.key not in result.errors
    assert field.key not in result.clean
    data.pop(field.key)
    assert field.key not in validate(form, data, now=NOW).errors


@pytest.mark.parametrize(
    ("pillar", "field"), CONDITIONAL, ids=[f"{p}.{f.key}" for p, f in CONDITIONAL]
)
def test_a_field_shown_by_its_condition_is_checked(pillar: str, field: Field) -> None:
    form = latest_form(pillar)
    data = valid(pillar)
    switch_on(form, field, data)
    data.pop(field.key, None)
    result = validate(form, data, now=NOW)
    assert (field.key in result.errors) == field.required
    assert field.key in result.clean or field.key in result.errors


def test_a_missed_session_asks_why_and_nothing_about_its_content() -> None:
    data = {
        "participant": PARTICIPANT,
        "occurred_on": "2025-03-10",
        "occurred_time": "10:30",
        "attendance": "missed",
        "follow_up": "yes",
    }
    result = check("family", data)
    assert codes(result) == {"attendance_reason": m.REQUIRED, "follow_up_details": m.REQUIRED}
    data |= {"attendance_reason": "Bus did not come", "follow_up_details": "Call the family"}
    result = check("family", data)
    assert result.ok
    # Asked but optional for a missed session; the session's own questions
    # are hidden.
    assert result.clean["duration_minutes"] is None
    assert "family_present" not in result.clean and "engagement" not in result.clean


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2024-02-29", None),
        ("2024-02-30", m.NO_SUCH_DATE),
        ("2023-02-29", m.NO_SUCH_DATE),
        ("2025-13-01", m.NO_SUCH_DATE),
        ("0000-01-01", m.NO_SUCH_DATE),
        ("2025-3-1", m.BAD_DATE),
        ("01/03/2025", m.BAD_DATE),
        ("2025-03-10T10:00", m.BAD_DATE),
        ("٢٠٢٥-٠٣-٠١", m.BAD_DATE),
    ],
)
def test_dates(value: str, code: str | None) -> None:
    result = check("education", valid("education") | {"occurred_on": value})
    assert codes(result).get("occurred_on") == code


@pytest.mark.parametrize(
    ("value", "code", "clean"),
    [
        ("09:30", None, time(9, 30)),
        ("9:30", None, time(9, 30)),
        ("09:30:59", None, time(9, 30)),
        ("23:59", None, time(23, 59)),
        ("24:00", m.BAD_TIME, None),
        ("10:60", m.BAD_TIME, None),
        ("10h30", m.BAD_TIME, None),
    ],
)
def test_times(value: str, code: str | None, clean: time | None) -> None:
    result = check(
        "education", valid("education") | {"occurred_on": "2025-03-09", "occurred_time": value}
    )
    assert codes(result).get("occurred_time") == code
    assert result.clean.get("occurred_time") == clean


def test_a_session_cannot_be_in_the_future_beyond_clock_skew() -> None:
    almaty = ZoneInfo("Asia/Almaty")  # UTC+5: NOW (12:00 UTC) is 17:00 there
    base = valid("vocational")

    def moment(day: str, hour: str) -> dict[str, str]:
        result = validate(
            latest_form("vocational"),
            base | {"occurred_on": day, "occurred_time": hour},
            now=NOW,
            tz=almaty,
        )
        return codes(result)

    assert moment("2025-03-10", "17:00") == {}
    assert moment("2025-03-10", "17:09") == {}  # the phone may run a little fast
    assert moment("2025-03-10", "17:11") == {"occurred_time": m.IN_FUTURE}
    assert moment("2025-03-11", "08:00") == {"occurred_on": m.IN_FUTURE}
    # Late evening in UTC is already tomorrow in Almaty.
    late = NOW.replace(hour=20)
    result = validate(
        latest_form("vocational"),
        base | {"occurred_on": "2025-03-11", "occurred_time": "00:30"},
        now=late,
        tz=almaty,
    )
    assert result.ok
    assert result.occurred_at == datetime(2025, 3, 11, 0, 30, tzinfo=almaty)
    assert result.occurred_at.astimezone(UTC) == datetime(2025, 3, 10, 19, 30, tzinfo=UTC)


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate(latest_form("family"), valid("family"), now=datetime(2025, 3, 10, 12))


@pytest.mark.parametrize(
    ("value", "code", "clean"),
    [
        ("45", None, 45),
        (" 45 ", None, 45),
        ("+45", None, 45),
        ("٤٥", None, 45),  # Arabic-Indic digits
        ("۴۵", None, 45),  # Eastern Arabic-Indic digits
        (45, None, 45),
        (45.0, None, 45),
        (45.5, m.NOT_INTEGER, None),
        ("45.5", m.NOT_INTEGER, None),
        ("45 minutes", m.NOT_INTEGER, None),
        ("1e2", m.NOT_INTEGER, None),
        ("4", m.OUT_OF_RANGE, None),
        ("601", m.OUT_OF_RANGE, None),
        ("-60", m.OUT_OF_RANGE, None),
        ("9" * 5000, m.OUT_OF_RANGE, None),  # never parsed: Python refuses > 4300 digits
        (True, m.BAD_VALUE, None),
        ([45], m.BAD_VALUE, None),
    ],
)
def test_numbers(value: Any, code: str | None, clean: int | None) -> None:
    result = check("family", valid("family") | {"duration_minutes": value})
    assert codes(result).get("duration_minutes") == code
    assert result.clean.get("duration_minutes") == clean


def test_json_may_send_typed_values() -> None:
    data = valid("counselling") | {
        "duration_minutes": 50,
        "engagement": 5,
        "follow_up": True,
        "follow_up_details": "Meet the imam with the family",
        "concerns_observed": False,
        "referral_made": False,
    }
    result = check("counselling", data)
    assert result.ok
    assert result.clean["follow_up"] is True and result.clean["engagement"] == 5


def test_unknown_keys_are_refused_in_json_and_ignored_in_a_form_post() -> None:
    data = valid("family") | {"extra": "x", "csrf_token": "t"}
    assert codes(check("family", data)) == {"extra": m.UNKNOWN_FIELD, "csrf_token": m.UNKNOWN_FIELD}
    assert check("family", as_post(data)).ok


def test_multiple_choice_keeps_order_counts_repeats_once_and_guards_exclusive_answers() -> None:
    post = as_post(valid("family") | {"family_concerns": ["money", "housing", "money"]})
    assert check("family", post).clean["family_concerns"] == ["money", "housing"]
    result = check("family", valid("family") | {"family_concerns": ["none", "money"]})
    assert codes(result) == {"family_concerns": m.EXCLUSIVE}
    assert check("family", valid("family") | {"family_concerns": ["none"]}).ok
    # A single string is not a list in JSON.
    assert codes(check("family", valid("family") | {"family_concerns": "money"})) == {
        "family_concerns": m.BAD_VALUE
    }


def test_a_participant_outside_the_caseload_is_refused() -> None:
    other = "00000000-0000-4000-8000-000000000000"
    data = valid("education")
    assert check("education", data, participant_ids=[PARTICIPANT]).ok
    assert check("education", data | {"participant": PARTICIPANT.upper()}).ok
    result = check("education", data | {"participant": other}, participant_ids=[PARTICIPANT])
    assert codes(result) == {"participant": m.BAD_CHOICE}


HOSTILE = (
    "<script>alert('x')</script> \"quoted\" & {{ 7*7 }} "
    "Қатысушы келді. Участник пришёл. حضر المشارك. \u202eRTL override\u202c \u200f"
)


def test_a_hostile_note_is_stored_faithfully() -> None:
    result = check("family", valid("family") | {"notes": HOSTILE})
    assert result.ok
    assert result.clean["notes"] == HOSTILE.strip()
    assert "\u202e" in result.clean["notes"]


def test_notes_may_be_10000_characters_and_no_more() -> None:
    longest = "Ә" * 10_000
    assert check("family", valid("family") | {"notes": longest}).clean["notes"] == longest
    # Characters, not bytes or UTF-16 units: 10,000 emoji are fine too.
    assert check("family", valid("family") | {"notes": "🙂" * 10_000}).ok
    result = check("family", valid("family") | {"notes": longest + "!"})
    assert codes(result) == {"notes": m.TOO_LONG}
    assert result.raw["notes"] == longest + "!"


@pytest.mark.parametrize(
    ("value", "code", "clean"),
    [
        ("a\x00b", m.BAD_CHARACTERS, None),  # NUL refused like other control characters
        ("line one\r\nline two\rthree", None, "line one\nline two\nthree"),
        ("col\tcol", None, "col\tcol"),
        ("bell\x07", m.BAD_CHARACTERS, None),
        ("escape\x1b[31m", m.BAD_CHARACTERS, None),
        ("c1\x85", m.BAD_CHARACTERS, None),
        ("lone \ud800 surrogate", m.BAD_CHARACTERS, None),
        ("  \u00a0spaces\u3000 ", None, "spaces"),
        ("\x00\x00", m.BAD_CHARACTERS, None),
    ],
)
def test_text_characters(value: str, code: str | None, clean: str | None) -> None:
    result = check("family", valid("family") | {"notes": value})
    assert codes(result).get("notes") == code
    assert result.clean.get("notes") == clean


def test_errors_keep_everything_that_was_typed() -> None:
    data = valid("vocational") | {
        "training_hours": "many",
        "occurred_on": "2024-02-30",
        "trade": "other",
        "notes": HOSTILE,
        "placement": "yes",
    }
    result = check("vocational", as_post(data))
    assert codes(result) == {
        "training_hours": m.NOT_INTEGER,
        "occurred_on": m.NO_SUCH_DATE,
        "trade_other": m.REQUIRED,
        "placement_where": m.REQUIRED,
    }
    assert {key: result.raw[key] for key in data} == data


def test_data_that_is_not_an_object_is_refused() -> None:
    form: Form = get_form("family", 1)
    with pytest.raises(Invalid):
        validate(form, ["not", "an", "object"], now=NOW)  # type: ignore[arg-type]


def test_messages_are_translatable_with_their_parameters() -> None:
    from server.i18n import Translator

    result = check("family", valid("family") | {"duration_minutes": "1000", "notes": "x" * 10_001})
    english = Translator("en")
    assert result.errors["duration_minutes"].text(english) == (
        "Please enter a number from 5 to 600."
    )
    assert result.errors["notes"].text(english).endswith("10,000.")
    assert result.errors["notes"].text(Translator("ru")).endswith("10\xa0000.")


def test_clock_is_passed_in_not_read() -> None:
    later = NOW + timedelta(days=400)
    data = valid("family") | {"occurred_on": "2026-04-01"}
    assert not check("family", data).ok
    assert validate(latest_form("family"), data, now=later).ok
