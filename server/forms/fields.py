"""The building blocks of a session form: field types, choices, conditions.

Definitions are frozen dataclasses so that a version, once shipped, cannot be
changed by accident at run time; the small factory functions below keep the
declarations in the form modules short and fill in the defaults (a text's
length limit, a yes/no field's two choices) in one place.

Labels and help texts are msgids marked with ``N_``: they are translated where
they are shown (templates, JSON schema), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict, Unpack

from server.i18n import N_


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"
    TIME = "time"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    SCALE = "scale"
    # A participant from the worker's caseload: the definition only declares
    # it; the choices (ids the worker may log for) come at render time.
    PARTICIPANT = "participant"


CHOICE_TYPES = frozenset({FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE, FieldType.YES_NO})
TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT})
BOUNDED_TYPES = frozenset({FieldType.NUMBER, FieldType.SCALE})

TEXT_MAX_LENGTH = 200
LONG_TEXT_MAX_LENGTH = 2_000


@dataclass(frozen=True)
class Choice:
    """One answer of a choice field: a stable key and a translatable label.

    ``exclusive`` marks an answer such as "none" that cannot be chosen
    together with the others of a multiple choice.
    """

    key: str
    label: str
    exclusive: bool = False


@dataclass(frozen=True)
class Condition:
    """True when the field ``field`` is shown and has one of ``values``.

    Values are compared as the strings a form post would send: choice keys,
    ``"yes"``/``"no"``, or digits.
    """

    field: str
    values: tuple[str, ...]

    def as_json(self) -> dict[str, list[str]]:
        return {self.field: [str(value) for value in self.values]}


@dataclass(frozen=True)
class Field:
    """One question.

    ``show_when`` hides the field (and drops its answer) unless the condition
    holds; ``required_when`` keeps it visible but makes it required only when
    the condition holds. ``default_from="user"`` asks the page to pre-fill
    the signed-in worker's name.
    """

    key: str
    type: FieldType
    label: str
    help: str = ""
    required: bool = False
    choices: tuple[Choice, ...] = ()
    show_when: Condition | None = None
    required_when: Condition | None = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    low_label: str = ""
    high_label: str = ""
    default_from: str | None = None

    def __post_init__(self) -> None:
        if self.type in CHOICE_TYPES and not self.choices:
            raise ValueError(f"{self.key}: a choice field needs choices")
        if self.type in BOUNDED_TYPES and (self.min is None or self.max is None):
            raise ValueError(f"{self.key}: numbers and scales need both bounds")
        if self.type in TEXT_TYPES and not self.max_length:
            raise ValueError(f"{self.key}: text needs a length limit")
        if len({choice.key for choice in self.choices}) != len(self.choices):
            raise ValueError(f"{self.key}: choice keys repeat")

    @property
    def conditional(self) -> bool:
        return self.show_when is not None or self.required_when is not None

    @property
    def choice_keys(self) -> tuple[str, ...]:
        return tuple(choice.key for choice in self.choices)

    def choice_label(self, key: str) -> str:
        """The msgid of the label of ``key`` (the key itself for scales)."""
        for choice in self.choices:
            if choice.key == key:
                return choice.label
        return key

    @property
    def scale_points(self) -> tuple[int, ...]:
        if self.type is not FieldType.SCALE or self.min is None or self.max is None:
            return ()
        return tuple(range(self.min, self.max + 1))


def choices(*pairs: tuple[str, str], exclusive: tuple[str, ...] = ()) -> tuple[Choice, ...]:
    """Choices from ``(key, label)`` pairs; keys in ``exclusive`` stand alone."""
    return tuple(Choice(key, label, key in exclusive) for key, label in pairs)


def when(field: str, *values: str) -> Condition:
    return Condition(field, values)


YES_NO_CHOICES = choices(("yes", N_("Yes")), ("no", N_("No")))


class Options(TypedDict, total=False):
    """What every factory accepts besides the type's own settings."""

    help: str
    required: bool
    show_when: Condition | None
    required_when: Condition | None
    default_from: str | None


def text(
    key: str, label: str, *, max_length: int = TEXT_MAX_LENGTH, **options: Unpack[Options]
) -> Field:
    return Field(key, FieldType.TEXT, label, max_length=max_length, **options)


def long_text(
    key: str, label: str, *, max_length: int = LONG_TEXT_MAX_LENGTH, **options: Unpack[Options]
) -> Field:
    return Field(key, FieldType.LONG_TEXT, label, max_length=max_length, **options)


def number(key: str, label: str, *, min: int, max: int, **options: Unpack[Options]) -> Field:
    return Field(key, FieldType.NUMBER, label, min=min, max=max, **options)


def date(key: str, label: str, **options: Unpack[Options]) -> Field:
    return Field(key, FieldType.DATE, label, **options)


def time(key: str, label: str, **options: Unpack[Options]) -> Field:
    return Field(key, FieldType.TIME, label, **options)


def scale(
    key: str,
    label: str,
    *,
    low: str,
    high: str,
    min: int = 1,
    max: int = 5,
    **options: Unpack[Options],
) -> Field:
    return Field(
        key, FieldType.SCALE, label, min=min, max=max, low_label=low, high_label=high, **options
    )


def single(key: str, label: str, answers: tuple[Choice, ...], **options: Unpack[Options]) -> Field:
    return Field(key, FieldType.SINGLE_CHOICE, label, choices=answers, **options)


def multiple(
    key: str, label: str, answers: tuple[Choice, ...], **options: Unpack[Options]
) -> Field:
    return Field(key, FieldType.MULTIPLE_CHOICE, label, choices=answers, **options)


def yes_no(key: str, label: str, **options: Unpack[Options]) -> Field:
    return Field(key, FieldType.YES_NO, label, choices=YES_NO_CHOICES, **options)


def participant(key: str, label: str, **options: Unpack[Options]) -> Field:
    return Field(key, FieldType.PARTICIPANT, label, **options)


# Stripped around answers. Spelled out (not str.strip()'s own idea of white
# space) because pwa/forms.js must strip exactly the same characters.
SPACE = (
    "\t\n\x0b\x0c\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000\ufeff")
)


def tokens(value: Any) -> list[str]:
    """The strings a condition compares with, whatever the transport."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, bool):
            found.append("yes" if item else "no")
        elif isinstance(item, str):
            found.append(item.strip(SPACE))
        elif isinstance(item, int | float):
            found.append(str(item))
    return found
