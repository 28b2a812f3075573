"""The session form speaks of the participant in their gender (issue 16):
its questions and answers, on the server's page, in the schema the phone
draws the offline form from, and in the saved log. Expected wording is
written out by hand, as a native reader would write it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from server.enums import Country, Gender, Pillar, Role
from server.forms import all_forms_schema
from server.forms.gender import GENDERED, _marked
from server.i18n import Translator, load_catalogues
from server.participants.models import Participant
from server.sessions.models import SessionLog
from server.settings import ROOT
from tests.support import world
from tests.support.web import signed_in

# (language, "came" for a woman, for a man, "did not come" for a woman, for a man)
ATTENDANCE = [
    (
        "ru",
        "Да, участница пришла",
        "Да, участник пришёл",
        "Нет, участница не пришла",
        "Нет, участник не пришёл",
    ),
    (
        "fr",
        "Oui, elle était présente",
        "Oui, il était présent",
        "Non, elle était absente",
        "Non, il était absent",
    ),
    ("ar", "نعم، حضرت المشاركة", "نعم، حضر المشارك", "لا، لم تحضر المشاركة", "لا، لم يحضر المشارك"),
]
# "How engaged was the participant?"
ENGAGED = {
    "ru": ("Насколько участница была вовлечена?", "Насколько участник был вовлечён?"),
    "fr": (
        "À quel point la participante s’est-elle impliquée\u202f?",
        "À quel point le participant s’est-il impliqué\u202f?",
    ),
    "ar": ("ما مدى تفاعل المشاركة؟", "ما مدى تفاعل المشارك؟"),
}
# Without a known gender: the plain wording, which needs none.
PLAIN = {"fr": "Oui, la personne est venue", "ar": "نعم، تمّ الحضور"}


async def _worker_and(gender: Gender, language: str) -> tuple[object, Participant]:
    org = await world.organisation("Gender office", Country.TUNISIA)
    worker = await world.user(org, Role.WORKER, name="Amira Jaziri", language=language)
    participant = await world.participant(org, gender=gender)
    await participant.workers.add(worker)
    return worker, participant


def _label(html: str, target: str) -> str:
    match = re.search(rf'<label for="{target}">(.*?)</label>', html, flags=re.S)
    assert match, target
    return match.group(1).strip()


def _legend(html: str, key: str) -> str:
    match = re.search(rf'id="f-{key}-field".*?<legend>(.*?) <span', html, flags=re.S)
    assert match, key
    return match.group(1).strip()


@pytest.mark.parametrize(("language", "came_f", "came_m", "missed_f", "missed_m"), ATTENDANCE)
async def test_the_form_page_words_the_answers_for_the_participant(
    app: Starlette, language: str, came_f: str, came_m: str, missed_f: str, missed_m: str
) -> None:
    for gender, came, missed, engaged in (
        (Gender.FEMALE, came_f, missed_f, ENGAGED[language][0]),
        (Gender.MALE, came_m, missed_m, ENGAGED[language][1]),
    ):
        worker, participant = await _worker_and(gender, language)
        async with await signed_in(app, worker) as client:
            page = await client.get(f"/log/{participant.id}/education")
        assert page.status_code == 200, page.text
        assert _label(page.text, "f-attendance-attended") == came
        assert _label(page.text, "f-attendance-missed") == missed
        assert _legend(page.text, "engagement") == engaged


@pytest.mark.parametrize("language", ["fr", "ar"])
async def test_without_a_known_gender_the_plain_wording_is_used(
    app: Starlette, language: str
) -> None:
    worker, participant = await _worker_and(Gender.UNDISCLOSED, language)
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/log/{participant.id}/family")
    assert _label(page.text, "f-attendance-attended") == PLAIN[language]


@pytest.mark.parametrize(("language", "came_f", "came_m", "missed_f", "missed_m"), ATTENDANCE)
def test_the_offline_schema_holds_both_wordings(
    language: str, came_f: str, came_m: str, missed_f: str, missed_m: str
) -> None:
    catalogues = load_catalogues(ROOT / "locales")
    schema = all_forms_schema(Translator(language, catalogues[language]))
    form = next(f for f in schema["forms"] if f["pillar"] == "counselling")
    fields = {f["key"]: f for f in form["fields"]}
    attendance = fields["attendance"]["gendered"]
    assert attendance["female"]["choices"] == {"attended": came_f, "missed": missed_f}
    assert attendance["male"]["choices"] == {"attended": came_m, "missed": missed_m}
    assert fields["engagement"]["gendered"]["female"]["label"] == ENGAGED[language][0]
    assert fields["engagement"]["gendered"]["male"]["label"] == ENGAGED[language][1]
    # A question not about the participant has one wording only.
    assert fields["notes"]["gendered"] is None


async def test_the_pull_tells_the_phone_which_wording_to_use(app: Starlette) -> None:
    worker, woman = await _worker_and(Gender.FEMALE, "ru")
    org = await woman.organisation
    other = await world.participant(org, gender=Gender.OTHER)
    await other.workers.add(worker)  # type: ignore[attr-defined]
    async with await signed_in(app, worker) as client:
        body = (await client.get("/api/sync/pull?since=0")).json()
    genders = {p["id"]: p["gender"] for p in body["participants"]}
    assert genders == {str(woman.id): "female", str(other.id): None}


async def test_the_saved_log_reads_in_the_participants_gender(app: Starlette) -> None:
    worker, woman = await _worker_and(Gender.FEMALE, "ar")
    log = await SessionLog.create(
        id=uuid.uuid4(),
        participant=woman,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=datetime.now(UTC) - timedelta(days=1),
        duration_minutes=30,
        author=worker,
        attendance="attended",
        engagement=3,
        answers={"family_present": ["mother", "children"]},
        content_hash="x",
    )
    async with await signed_in(app, worker) as client:
        page = await client.get(f"/sessions/{log.id}")
    assert page.status_code == 200, page.text
    assert "<bdi>نعم، حضرت المشاركة</bdi>" in page.text
    assert "<dt>ما مدى تفاعل المشاركة؟</dt>" in page.text
    # Several answers joined the Arabic way, not with a Latin comma.
    assert "<bdi>الأم والأطفال</bdi>" in page.text


def test_every_gendered_message_is_marked_in_both_contexts() -> None:
    assert len(_marked(Translator("en"))) == 2 * len(GENDERED)
