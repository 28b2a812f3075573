"""One validator for every way a session form arrives.

An HTML post (a multidict: a multiple choice is a repeated key, everything is
a string) and a JSON body from the phone's outbox (a dict: a multiple choice
is a list, numbers and yes/no may be typed) go through the same rules, and
``pwa/forms.js`` repeats them from the JSON schema so that a worker offline
sees the same errors the server would give.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Generic, Protocol

from server.errors import Invalid
from server.forms import messages as m
from server.forms.fields import SPACE as _SPACE
from server.forms.fields import TEXT_TYPES, Condition, Field, FieldType, tokens
from server.forms.form import Form, Questions
from server.forms.messages import Message, field_messages

# Phones' clocks drift; a session logged "now" must not be refused because
# the phone is a few minutes ahead of the server.
CLOCK_SKEW = timedelta(minutes=10)
# No session was held before the programme began; a year-1 date would also
# overflow when turned into UTC in zones east of Greenwich.
EARLIEST_DAY = date(2000, 1, 1)

# Control characters are refused, except tab and newline (line breaks are
# normalised first). Lone surrogates cannot be stored as UTF-8. Format
# characters such as U+202E stay: they are legitimate in mixed-script text,
# and templates escape what they render.
_BAD_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# Arabic-Indic and Eastern Arabic-Indic digits, which Arabic keyboards type.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_MAX_DIGITS = 9  # beyond this a number is out of range anyway; never parse huge strings
Raw = str | list[str]

if TYPE_CHECKING:
    # A default, so that a plain ``Result`` is a session form's (typing only:
    # the standard library's TypeVar takes a default from Python 3.13).
    from typing_extensions import TypeVar

    F = TypeVar("F", bound=Questions, default=Form)
else:
    from typing import TypeVar

    F = TypeVar("F", bound=Questions)


class MultiDict(Protocol):
    """What an HTML form post looks like (Starlette's ``FormData``)."""

    def getlist(self, key: Any) -> list[Any]: ...

    def get(self, key: Any, default: Any = None) -> Any: ...


class _Problem(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


@dataclass(frozen=True)
class Result(Generic[F]):
    """What the validator found.

    ``clean`` holds typed values of the fields that are shown (hidden ones
    are dropped); ``errors`` a message per field key; ``raw`` what was sent,
    as strings, so a form can be filled in again exactly as the user left it.
    """

    form: F
    clean: Mapping[str, Any]
    errors: Mapping[str, Message]
    raw: Mapping[str, Raw]
    occurred_at: datetime | None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        """The clean values as JSON types (dates ISO, times HH:MM, ids as text)."""
        return {key: _jsonable(value) for key, value in self.clean.items()}


def validate(
    form: F,
    data: Mapping[str, Any] | MultiDict,
    *,
    now: datetime,
    tz: tzinfo = UTC,
    participant_ids: Collection[str] | None = None,
) -> Result[F]:
    """Check ``data`` against ``form``.

    Args:
        form: the definition, at the version the user filled in (a session
            form, or any other ``Questions`` such as the needs assessment).
        data: a form post (``getlist`` available) or a decoded JSON object.
            In JSON, keys the form does not know are errors; in a form post
            they are ignored (the CSRF token, the form version…).
        now: the current time, timezone-aware (passed in so tests set it).
        tz: the worker's time zone: the date and time typed are local.
        participant_ids: the participants this worker may log for; when
            given, any other participant is refused.

    Returns:
        A ``Result``; ``result.ok`` is true when there are no errors.

    Raises:
        Invalid: ``data`` is neither a form post nor a JSON object.
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    is_post = hasattr(data, "getlist")
    if not is_post and not isinstance(data, Mapping):
        raise Invalid()
    errors: dict[str, Message] = {}
    clean: dict[str, Any] = {}
    raw: dict[str, Raw] = {}
    said: dict[str, list[str]] = {}
    shown: set[str] = set()

    def holds(condition: Condition | None) -> bool:
        return (
            condition is not None
            and condition.field in shown
            and any(token in condition.values for token in said.get(condition.field, []))
        )

    for field in form.fields:
        value = _read(data, field, is_post)
        raw[field.key] = _as_raw(value)
        said[field.key] = tokens(value)
        if field.show_when is not None and not holds(field.show_when):
            continue
        shown.add(field.key)
        required = field.required or holds(field.required_when)
        try:
            clean[field.key] = _clean(field, value, required, participant_ids)
        except _Problem as problem:
            errors[field.key] = field_messages(field)[problem.code]
    occurred_at = _check_moment(form, clean, errors, now=now, tz=tz)
    if not is_post:
        for key in data:  # type: ignore[union-attr]
            if key not in form.by_key:
                errors[str(key)] = m.UNKNOWN_FIELD_MESSAGE
    return Result(form=form, clean=clean, errors=errors, raw=raw, occurred_at=occurred_at)


def _read(data: Mapping[str, Any] | MultiDict, field: Field, is_post: bool) -> Any:
    if is_post and field.type is FieldType.MULTIPLE_CHOICE:
        return data.getlist(field.key)  # type: ignore[union-attr]
    return data.get(field.key)


def _as_raw(value: Any) -> Raw:
    if isinstance(value, list):
        return [item for item in (_as_raw(v) for v in value) if isinstance(item, str)]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    return ""


def _clean(
    field: Field, value: Any, required: bool, participant_ids: Collection[str] | None
) -> Any:
    if isinstance(value, str):
        value = _normalise_text(value) if field.type in TEXT_TYPES else value.strip(_SPACE)
    elif isinstance(value, list):
        value = [item.strip(_SPACE) if isinstance(item, str) else item for item in value]
        value = [item for item in value if item != ""]
    if value is None or value in ("", []):
        if required:
            raise _Problem(m.REQUIRED)
        return [] if field.type is FieldType.MULTIPLE_CHOICE else None
    return _PARSERS[field.type](field, value, participant_ids)


def _normalise_text(value: str) -> str:
    # NUL bytes are dropped silently (PostgreSQL cannot store them and no
    # one types them on purpose); browsers send line breaks as CRLF.
    return value.replace("\r\n", "\n").replace("\r", "\n").strip(_SPACE)


def _text(field: Field, value: Any, _ids: object) -> str:
    if not isinstance(value, str):
        raise _Problem(m.BAD_VALUE)
    if _BAD_CHARACTERS.search(value):
        raise _Problem(m.BAD_CHARACTERS)
    if field.max_length is not None and len(value) > field.max_length:
        raise _Problem(m.TOO_LONG)
    return value


def _integer(field: Field, value: Any, _ids: object) -> int:
    number: int
    if isinstance(value, bool):
        raise _Problem(m.BAD_VALUE)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        # JSON cannot tell 45 from 45.0; a JavaScript number is a float.
        if not value.is_integer():
            raise _Problem(m.NOT_INTEGER)
        number = int(value)
    elif isinstance(value, str):
        digits = value.translate(_DIGITS)
        if not _INTEGER.fullmatch(digits):
            raise _Problem(m.NOT_INTEGER)
        if len(digits.lstrip("+-")) > _MAX_DIGITS:
            raise _Problem(m.OUT_OF_RANGE)
        number = int(digits)
    else:
        raise _Problem(m.BAD_VALUE)
    assert field.min is not None and field.max is not None  # checked at declaration
    if not field.min <= number <= field.max:
        raise _Problem(m.OUT_OF_RANGE)
    return number


def _date(field: Field, value: Any, _ids: object) -> date:
    if not isinstance(value, str):
        raise _Problem(m.BAD_VALUE)
    match = _DATE.fullmatch(value)
    if not match:
        raise _Problem(m.BAD_DATE)
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise _Problem(m.NO_SUCH_DATE) from None


def _time(field: Field, value: Any, _ids: object) -> time:
    if not isinstance(value, str):
        raise _Problem(m.BAD_VALUE)
    match = _TIME.fullmatch(value)
    if not match:
        raise _Problem(m.BAD_TIME)
    hour, minute, second = (int(part or 0) for part in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        raise _Problem(m.BAD_TIME)
    return time(hour, minute)  # seconds are not part of a session's time


def _single(field: Field, value: Any, _ids: object) -> str:
    if not isinstance(value, str):
        raise _Problem(m.BAD_VALUE)
    if value not in field.choice_keys:
        raise _Problem(m.BAD_CHOICE)
    return value


def _yes_no(field: Field, value: Any, _ids: object) -> bool:
    if isinstance(value, bool):
        return value
    return _single(field, value, _ids) == "yes"


def _multiple(field: Field, value: Any, _ids: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Problem(m.BAD_VALUE)
    if any(item not in field.choice_keys for item in value):
        raise _Problem(m.BAD_CHOICE)
    chosen = list(dict.fromkeys(value))  # a repeated key counts once
    exclusive = {choice.key for choice in field.choices if choice.exclusive}
    if len(chosen) > 1 and exclusive.intersection(chosen):
        raise _Problem(m.EXCLUSIVE)
    return chosen


def _participant(field: Field, value: Any, ids: Collection[str] | None) -> uuid.UUID:
    if not isinstance(value, str):
        raise _Problem(m.BAD_VALUE)
    if not _UUID.fullmatch(value):
        raise _Problem(m.BAD_CHOICE)
    chosen = uuid.UUID(value)
    if ids is not None and str(chosen) not in {str(i).lower() for i in ids}:
        raise _Problem(m.BAD_CHOICE)
    return chosen


_PARSERS: dict[FieldType, Any] = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.NUMBER: _integer,
    FieldType.SCALE: _integer,
    FieldType.DATE: _date,
    FieldType.TIME: _time,
    FieldType.SINGLE_CHOICE: _single,
    FieldType.MULTIPLE_CHOICE: _multiple,
    FieldType.YES_NO: _yes_no,
    FieldType.PARTICIPANT: _participant,
}


def _check_moment(
    form: Questions, clean: dict[str, Any], errors: dict[str, Message], *, now: datetime, tz: tzinfo
) -> datetime | None:
    """Refuse a session in the future or before 2000; return when it happened, in ``tz``."""
    if form.moment is None:
        return None
    day_key, time_key = form.moment
    day, hour = clean.get(day_key), clean.get(time_key)
    if day is None or day_key in errors:
        return None
    # Compared as wall-clock times in the worker's zone, as the phone does.
    latest = now.astimezone(tz).replace(tzinfo=None) + CLOCK_SKEW
    if day > latest.date():
        errors[day_key] = field_messages(form.by_key[day_key])[m.IN_FUTURE]
        return None
    if day < EARLIEST_DAY:
        errors[day_key] = field_messages(form.by_key[day_key])[m.TOO_EARLY]
        return None
    if hour is None or time_key in errors:
        return None
    if datetime.combine(day, hour) > latest:
        errors[time_key] = field_messages(form.by_key[time_key])[m.IN_FUTURE]
        return None
    return datetime.combine(day, hour, tzinfo=tz)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
