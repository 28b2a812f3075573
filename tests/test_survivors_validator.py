"""Edges of the session-form validator (server/forms/validator.py) that no
other test pinned down: found by mutation testing (docs/quality.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from server.enums import Pillar
from server.forms import Choice, Field, FieldType, Form, Section, latest_form, validate
from server.forms.fields import yes_no
from tests.test_forms_cases import NOW, PARTICIPANT, as_post, valid

TINY = Form(
    pillar=Pillar.FAMILY,
    version=99,
    title="tiny",
    sections=(
        Section(
            "s",
            (
                Field("day", FieldType.DATE, "day"),
                Field("hour", FieldType.TIME, "hour"),
                Field("count", FieldType.NUMBER, "count", min=0, max=999_999_999),
                Field("pick", FieldType.MULTIPLE_CHOICE, "pick", choices=(Choice("a", "A"),)),
                Field("one", FieldType.SINGLE_CHOICE, "one", choices=(Choice("x", "X"),)),
                Field("words", FieldType.TEXT, "words", required=True, max_length=20),
                Field("who", FieldType.PARTICIPANT, "who"),
                yes_no("ok", "ok"),
            ),
        ),
    ),
    moment=("day", "hour"),
)


def tiny(data: Any, now: datetime = NOW) -> Any:
    return validate(TINY, data, now=now)


def codes(result: Any) -> dict[str, str]:
    return {key: message.code for key, message in result.errors.items()}


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"^now must be timezone-aware$"):
        validate(TINY, {}, now=datetime(2025, 3, 10, 12, 0))


def test_the_result_keeps_its_form_and_gives_json_values() -> None:
    form = latest_form("family")
    result = validate(form, valid("family"), now=NOW)
    assert result.form is form
    json = result.as_json()
    assert json["occurred_time"] == "10:30"
    assert json["occurred_on"] == "2025-03-10"
    assert json["participant"] == PARTICIPANT
    assert json["duration_minutes"] == 60


def test_raw_keeps_what_was_sent_for_the_form_to_show_again() -> None:
    result = tiny({"ok": True, "count": 5, "who": None, "words": "w"})
    assert result.raw["ok"] == "yes"
    assert result.raw["count"] == "5"
    assert result.raw["who"] == ""
    assert result.raw["day"] == ""  # not sent at all
    assert tiny({"ok": False, "words": "w"}).raw["ok"] == "no"


def test_yes_and_no_as_words_or_booleans() -> None:
    assert tiny({"ok": "yes", "words": "w"}).clean["ok"] is True
    assert tiny({"ok": "no", "words": "w"}).clean["ok"] is False
    assert tiny({"ok": True, "words": "w"}).clean["ok"] is True
    assert codes(tiny({"ok": "YES", "words": "w"})) == {"ok": "bad_choice"}


def test_answers_are_stripped_of_every_kind_of_space() -> None:
    # U+FEFF is not white space to str.strip(), but is to the form (and the phone).
    result = tiny(as_post({"one": "\ufeff x\u00a0", "pick": [" a\ufeff", ""], "words": "w"}))
    assert codes(result) == {}
    assert result.clean["one"] == "x"
    assert result.clean["pick"] == ["a"]


def test_empty_answers_count_as_missing() -> None:
    assert codes(tiny({"words": ""})) == {"words": "required"}
    assert codes(tiny({"words": " \u3000 "})) == {"words": "required"}
    result = tiny({"words": "w", "count": "", "pick": [], "one": ""})
    assert codes(result) == {}
    assert result.clean["count"] is None and result.clean["one"] is None
    assert result.clean["pick"] == []
    assert tiny({"words": "w"}).clean["pick"] == []


@pytest.mark.parametrize("key", ["day", "hour", "one", "words", "who"])
def test_a_value_of_the_wrong_json_type_is_unreadable(key: str) -> None:
    result = tiny({"words": "w", key: 12})
    assert codes(result) == {key: "bad_value"}
    assert result.errors[key].msgid == "This answer could not be read. Please enter it again."


def test_numbers_up_to_nine_digits_are_read() -> None:
    assert tiny({"words": "w", "count": "999999999"}).clean["count"] == 999_999_999
    assert codes(tiny({"words": "w", "count": "1000000000"})) == {"count": "out_of_range"}


def test_seconds_may_be_typed_but_not_sixty() -> None:
    assert tiny({"words": "w", "day": "2025-03-10", "hour": "10:30:59"}).clean["hour"] == time(
        10, 30
    )
    assert codes(tiny({"words": "w", "day": "2025-03-10", "hour": "10:30:60"})) == {
        "hour": "bad_time"
    }


def test_the_moment_may_be_left_out_when_the_form_allows_it() -> None:
    only_day = tiny({"words": "w", "day": "2025-03-10"})
    assert codes(only_day) == {} and only_day.occurred_at is None
    only_hour = tiny({"words": "w", "hour": "10:30"})
    assert codes(only_hour) == {} and only_hour.occurred_at is None


def test_a_session_up_to_ten_minutes_ahead_of_the_clock_is_accepted() -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    at_limit = tiny({"words": "w", "day": "2025-03-10", "hour": "12:10"}, now=now)
    assert codes(at_limit) == {}
    assert at_limit.occurred_at == datetime(2025, 3, 10, 12, 10, tzinfo=UTC)
    past = tiny({"words": "w", "day": "2025-03-10", "hour": "12:11"}, now=now)
    assert codes(past) == {"hour": "in_future"}
    assert tiny({"words": "w", "day": "2025-03-11"}, now=now).clean["day"] == date(2025, 3, 11)


def test_the_first_of_january_2000_is_the_earliest_day() -> None:
    assert codes(tiny({"words": "w", "day": "2000-01-01", "hour": "09:00"})) == {}
    early = tiny({"words": "w", "day": "1999-12-31", "hour": "09:00"})
    assert codes(early) == {"day": "too_early"} and early.occurred_at is None
    assert early.errors["day"].msgid == "This date is too far in the past. Please check the year."
