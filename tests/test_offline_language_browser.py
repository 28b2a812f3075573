"""Offline screens in the worker's language, with dates from the server's
CLDR data rather than the browser's (issue 16, item 4): this Chromium has no
Kazakh date data and wrote "2026 M11 28, Sat"."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from tortoise.transactions import in_transaction

from server.appointments.models import Appointment
from server.enums import Country, Pillar, Role
from server.sync.sequence import next_seq
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

# 05:00 UTC is 10:00 in Almaty (UTC+5), a Thursday in November.
STARTS = datetime(2030, 11, 28, 5, 0, tzinfo=UTC)


async def kazakh_worker_with_an_appointment() -> tuple[object, str]:
    org = await world.organisation(country=Country.KAZAKHSTAN)
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER, language="kk")
    worker.time_zone = "Asia/Almaty"
    await worker.save(update_fields=["time_zone"])
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    async with in_transaction() as conn:
        await Appointment.create(
            seq=await next_seq(conn),
            id=uuid.uuid4(),
            participant=participant,
            pillar=Pillar.FAMILY,
            starts_at=STARTS,
            ends_at=STARTS + timedelta(hours=1),
            place="Алматы",
            with_user=worker,
            created_by=worker,
            using_db=conn,
        )
    return worker, participant.code


async def test_offline_card_has_kazakh_month_names_from_the_server(
    page: Page, live_server: LiveServer
) -> None:
    worker, code = await kazakh_worker_with_an_appointment()
    await ob.sign_in(page.context, live_server.url, worker)  # type: ignore[arg-type]
    await ob.install(page)
    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)
    heading = page.locator("[data-appointments] h3").first
    await expect(heading).to_be_visible()
    # Written by hand from CLDR's Kazakh (y 'ж'. dd MMM), at 10:00 Almaty time.
    assert await heading.inner_text() == f"2030\u202fж. 28 қар., 10:00 · {code}"


async def test_offline_language_stays_after_a_signed_out_english_page(
    page: Page, live_server: LiveServer
) -> None:
    worker, code = await kazakh_worker_with_an_appointment()
    await ob.sign_in(page.context, live_server.url, worker)  # type: ignore[arg-type]
    await ob.install(page)
    assert await page.locator("html").get_attribute("lang") == "kk"
    # Another person's browser, signed out, in English: no cookie says Kazakh.
    await page.context.clear_cookies()
    await page.goto("/signin")
    assert await page.locator("html").get_attribute("lang") == "en"
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    await page.context.set_offline(True)
    await page.goto("/")
    await page.locator("#app").wait_for()
    assert await page.locator("html").get_attribute("lang") == "kk"
    # The offline card still writes its month in Kazakh, not the browser's way.
    heading = page.locator("[data-appointments] h3").first
    await expect(heading).to_have_text(f"2030\u202fж. 28 қар., 10:00 · {code}")


async def test_family_offline_card_names_the_day_and_month_in_kazakh(
    page: Page, live_server: LiveServer
) -> None:
    org = await world.organisation(country=Country.KAZAKHSTAN)
    officer = await world.user(org, Role.OFFICER)
    relative = await world.user(org, Role.FAMILY, language="kk")
    relative.time_zone = "Asia/Almaty"
    await relative.save(update_fields=["time_zone"])
    participant = await world.participant(org, officer)
    await participant.family.add(relative)
    shown = await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
        place="Алматы",
        with_user=officer,
        family_visible=True,
        created_by=officer,
    )
    await ob.sign_in(page.context, live_server.url, relative)
    await page.goto("/")
    await ob.controlled(page)
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    await ob.ready(page)
    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)
    card = page.locator(f"[data-family] [data-appointment='{shown.id}']")
    # CLDR's Kazakh full date (y 'ж'. d MMMM, EEEE), 10:00–11:00 in Almaty.
    await expect(card).to_contain_text("2030\u202fж. 28 қараша, бейсенбі, 10:00–11:00")
    assert "M11" not in await card.inner_text()
