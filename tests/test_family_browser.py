"""The family's screen in real Chromium against a real server: invited by an
officer, enrolled in Kazakh with a passkey, the appointment seen and added to
the calendar, attendance confirmed with no network, the officer sees it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from icalendar import Calendar
from playwright.async_api import Browser, Page, expect
from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import AppointmentStatus, FamilyResponse, Pillar, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer
from tests.support.passkeys import virtual_authenticator

pytestmark = pytest.mark.browser

PLACE = "Ntinda community centre"
# "Saved on this phone. It will be sent when there is a network." in Kazakh
# (a client message already in the catalogue: the offline shell shows it).
SAVED_KK = "Осы телефонда сақталды. Желі пайда болғанда жіберіледі."


async def appointment_for(
    org: Organisation, officer: User, participant: Participant, start: datetime
) -> Appointment:
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    return await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place=PLACE,
        with_user=worker,
        what_to_bring="ID card",
        family_visible=True,
        created_by=officer,
    )


async def invite_family(page: Page, participant: Participant) -> str:
    """The officer's screens: a family member's invitation, linked to `participant`."""
    await page.goto("/invitations/new")
    await page.check("input[name=role][value=family]")
    await page.fill("#invite-name", "Sarah Kato")
    await page.select_option("#invite-participant", str(participant.id))
    await page.locator("form[action='/invitations'] button[type=submit]").click()
    return (await page.locator("[data-invitation-link]").inner_text()).strip()


async def installed(page: Page) -> None:
    """The service worker controls the page, knows the language, and a pull is done."""
    await ob.controlled(page)
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    await ob.ready(page)


async def test_family_enrols_in_kazakh_answers_offline_and_the_officer_sees_it(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    org = await world.organisation("Kampala Community Reintegration Network")
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    participant = await world.participant(org, officer, full_name="Zarina Kassymova")
    # Whole minutes, so the calendar's time compares exactly.
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    appointment = await appointment_for(org, officer, participant, start)

    office = await browser.new_context(base_url=live_server.url)
    phone = await browser.new_context(base_url=live_server.url, accept_downloads=True)
    try:
        desk = await office.new_page()
        await ob.sign_in(office, live_server.url, officer)
        link = await invite_family(desk, participant)
        assert "/enrol/" in link

        page = await phone.new_page()
        await virtual_authenticator(page)
        await page.goto(link)
        await page.select_option("#language", "kk")
        await page.fill("#passkey-name", "my phone")
        await page.locator("[data-passkey=enrol] button[type=submit]").click()
        await expect(page).to_have_url(re.compile(r"/$"))
        assert await page.locator("html").get_attribute("lang") == "kk"
        await expect(page.locator("h1")).to_have_text("Кездесу уақыттары")  # "Appointments"
        card = page.locator(f"[data-appointment='{appointment.id}']")
        await expect(card).to_contain_text(PLACE)
        await expect(card).to_contain_text("Brenda")
        await expect(card).not_to_contain_text("Achieng")  # the worker's first name only
        await installed(page)

        async with page.expect_download() as started:
            await card.locator("a[data-ics]").click()
        download = await started.value
        calendar = Calendar.from_ical(await anyio.Path(await download.path()).read_bytes())
        event = next(iter(calendar.walk("VEVENT")))
        assert str(event["location"]) == PLACE
        assert event["dtstart"].params["TZID"] == "Africa/Kampala"
        assert event["dtstart"].dt == start  # aware: the same moment, in Kampala's time
        assert str(event["dtstart"].dt.tzinfo) == "Africa/Kampala"
        summary = str(event["summary"])
        # Discreet on a lock screen: "Appointment — Brenda", no organisation.
        assert "Brenda" in summary and org.name not in summary and "Achieng" not in summary

        # No network: the offline shell draws the family's screen from the phone.
        await phone.set_offline(True)
        await page.reload()
        await ob.ready(page, synced=False)
        assert await page.locator("html").get_attribute("lang") == "kk"
        offline = page.locator(f"[data-family] [data-appointment='{appointment.id}']")
        await expect(offline).to_contain_text(PLACE)
        await expect(offline).to_contain_text("ID card")
        await expect(page.locator("[data-log]")).to_have_count(0)  # not the worker's screens
        await offline.locator("input[name=response][value=coming]").check()
        await offline.locator("form[data-family-answer] button[type=submit]").click()
        state = offline.locator("[data-answer-state]")
        await expect(state).to_have_attribute("data-state", "waiting")
        await expect(state).to_have_text(SAVED_KK)
        await expect(offline.locator("[data-said]")).to_be_visible()
        assert (await Appointment.get(id=appointment.id)).family_response is None

        # The network returns: the answer goes by itself.
        await phone.set_offline(False)
        await expect(state).to_have_attribute("data-state", "sent", timeout=15_000)
        stored = await Appointment.get(id=appointment.id)
        assert stored.family_response is FamilyResponse.COMING
        assert stored.version == appointment.version + 1

        await desk.goto(f"/appointments/{appointment.id}")
        await expect(desk.locator("dl.answers")).to_contain_text("The family will come")
    finally:
        await phone.close()
        await office.close()


async def test_online_answer_is_sent_at_once_and_a_change_of_mind_follows(
    page: Page, live_server: LiveServer, app: Starlette
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, language="ar")
    await participant.family.add(relative)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    appointment = await appointment_for(org, officer, participant, start)
    await ob.sign_in(page.context, live_server.url, relative)
    await page.goto("/")
    await installed(page)
    assert await page.locator("html").get_attribute("dir") == "rtl"
    card = page.locator(f"[data-appointment='{appointment.id}']")

    send = card.locator("form[data-family-answer] button[type=submit]")
    await card.locator("input[name=message]").fill("We will be there early")
    await card.locator("input[name=response][value=coming]").check()
    await send.click()
    await expect(card.locator("[data-answer-state]")).to_have_attribute("data-state", "sent")
    # The message is part of the answer: it stays in the form, as sent.
    assert await card.locator("input[name=message]").input_value() == "We will be there early"
    assert page.url.endswith("/")  # no plain post: the outbox sent it
    stored = await Appointment.get(id=appointment.id)
    assert stored.family_response is FamilyResponse.COMING
    assert stored.family_message == "We will be there early"

    # The pull after the push gave the phone the new version: a second answer
    # applies instead of turning into a conflict.
    await card.locator("input[name=response][value=not_coming]").check()
    await send.click()
    # Saved (shown as said) first, then sent: in that order, never the old "sent".
    await expect(card.locator("[data-said]")).to_have_attribute("data-response", "not_coming")
    await expect(card.locator("[data-answer-state]")).to_have_attribute("data-state", "sent")
    stored = await Appointment.get(id=appointment.id)
    assert stored.family_response is FamilyResponse.NOT_COMING
    assert stored.family_message == "We will be there early"
    assert stored.version == appointment.version + 2


async def test_offline_shell_in_arabic_shows_the_family_screen_mirrored(
    page: Page, live_server: LiveServer, app: Starlette
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, language="ar")
    await participant.family.add(relative)
    org.contact_phone = "+256 700 123 456"
    await org.save()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    appointment = await appointment_for(org, officer, participant, start)
    cancelled = await appointment_for(org, officer, participant, start + timedelta(days=1))
    cancelled.status = AppointmentStatus.CANCELLED
    await cancelled.save()
    moved = await appointment_for(org, officer, participant, start + timedelta(days=2))
    moved.moved_from = start + timedelta(days=1, hours=1)
    await moved.save()
    await ob.sign_in(page.context, live_server.url, relative)
    await page.goto("/")
    await installed(page)

    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)
    assert await page.locator("html").get_attribute("dir") == "rtl"
    card = page.locator(f"[data-family] [data-appointment='{appointment.id}']")
    await expect(card).to_contain_text(PLACE)
    # What it is, in the family's words: "Family engagement" in Arabic.
    await expect(card.locator("h2")).to_have_text("التواصل مع العائلة")
    # "Questions? Call:" and a tap-to-call link to the organisation's number.
    await expect(card).to_contain_text("هل لديكم أسئلة؟ يُرجى الاتصال:")
    call = card.locator("a[href='tel:+256700123456']")
    await expect(call).to_have_text("+256 700 123 456")
    # One main action per appointment: "Send my answer", after the choice.
    assert await card.locator("button.primary").count() == 1
    await expect(card.locator("button.primary")).to_have_text("إرسال الإجابة")
    assert await card.locator("input[type=radio][name=response]").count() == 2
    # A cancelled appointment stays, said to be cancelled, and takes no answer.
    gone = page.locator(f"[data-family] [data-appointment='{cancelled.id}']")
    await expect(gone).to_contain_text("أُلغي. لن يُعقد هذا الموعد.")
    await expect(gone.locator("form[data-family-answer]")).to_have_count(0)
    # A moved one says so: "Moved to …" and "It was planned for …".
    shifted = page.locator(f"[data-family] [data-appointment='{moved.id}'] [data-change=moved]")
    await expect(shifted).to_contain_text("نُقل الموعد إلى")
    await expect(shifted).to_contain_text("كان الموعد مقرراً يوم")
    # Only the allow-listed fields were kept on the phone.
    kept = await page.evaluate(
        """async () => {
          const cache = await import('/pwa/outbox/cache.js');
          const user = await cache.currentUser();
          return (await cache.appointments(user.id)).map((a) => Object.keys(a).sort());
        }"""
    )
    # All three appointments (the cancelled one too), each with these keys only.
    expected = sorted(
        [
            "owner",
            "id",
            "family",
            "starts_at",
            "ends_at",
            "place",
            "organisation",
            "with",
            "what_to_bring",
            "status",
            "response",
            "version",
            "pillar",
            "contact_phone",
            "latitude",
            "longitude",
            "moved_from",
            "answerable",
        ]
    )
    assert kept == [expected, expected, expected]


# "Your answer arrived after the appointment was changed, so it was not used.
# Please look at the appointment again and send your answer again, or call
# the organisation." in Kazakh.
CHANGED_KK = (
    "Жауабыңыз кездесу уақыты өзгертілгеннен кейін келді, сондықтан ол ескерілмеді. "
    "Кездесу уақытын қайта қарап, жауабыңызды тағы бір рет жіберіңіз немесе ұйымға "
    "қоңырау шалыңыз."
)


async def test_an_answer_to_an_appointment_changed_meanwhile_says_what_to_do(
    page: Page, live_server: LiveServer, app: Starlette
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, language="kk")
    await participant.family.add(relative)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    appointment = await appointment_for(org, officer, participant, start)
    await ob.sign_in(page.context, live_server.url, relative)
    await page.goto("/")
    await installed(page)
    card = page.locator(f"[data-appointment='{appointment.id}']")

    # Answered with no network, over the version the phone saw ...
    await page.context.set_offline(True)
    await card.locator("input[name=response][value=coming]").check()
    await card.locator("form[data-family-answer] button[type=submit]").click()
    state = card.locator("[data-answer-state]")
    await expect(state).to_have_attribute("data-state", "waiting")
    # ... while the office moved the appointment.
    await Appointment.filter(id=appointment.id).update(
        starts_at=start + timedelta(hours=2),
        ends_at=start + timedelta(hours=3),
        moved_from=start,
        version=appointment.version + 1,
    )
    await page.context.set_offline(False)
    await expect(state).to_have_attribute("data-state", "needs_attention", timeout=15_000)
    # What happened and what to do, in plain words: never just "Needs attention".
    await expect(state).to_have_text(CHANGED_KK)
    assert (await Appointment.get(id=appointment.id)).family_response is None
