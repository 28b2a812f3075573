"""What others may see names no prison, reintegration or programme (issue 17,
item 4): the installed app's description and the shared calendar's name, in
each of the five languages, against words listed here by hand."""

from __future__ import annotations

import pytest
import vobject
from icalendar import Calendar
from starlette.applications import Starlette

from server.enums import Pillar
from tests.support.web import signed_in
from tests.test_family_calendar import _feed_path
from tests.test_family_card import card_world

# Stems, lower case: each catches its word's inflected forms.
FORBIDDEN = {
    "en": ("prison", "jail", "reintegration", "programme", "program", "probation", "offender"),
    "fr": ("prison", "détention", "détenu", "réinsertion", "réintégr", "programme", "probation"),
    "ru": ("тюрьм", "заключ", "колони", "лишени", "реинтеграц", "программ", "пробаци", "освобожд"),
    "kk": ("түрме", "бас бостандығ", "колония", "реинтеграц", "бағдарлама", "пробаци", "сотталған"),
    "ar": ("سجن", "السجون", "سجين", "إدماج", "الإدماج", "برنامج", "البرنامج", "المراقبة"),
}  # fmt: skip
LANGUAGES = tuple(FORBIDDEN)


def clean(text: str, language: str) -> list[str]:
    lowered = text.lower()
    found = [word for word in FORBIDDEN[language] if word in lowered]
    # English words left untranslated in another language count too.
    return found + [word for word in FORBIDDEN["en"] if word in lowered and language != "en"]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_manifest_description_is_discreet(client: object, language: str) -> None:
    answer = await client.get(f"/manifest.webmanifest?lang={language}")  # type: ignore[attr-defined]
    manifest = answer.json()
    assert manifest["lang"] == language
    for field in ("name", "short_name", "description"):
        assert manifest[field], field
        assert clean(manifest[field], language) == [], (field, manifest[field])


EXPECTED_CALENDAR_NAMES = {
    "en": "Appointments",
    "fr": "Rendez-vous",
    "ru": "Назначенные встречи",
    "kk": "Кездесу уақыттары",
    "ar": "المواعيد",
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_calendar_name_is_discreet(app: Starlette, language: str) -> None:
    relative, appointment = await card_world(language=language)
    shown = await appointment(Pillar.COUNSELLING)
    async with await signed_in(app, relative) as client:
        bodies = [
            (await client.get(await _feed_path(client))).content,
            (await client.get(f"/family/appointments/{shown.id}/calendar.ics")).content,
        ]
    for body in bodies:
        name = str(Calendar.from_ical(body)["x-wr-calname"])
        assert vobject.readOne(body.decode("utf-8")).contents["x-wr-calname"][0].value == name
        assert name == EXPECTED_CALENDAR_NAMES[language]
        assert clean(name, language) == []
