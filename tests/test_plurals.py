"""Plural forms in every language, checked against strings written by hand.

Babel's Arabic order is: 0 → n = 0, 1 → 1, 2 → 2, 3 → n % 100 in 3-10,
4 → n % 100 in 0-2 (100, 101, 102), 5 → n % 100 in 11-99. Swapping 4 and 5
gave "90 يوم" and "11 مشارك" on the dashboard.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from server.i18n import LANGUAGES, load_catalogues

LOCALES = Path(__file__).resolve().parent.parent / "locales"
COUNTS = (0, 1, 2, 3, 5, 11, 21, 100, 101)

PARTICIPANTS = ("%(count)s participant", "%(count)s participants")
DAYS = ("%(days)s day", "%(days)s days")

EXPECTED = [
    ("ar", PARTICIPANTS, 3, "3 مشاركين"),
    ("ar", PARTICIPANTS, 10, "10 مشاركين"),
    ("ar", PARTICIPANTS, 11, "11 مشاركًا"),
    ("ar", PARTICIPANTS, 99, "99 مشاركًا"),
    ("ar", PARTICIPANTS, 100, "100 مشارك"),
    ("ar", PARTICIPANTS, 102, "102 مشارك"),
    ("ar", PARTICIPANTS, 111, "111 مشاركًا"),
    ("ar", DAYS, 90, "90 يومًا"),
    ("ar", DAYS, 30, "30 يومًا"),
    ("ar", DAYS, 7, "7 أيام"),
    ("ar", DAYS, 2, "يومان"),
    ("ru", PARTICIPANTS, 1, "1 участник"),
    ("ru", PARTICIPANTS, 3, "3 участника"),
    ("ru", PARTICIPANTS, 5, "5 участников"),
    ("ru", PARTICIPANTS, 11, "11 участников"),
    ("ru", PARTICIPANTS, 21, "21 участник"),
    ("ru", PARTICIPANTS, 101, "101 участник"),
    ("fr", PARTICIPANTS, 0, "0 participant"),
    ("fr", PARTICIPANTS, 1, "1 participant"),
    ("fr", PARTICIPANTS, 2, "2 participants"),
    ("en", PARTICIPANTS, 1, "1 participant"),
    ("en", PARTICIPANTS, 21, "21 participants"),
]


def _plural_ids() -> list[tuple[str, str]]:
    with (LOCALES / "messages.pot").open("rb") as f:
        template = read_po(f)
    return [tuple(m.id) for m in template if m.pluralizable]  # type: ignore[misc]


@pytest.mark.parametrize(("language", "message", "n", "expected"), EXPECTED)
def test_plural_reads_right(language: str, message: tuple[str, str], n: int, expected: str) -> None:
    translations = load_catalogues(LOCALES)[language]
    text = translations.ngettext(message[0], message[1], n)
    assert text % {"count": n, "days": n} == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_plural_message_renders_for_every_count(language: str) -> None:
    translations = load_catalogues(LOCALES)[language]
    ids = _plural_ids()
    assert len(ids) >= 5
    for singular, plural in ids:
        for n in COUNTS:
            text = translations.ngettext(singular, plural, n)
            rendered = text % {"count": n, "days": n, "shown": n, "num": n}
            assert rendered.strip()
            assert "%(" not in rendered
            # Beyond 2, every language shows the number itself.
            if n > 2 and "%(" in singular:
                assert str(n) in rendered, (language, singular, n, rendered)


def test_arabic_eleven_to_ninety_nine_take_the_accusative() -> None:
    # Index 5 (11-99) reads "11 مشاركًا" (tanween fath); index 4 (100-102)
    # reads "100 مشارك". Where the two differ, only index 5 carries it.
    with (LOCALES / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f, locale="ar")
    tanween = "\u064b"
    checked = 0
    for message in catalogue:
        if not (message.pluralizable and message.id):
            continue
        forms = message.string
        assert len(forms) == 6, message.id
        if forms[4] != forms[5]:
            assert tanween not in forms[4], (message.id, forms[4])
            assert tanween in forms[5], (message.id, forms[5])
            checked += 1
    assert checked >= 5
