"""A referral in real Chromium (issue 20, item 5): an officer in Kazakh refers
a participant to an NGO, whose officer accepts and assigns a worker; the
worker (in Russian) pulls, logs a session offline, syncs; the officer reads
it; the referral ends, and after the worker's next pull the phone no longer
offers the participant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from server.enums import Country, Gender, Pillar, Role
from server.referrals.models import Referral, ReferralStatus
from server.sessions.models import SessionLog
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

UNTIL = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


async def as_user(page: Page, live_server: LiveServer, user: object) -> None:
    await ob.sign_out(page.context)
    await ob.sign_in(page.context, live_server.url, user)  # type: ignore[arg-type]


async def test_refer_log_offline_end_and_the_phone_lets_go(
    page: Page, live_server: LiveServer
) -> None:
    home = await world.organisation("Пробация Алматы", Country.KAZAKHSTAN)
    ngo = await world.organisation("Umit NGO", Country.KAZAKHSTAN)
    officer = await world.user(home, Role.OFFICER, name="Aliya Nurlanova", language="kk")
    ngo_officer = await world.user(ngo, Role.OFFICER, name="Olga Petrova", language="ru")
    worker = await world.user(ngo, Role.WORKER, name="Marat Worker", language="ru")
    participant = await world.participant(
        home, officer, full_name="Aigerim Sadykova", gender=Gender.FEMALE
    )
    code = participant.code

    # The officer, in Kazakh, refers the participant for family work.
    await as_user(page, live_server, officer)
    await page.goto(f"/participants/{participant.id}/referrals")
    await expect(page.locator("h2")).to_contain_text("Серіктес ұйымға жолдау")
    await page.locator("#f-partner").select_option(str(ngo.id))
    await page.locator("input[name=kind][value=referral]").check()
    await page.locator("input[name=pillars][value=family]").check()
    await page.locator("#f-until").fill(UNTIL)
    await page.locator("input[name=consent]").check()
    await page.locator(f"form[action='/participants/{participant.id}/referrals'] button").click()
    await page.locator("p.notice").wait_for()
    referral = await Referral.get(participant_id=participant.id)
    assert (referral.status, referral.pillars) == (ReferralStatus.PENDING, "family")

    # The NGO's officer accepts and assigns the worker.
    await as_user(page, live_server, ngo_officer)
    await page.goto("/referrals")
    await expect(page.locator("main")).to_contain_text(code)
    assert "Sadykova" not in await page.locator("main").inner_text()
    await page.locator(f"input[name=workers][value='{worker.id}']").check()
    await page.locator(f"form[action='/referrals/{referral.id}/accept'] button").click()
    await page.locator("p.notice").wait_for()

    # The worker, in Russian: pulls, goes offline, logs the one referred pillar.
    await as_user(page, live_server, worker)
    await ob.install(page)
    assert await page.locator("html").get_attribute("lang") == "ru"
    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)
    await page.locator("[data-log]").click()
    await page.locator(f"a[data-code='{code}']").click()
    offered = page.locator("a[data-pillar]")
    await expect(offered).to_have_count(1)
    assert await offered.get_attribute("data-pillar") == "family"
    await offered.click()
    await ob.fill(page, ob.order(ob.answers(0, "family", "Talked with her mother")))
    await page.locator("form[data-form] button[type=submit]").click()
    await page.locator("[data-notice=saved]").wait_for()
    assert await SessionLog.all().count() == 0
    await page.context.set_offline(False)
    await page.locator("[data-outbox-empty]").wait_for()
    (log,) = await SessionLog.all()
    assert (log.author_id, log.pillar, log.participant_id) == (
        worker.id,
        Pillar.FAMILY,
        participant.id,
    )

    # The referring officer reads it.
    await as_user(page, live_server, officer)
    shown = await page.goto(f"/sessions/{log.id}")
    assert shown is not None and shown.status == 200
    await expect(page.locator("main")).to_contain_text("Talked with her mother")

    # The officer ends the referral.
    await page.goto(f"/participants/{participant.id}/referrals")
    await page.locator(f"form[action='/referrals/{referral.id}/end'] input[name=reason]").fill(
        "Мақсаттарға жетті"
    )
    await page.locator(f"form[action='/referrals/{referral.id}/end'] button").click()
    await page.locator("p.notice").wait_for()
    assert (await Referral.get(id=referral.id)).status is ReferralStatus.ENDED

    # The worker's next pull: the phone no longer offers the participant.
    await as_user(page, live_server, worker)
    await page.goto("/")
    await ob.ready(page)
    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)
    await page.locator("[data-log]").click()
    await expect(page.locator("a[data-code]")).to_have_count(0)
    assert code not in await page.locator("#app").inner_text()
