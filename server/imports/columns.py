"""The columns of a caseload file, recognised in any of the five languages.

A header may be the column's name in Kazakh, Russian, Arabic, French or
English (as the downloadable template writes it), or its short identifier
(``full_name``). Genders and languages are recognised the same way, so an
officer can fill the sheet in her own language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from babel.support import NullTranslations

from server.enums import Gender
from server.i18n import N_, language_names
from server.participants.forms import EARLIEST_DAY, LATEST_DAY
from server.participants.labels import GENDERS
from server.settings import LANGUAGES


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # marked; translated where shown
    required: bool = False


COLUMNS = (
    Column("full_name", N_("Full name"), required=True),
    Column("gender", N_("Gender"), required=True),
    Column("date_of_birth", N_("Date of birth")),
    Column("release_date", N_("Release date")),
    Column("officer", N_("Responsible officer")),
    Column("workers", N_("Assigned workers")),
    Column("code", N_("Participant code")),
    Column("language", N_("Language")),
    Column("consent_date", N_("Date of consent")),
)
LABELS = {column.key: column.label for column in COLUMNS}

# Short forms people write in a gender column, besides the labels the app uses.
GENDER_WORDS = {
    Gender.FEMALE: ("f", "female", "w", "ж", "жен", "женский", "әйел", "أنثى", "féminin", "femme"),
    Gender.MALE: ("m", "male", "м", "муж", "мужской", "ер", "ذكر", "masculin", "h", "homme"),
}
# Arabic short vowels and other marks that may or may not be typed.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")


def normal(text: str) -> str:
    """A header or word reduced for comparison: case, spacing, marks, a trailing * or :."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = _ARABIC_MARKS.sub("", text)
    return " ".join(text.replace("*", " ").replace(":", " ").split())


def _in_every_language(
    labels: Mapping[str, str], catalogues: Mapping[str, NullTranslations]
) -> dict[str, str]:
    """normal(label in any language) → key."""
    found: dict[str, str] = {}
    for key, label in labels.items():
        found[normal(key)] = key
        found[normal(label)] = key
        for translations in catalogues.values():
            found[normal(str(translations.gettext(label)))] = key
    return found


def header_keys(catalogues: Mapping[str, NullTranslations]) -> dict[str, str]:
    known = _in_every_language(LABELS, catalogues)
    known.setdefault(normal("code"), "code")
    for translations in catalogues.values():
        known.setdefault(normal(str(translations.gettext("Code"))), "code")
    return known


def gender_words(catalogues: Mapping[str, NullTranslations]) -> dict[str, Gender]:
    labels = {gender.value: label for gender, label in GENDERS.items()}
    words = {k: Gender(v) for k, v in _in_every_language(labels, catalogues).items()}
    for gender, synonyms in GENDER_WORDS.items():
        for word in synonyms:
            words.setdefault(normal(word), gender)
    return words


def language_words() -> dict[str, str]:
    words = {code: code for code in LANGUAGES}
    words.update({normal(name): code for code, name in language_names()})
    return words


_DAY_FIRST = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")


def parse_day(value: object) -> date | None:
    """An Excel date cell, ``2024-03-15``, or day first: ``15.03.2024``, ``15/03/2024``.

    Day first, as Kazakhstan, Tunisia and Uganda write dates; never month first.
    """
    if isinstance(value, date):
        day: date | None = value
    elif isinstance(value, str):
        text = value.strip()
        match = _DAY_FIRST.fullmatch(text)
        try:
            if match:
                day = date(int(match[3]), int(match[2]), int(match[1]))
            else:
                day = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            day = None
    else:
        day = None
    return day if day is not None and EARLIEST_DAY <= day <= LATEST_DAY else None


def text_of(value: object) -> str:
    """A cell as the text a person sees; a whole number stays without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def names_in(value: str) -> list[str]:
    """The people named in one cell: separated by ``;``, ``,`` or a new line."""
    return [name.strip() for name in re.split(r"[;,\n]", value) if name.strip()]
