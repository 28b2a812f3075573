"""Dates, times and numbers in the user's country and time zone.

Every expected string below is written by hand from the calendar and the
country's conventions: Almaty is UTC+5 all year, Tunis UTC+1 all year,
Kampala UTC+3; 28 November 2026 is a Saturday, 28 June 2026 a Sunday.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from starlette.applications import Starlette

from server.accounts import sessions
from server.accounts.models import Passkey, User
from server.appointments.models import Appointment
from server.enums import Country, Pillar, Role
from server.i18n import Translator
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import ORIGIN

ZONES = {Country.KAZAKHSTAN: "Asia/Almaty", Country.TUNISIA: "Africa/Tunis"}
ZONES[Country.UGANDA] = "Africa/Kampala"


def text_of(page: httpx.Response) -> str:
    """The page as a reader sees it: tags gone, entities decoded, spaces squeezed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page.text, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


async def organisation(country: Country) -> Organisation:
    return await Organisation.create(
        name=f"Office {country.value}",
        country=country,
        default_language="en",
        time_zone=ZONES[country],
    )


async def person(org: Organisation, role: Role, language: str) -> User:
    return await world.user(org, role, name=f"{role.value} person", language=language)


async def at(app: Starlette, user: User, moment: datetime) -> httpx.AsyncClient:
    """A signed-in client whose server clock stands still at ``moment``."""
    app.state.clock = lambda: moment
    started = await sessions.start(user=user, now=moment, ip="127.0.0.1", device="test")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=ORIGIN
    )
    client.cookies.set("homeward_session", started.token)
    return client


async def appointment(
    participant: Participant, worker: User, starts_at: datetime, hours: int = 1
) -> Appointment:
    return await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        place="Family home",
        with_user=worker,
        family_visible=True,
        created_by=worker,
    )


async def family_of(country: Country, language: str) -> tuple[User, User, Participant]:
    org = await organisation(country)
    officer = await person(org, Role.OFFICER, "en")
    worker = await person(org, Role.WORKER, "en")
    relative = await person(org, Role.FAMILY, language)
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    await participant.family.add(relative)
    return relative, worker, participant


# --- 3. the user's time zone on every server screen ---------------------------


async def test_family_sees_a_night_appointment_in_almaty_on_its_own_day(app: Starlette) -> None:
    relative, worker, participant = await family_of(Country.KAZAKHSTAN, "ru")
    # 02:00 on Saturday 28 November in Almaty is still Friday 27th in UTC.
    await appointment(participant, worker, datetime(2026, 11, 27, 21, 0, tzinfo=UTC))
    # 01:00 on Tuesday 24 November in Almaty, a recent one: Monday 23rd in UTC.
    await appointment(participant, worker, datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    async with await at(app, relative, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get("/"))
    assert "суббота, 28 ноября 2026\u202fг., 02:00–03:00" in page
    assert "24 нояб. 2026\u202fг. ·" in page
    assert "27 ноября" not in page and "23 нояб." not in page


async def test_family_sees_an_appointment_just_after_midnight_in_tunis(app: Starlette) -> None:
    relative, worker, participant = await family_of(Country.TUNISIA, "ar")
    # 00:30 on Sunday 28 June in Tunis is 23:30 on Saturday 27th in UTC;
    # Tunisian months (جوان) and a 24-hour clock.
    await appointment(participant, worker, datetime(2026, 6, 27, 23, 30, tzinfo=UTC))
    # 23:30 on Friday 26 June in Tunis: the same day in UTC, and still the 26th.
    await appointment(participant, worker, datetime(2026, 6, 26, 22, 30, tzinfo=UTC))
    async with await at(app, relative, datetime(2026, 6, 26, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get("/"))
    assert "الأحد، 28 جوان 2026، 00:30–01:30" in page
    assert "الجمعة، 26 جوان 2026، 23:30–00:30" in page
    assert "يونيو" not in page and "12:30" not in page


async def test_worker_last_contact_is_the_local_day(app: Starlette) -> None:
    org = await organisation(Country.KAZAKHSTAN)
    worker = await person(org, Role.WORKER, "kk")
    participant = await world.participant(org)
    await participant.workers.add(worker)
    # 03:00 on 25 November in Almaty, 22:00 on the 24th in UTC.
    await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.EDUCATION,
        form_version=1,
        occurred_at=datetime(2026, 11, 24, 22, 0, tzinfo=UTC),
        duration_minutes=30,
        author=worker,
        attendance="attended",
        content_hash="x",
    )
    async with await at(app, worker, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get("/"))
    assert "Соңғы байланыс: 2026\u202fж. 25 қар." in page


async def test_account_page_dates_passkeys_in_the_users_day(app: Starlette) -> None:
    org = await organisation(Country.KAZAKHSTAN)
    officer = await person(org, Role.OFFICER, "ru")
    key = await Passkey.create(
        user=officer,
        credential_id=b"k",
        credential_key="k",
        public_key=b"p",
        name="Телефон",
        last_used_at=datetime(2026, 11, 24, 23, 59, tzinfo=UTC),
    )
    # 01:30 on 25 November in Almaty, 20:30 on the 24th in UTC.
    await Passkey.filter(id=key.id).update(created_at=datetime(2026, 11, 24, 20, 30, tzinfo=UTC))
    async with await at(app, officer, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get("/account"))
    assert "Добавлен 25 нояб. 2026\u202fг." in page
    assert "25.11.2026, 04:59" in page


# --- 2. formats of the user's country ----------------------------------------


def test_each_country_formats_dates_times_and_numbers_its_own_way() -> None:
    moment = datetime(2026, 11, 28, 11, 30, tzinfo=UTC)
    afternoon = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 14:00 in Tunis
    june = date(2026, 6, 28)
    ar_tn = Translator("ar", time_zone="Africa/Tunis", territory="TN")
    assert ar_tn.date(june, "long") == "28 جوان 2026"
    assert ar_tn.date(date(2026, 7, 14), "long") == "14 جويلية 2026"
    assert ar_tn.date(date(2026, 8, 1), "long") == "1 أوت 2026"
    assert ar_tn.time(moment) == "12:30"
    assert ar_tn.time(afternoon) == "14:00"
    fr_tn = Translator("fr", time_zone="Africa/Tunis", territory="TN")
    assert fr_tn.time(afternoon) == "14:00"
    assert fr_tn.datetime(afternoon, "short") == "28/11/2026 14:00"
    en_ug = Translator("en", time_zone="Africa/Kampala", territory="UG")
    assert en_ug.date(moment) == "28 Nov 2026"
    assert en_ug.time(moment) == "14:30"
    assert en_ug.datetime(moment, "short") == "28/11/2026, 14:30"
    assert en_ug.number(1234567.5) == "1,234,567.5"
    kk_kz = Translator("kk", time_zone="Asia/Almaty", territory="KZ")
    assert kk_kz.date(moment, "long") == "2026\u202fж. 28 қараша"
    assert kk_kz.time(moment) == "16:30"
    assert kk_kz.number(1234567.5) == "1\xa0234\xa0567,5"
    ru_kz = Translator("ru", time_zone="Asia/Almaty", territory="KZ")
    assert ru_kz.date(moment, "long") == "28 ноября 2026\u202fг."
    # English read outside Uganda still puts the day first, on a 24-hour clock.
    en_kz = Translator("en", time_zone="Asia/Almaty", territory="KZ")
    assert en_kz.datetime(moment, "short") == "28/11/2026, 16:30"


def test_time_zones_are_named_in_the_users_language() -> None:
    assert Translator("ru", time_zone="Asia/Almaty", territory="KZ").time_zone_name == "Алматы"
    assert Translator("kk", time_zone="Asia/Almaty", territory="KZ").time_zone_name == "Алматы"
    assert Translator("ar", time_zone="Africa/Tunis", territory="TN").time_zone_name == "تونس"
    assert Translator("fr", time_zone="Africa/Tunis", territory="TN").time_zone_name == "Tunis"
    assert Translator("en", time_zone="Africa/Kampala", territory="UG").time_zone_name == "Kampala"


async def test_ugandan_worker_reads_day_first_and_a_24_hour_clock(app: Starlette) -> None:
    org = await organisation(Country.UGANDA)
    worker = await person(org, Role.WORKER, "en")
    participant = await world.participant(org)
    await participant.workers.add(worker)
    # 14:30 on Saturday 28 November in Kampala.
    await appointment(participant, worker, datetime(2026, 11, 28, 11, 30, tzinfo=UTC))
    async with await at(app, worker, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get("/"))
    assert f"28/11/2026, 14:30 · {participant.code}" in page


async def test_tunisian_family_in_french_reads_a_24_hour_clock(app: Starlette) -> None:
    relative, worker, participant = await family_of(Country.TUNISIA, "fr")
    await appointment(participant, worker, datetime(2026, 6, 28, 13, 0, tzinfo=UTC))
    async with await at(app, relative, datetime(2026, 6, 26, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get("/"))
    assert "dimanche 28 juin 2026, 14:00\u2009–\u200915:00" in page
    assert "PM" not in page


async def test_appointment_form_names_the_time_zone_in_words(app: Starlette) -> None:
    org = await organisation(Country.KAZAKHSTAN)
    officer = await person(org, Role.OFFICER, "ru")
    participant = await world.participant(org, officer)
    async with await at(app, officer, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) as client:
        page = text_of(await client.get(f"/participants/{participant.id}/appointments/new"))
    assert "Время указано по вашему часовому поясу (Алматы)." in page
    assert "Asia/Almaty" not in page
