"""Session form wording that agrees with the participant's gender.

In Russian, Arabic and French the questions and answers about the
participant change with their gender ("Да, участница пришла" / "Да,
участник пришёл", "Oui, elle était présente" / "Oui, il était présent",
"نعم، حضرت المشاركة" / "نعم، حضر المشارك"). The catalogues hold one entry per
gender for those messages, told apart by the contexts "female" and "male",
as for the attendance of a session log (server/sessions/labels.py). Anyone
else, or a form not tied to one participant, reads the plain message.
"""

from __future__ import annotations

from server.enums import Gender
from server.i18n import Translator

GENDERS = (Gender.FEMALE.value, Gender.MALE.value)


def _marked(t: Translator) -> list[str]:
    """Every gendered message in both contexts. Written out call by call so
    that ``homeward messages extract`` finds each one; at run time ``say``
    asks the catalogue with the participant's gender as the context."""
    return [
        t.pgettext("female", "Participant"),
        t.pgettext("male", "Participant"),
        t.pgettext("female", "Yes, the participant attended"),
        t.pgettext("male", "Yes, the participant attended"),
        t.pgettext("female", "No, the participant did not come"),
        t.pgettext("male", "No, the participant did not come"),
        t.pgettext("female", "How engaged was the participant?"),
        t.pgettext("male", "How engaged was the participant?"),
        t.pgettext(
            "female", "Did you notice any worry about the participant's well-being or safety?"
        ),
        t.pgettext(
            "male", "Did you notice any worry about the participant's well-being or safety?"
        ),
        t.pgettext("female", "Did you refer the participant to another service?"),
        t.pgettext("male", "Did you refer the participant to another service?"),
        t.pgettext("female", "Which programme is the participant following?"),
        t.pgettext("male", "Which programme is the participant following?"),
        t.pgettext(
            "female", "Since the last session, how often did the participant attend classes?"
        ),
        t.pgettext("male", "Since the last session, how often did the participant attend classes?"),
        t.pgettext("female", "How is the participant progressing?"),
        t.pgettext("male", "How is the participant progressing?"),
        t.pgettext(
            "female", "Did the participant gain a certificate or diploma since the last session?"
        ),
        t.pgettext(
            "male", "Did the participant gain a certificate or diploma since the last session?"
        ),
        t.pgettext("female", "How ready is the family to support the participant?"),
        t.pgettext("male", "How ready is the family to support the participant?"),
        t.pgettext("female", "Which trade is the participant learning?"),
        t.pgettext("male", "Which trade is the participant learning?"),
        t.pgettext("female", "Does the participant have a work placement or apprenticeship?"),
        t.pgettext("male", "Does the participant have a work placement or apprenticeship?"),
        t.pgettext("female", "Has the participant received a certificate for this training?"),
        t.pgettext("male", "Has the participant received a certificate for this training?"),
        t.pgettext("female", "What is the participant's work or income now?"),
        t.pgettext("male", "What is the participant's work or income now?"),
        # The needs assessment (server/assessments/declaration.py).
        t.pgettext("female", "Where does the participant live now?"),
        t.pgettext("male", "Where does the participant live now?"),
        t.pgettext("female", "How ready is the family to receive the participant?"),
        t.pgettext("male", "How ready is the family to receive the participant?"),
        t.pgettext("female", "Does the participant want to study?"),
        t.pgettext("male", "Does the participant want to study?"),
        t.pgettext("female", "Does the participant want counselling?"),
        t.pgettext("male", "Does the participant want counselling?"),
    ]


# The messages that have a wording per gender (without a catalogue, each
# call above returns its message).
GENDERED = frozenset(_marked(Translator("en")))


def say(t: Translator, message: str, gender: Gender | str | None = None) -> str:
    """``message`` translated, worded for ``gender`` where the language needs it."""
    if gender in GENDERS and message in GENDERED:
        return t.pgettext(str(gender), message)
    return t.gettext(message)


def grammatical_gender(gender: Gender | str | None) -> str | None:
    """The gender the wording follows ("female" or "male"); None (the plain
    wording) for anyone else."""
    return str(gender) if gender in GENDERS else None
