"""Reminders on a real phone browser (issue 17, item 4), in Chromium against
the live server: a push reaching the service worker shows the discreet
title; where the browser cannot subscribe (headless Chromium reaches no
push service) the page says so in the family's language, nothing stored."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Country, Pillar, Role
from server.family.models import PushSubscription
from server.orgs.models import Organisation
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

CANNOT_KK = (
    "Бұл телефонда еске салғыштарды қосу мүмкін емес."
    " Оның орнына күнтізбе сілтемесі сізге еске сала алады."
)
CANNOT_AR = "لا يمكن تفعيل التذكيرات على هذا الهاتف. يمكن لرابط التقويم أن يذكّركم بدلًا من ذلك."


async def relative(language: str, zone: str, country: Country) -> User:
    org = await Organisation.create(
        name="Reintegration Network", country=country, default_language=language, time_zone=zone
    )
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer)
    family = await world.user(org, Role.FAMILY, name="Aigerim", language=language)
    await participant.family.add(family)
    start = datetime.now(UTC) + timedelta(days=2)
    await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        with_user=worker,
        family_visible=True,
        created_by=officer,
    )
    return family


async def registration_id(page: Page) -> tuple[Any, str]:
    """The page's service worker registration, as DevTools names it."""
    cdp = await page.context.new_cdp_session(page)
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def updated(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"].endswith("/") and not found.done():
                found.set_result(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    await cdp.send("ServiceWorker.enable")
    return cdp, await asyncio.wait_for(found, 10)


@pytest.mark.parametrize(
    ("language", "zone", "country", "cannot", "title"),
    [
        ("kk", "Asia/Almaty", Country.KAZAKHSTAN, CANNOT_KK, "Кездесу уақыты — Brenda"),
        ("ar", "Africa/Tunis", Country.TUNISIA, CANNOT_AR, "موعد — Brenda"),
    ],
)
async def test_a_push_shows_the_discreet_title_and_a_failed_subscribe_says_so(
    browser: Browser,
    live_server: LiveServer,
    app: Starlette,
    language: str,
    zone: str,
    country: Country,
    cannot: str,
    title: str,
) -> None:
    family = await relative(language, zone, country)
    context = await browser.new_context(base_url=live_server.url)
    try:
        await context.grant_permissions(["notifications"], origin=live_server.url)
        await ob.sign_in(context, live_server.url, family)
        page = await context.new_page()
        await page.goto("/")
        await ob.controlled(page)
        section = page.locator("[data-reminders]")
        await expect(section).to_be_visible()
        await expect(section).to_have_attribute("data-reminders", "ready")
        turn_on = section.locator("[data-reminders-on]")
        await expect(turn_on).to_be_visible()

        # Headless Chromium has no push service to subscribe with: the page
        # says so plainly, in the family's language, and nothing is stored.
        await turn_on.click()
        state = section.locator("[data-reminders-state]")
        await expect(state).to_have_text(cannot, timeout=20_000)
        await expect(state).to_have_attribute("data-state", "unsupported")
        await expect(turn_on).to_be_visible()
        assert await PushSubscription.all().count() == 0

        # A push delivered to the worker (as a push service would) is shown
        # with the title the server wrote, nothing more revealing.
        cdp, registration = await registration_id(page)
        payload = {"title": title, "body": "10:00", "tag": "appointment-1", "url": "/"}
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server.url,
                "registrationId": registration,
                "data": json.dumps(payload),
            },
        )
        # The worker shows it asynchronously; no event tells the page, so
        # the page asks the registration until it is there (at most 10 s).
        shown = await page.evaluate(
            """async () => {
                const registration = await navigator.serviceWorker.ready;
                for (let tries = 0; tries < 200; tries += 1) {
                    const found = await registration.getNotifications();
                    if (found.length) return found.map((n) => [n.title, n.body, n.tag, n.data.url]);
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
                return null;
            }"""
        )
        assert shown == [[title, "10:00", "appointment-1", "/"]]
    finally:
        await context.close()
