"""Register and gender: how the catalogues speak to people and about them.

Arabic addresses the reader politely (يُرجى with a verbal noun, or the
polite plural), never with a masculine singular imperative; French sets a
narrow no-break space before : ; ? ! and writes one apostrophe (U+2019); words
about a participant agree with the participant's gender in Russian, Arabic
and French.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from server.enums import Country, Gender, Pillar, Role
from server.sessions.models import SessionLog
from server.settings import ROOT
from tests.support import world
from tests.support.web import signed_in


def translations(language: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every entry, each plural form on its own."""
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    found = []
    for message in catalogue:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else message.string
        found.extend((msgid, text) for text in strings if text)
    return found


# Masculine singular imperatives and masculine "you" that the screens used to
# say to every reader; each is a whole word.
BANNED_ARABIC = [
    "أحضِر",
    "أحضر",
    "أضف",
    "اختر",
    "أجب",
    "أنشئ",
    "فاتّبع",
    "اتّبع",
    "أعطِ",
    "فاترك",
    "اترك",
    "اطلب",
    "افتح",
    "سجّل",
    "انتقل",
    "حاول",
    "حدِّث",
    "استخدم",
    "أبقِ",
    "اكتب",
    "تأكّد",
    "إنك",
    "فقدت",
    "لاحظت",
    "أحلت",
    "أحسنت",
    "حسابك",
    "هاتفك",
    "لغتك",
    "إجابتك",
    "بك",
    "لديك",
    "منظمتك",
    "يمكنك",
    "منطقتك",
    "قائمتك",
    "لك",
    "تريد",
]


def test_arabic_never_speaks_to_the_reader_as_one_man() -> None:
    found = []
    for msgid, text in translations("ar"):
        words = set(re.findall(r"[\u0600-\u06ff]+", text))
        found += [(msgid, word) for word in BANNED_ARABIC if word in words]
        # "ستحضر" is also "she will come" (the family): only the question is banned.
        found += [(msgid, "هل ستحضر؟") for _ in re.findall(r"هل ستحضر؟", text)]
    assert found == []


def test_arabic_asks_with_one_spelling_of_please() -> None:
    found = [msgid for msgid, text in translations("ar") if re.search(r"(^|\s)يرجى", text)]
    assert found == []


def test_french_typography() -> None:
    # A plain or missing space before : ; ? ! (times such as 14:30 and
    # placeholders are not punctuation), and the straight apostrophe.
    wrong = re.compile(r" [:;?!]|[^\W\d][;?!]|[^\W\d»)]:(\s|$)|\u00a0[:;?!]")
    bad_space = [(msgid, text) for msgid, text in translations("fr") if wrong.search(text)]
    assert bad_space == []
    straight = [msgid for msgid, text in translations("fr") if "'" in text]
    assert straight == []


def test_french_spaces_are_the_narrow_no_break_kind_before_double_punctuation() -> None:
    # Hand-picked entries whose expected French is written out in full.
    french = dict(translations("fr"))
    assert french["Where:"] == "Où\u202f:"
    assert french["Will you come?"] == "Viendrez-vous\u202f?"


async def _log_for(app: Starlette, gender: Gender, language: str) -> str:
    org = await world.organisation("Gender office", Country.TUNISIA)
    worker = await world.user(org, Role.WORKER, name="Worker", language=language)
    participant = await world.participant(org, gender=gender)
    await participant.workers.add(worker)
    log = await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.EDUCATION,
        form_version=1,
        occurred_at=datetime.now(UTC) - timedelta(days=1),
        duration_minutes=30,
        author=worker,
        attendance="attended",
        content_hash="x",
    )
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/sessions/{log.id}")
    assert page.status_code == 200, page.text
    match = re.search(r'<p class="muted">(.*?)</p>', page.text, flags=re.S)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "woman", "man"),
    [("ru", "Пришла", "Пришёл"), ("ar", "حضرت", "حضر"), ("fr", "Présente", "Présent")],
)
async def test_a_participant_is_spoken_of_in_their_gender(
    app: Starlette, language: str, woman: str, man: str
) -> None:
    line = await _log_for(app, Gender.FEMALE, language)
    assert f"· {woman}" in line and "(-" not in line
    line = await _log_for(app, Gender.MALE, language)
    assert f"· {man}\n" in line or f"· {man} " in line
