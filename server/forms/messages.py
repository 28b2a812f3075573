"""What the validator says, one message per error code and field type.

The same table feeds the Python validator and the JSON schema, so a phone
offline shows exactly the words the server would. Parameters come from the
definition: numbers are formatted for the reader's language, strings are
msgids (labels) and are translated too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from server.forms.fields import Field, FieldType
from server.i18n import N_, Translator

REQUIRED = "required"
TOO_LONG = "too_long"
BAD_CHARACTERS = "bad_characters"
NOT_INTEGER = "not_integer"
OUT_OF_RANGE = "out_of_range"
BAD_DATE = "bad_date"
NO_SUCH_DATE = "no_such_date"
BAD_TIME = "bad_time"
IN_FUTURE = "in_future"
TOO_EARLY = "too_early"
BAD_CHOICE = "bad_choice"
EXCLUSIVE = "exclusive"
BAD_VALUE = "bad_value"
UNKNOWN_FIELD = "unknown_field"


@dataclass(frozen=True)
class Message:
    """A translatable message (msgid) with its parameters."""

    code: str
    msgid: str
    params: Mapping[str, int | str] = field(default_factory=dict)

    def text(self, translator: Translator) -> str:
        """The message in ``translator``'s language."""
        params = {
            name: translator.number(value) if isinstance(value, int) else translator.gettext(value)
            for name, value in self.params.items()
        }
        return translator.gettext(self.msgid, **params)


_REQUIRED_BY_TYPE = {
    FieldType.SINGLE_CHOICE: N_("Please choose an answer."),
    FieldType.YES_NO: N_("Please choose an answer."),
    FieldType.SCALE: N_("Please choose an answer."),
    FieldType.MULTIPLE_CHOICE: N_("Please choose at least one answer."),
    FieldType.PARTICIPANT: N_("Please choose a participant."),
}

UNKNOWN_FIELD_MESSAGE = Message(UNKNOWN_FIELD, N_("This question is not part of this form."))


def field_messages(field: Field) -> dict[str, Message]:
    """Every message the validator may give for ``field``, keyed by code."""
    messages = {
        REQUIRED: Message(REQUIRED, _REQUIRED_BY_TYPE.get(field.type, N_("Please fill this in."))),
        BAD_VALUE: Message(BAD_VALUE, N_("This answer could not be read. Please enter it again.")),
    }
    kind = field.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        messages[TOO_LONG] = Message(
            TOO_LONG,
            # Worded with a colon so no language needs a plural form here.
            N_("This is too long. Most characters allowed: %(max)s."),
            {"max": field.max_length or 0},
        )
        messages[BAD_CHARACTERS] = Message(
            BAD_CHARACTERS,
            N_("This text has hidden characters that cannot be saved. Please type it again."),
        )
    elif kind in (FieldType.NUMBER, FieldType.SCALE):
        bounds = {"min": field.min or 0, "max": field.max or 0}
        messages[NOT_INTEGER] = Message(
            NOT_INTEGER, N_("Please enter a whole number, for example 45.")
        )
        range_message = (
            N_("Please enter a number from %(min)s to %(max)s.")
            if kind is FieldType.NUMBER
            else N_("Please choose a number from %(min)s to %(max)s.")
        )
        messages[OUT_OF_RANGE] = Message(OUT_OF_RANGE, range_message, bounds)
    elif kind is FieldType.DATE:
        messages[BAD_DATE] = Message(
            BAD_DATE, N_("Please enter the date as year-month-day, for example 2024-03-15.")
        )
        messages[NO_SUCH_DATE] = Message(
            NO_SUCH_DATE, N_("This date does not exist. Please check the day and the month.")
        )
        messages[IN_FUTURE] = Message(
            IN_FUTURE, N_("This date has not come yet. Please enter the day of the session.")
        )
        messages[TOO_EARLY] = Message(
            TOO_EARLY, N_("This date is too far in the past. Please check the year.")
        )
    elif kind is FieldType.TIME:
        messages[BAD_TIME] = Message(
            BAD_TIME, N_("Please enter the time as hours:minutes, for example 14:30.")
        )
        messages[IN_FUTURE] = Message(
            IN_FUTURE, N_("This time has not come yet. Please enter when the session started.")
        )
    elif kind is FieldType.PARTICIPANT:
        messages[BAD_CHOICE] = Message(
            BAD_CHOICE, N_("Please choose a participant from your list.")
        )
    if kind in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE, FieldType.YES_NO):
        messages[BAD_CHOICE] = Message(BAD_CHOICE, N_("Please choose one of the answers shown."))
    exclusive = [choice for choice in field.choices if choice.exclusive]
    if exclusive:
        messages[EXCLUSIVE] = Message(
            EXCLUSIVE,
            N_("“%(choice)s” cannot be chosen together with other answers."),
            {"choice": exclusive[0].label},
        )
    return messages
