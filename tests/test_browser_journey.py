"""The everyday journey in a real browser: a worker logs one session of each
type, an officer reviews them — in Russian and in Arabic."""

import pytest
from playwright.async_api import Browser, Page, expect

from server.enums import Pillar, Role
from server.sessions.models import SessionLog
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "direction"), [("ru", "ltr"), ("ar", "rtl")])
async def test_worker_logs_each_type_and_officer_reviews(
    page: Page, browser: Browser, live_server: LiveServer, language: str, direction: str
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER, name="Karim Trabelsi", language=language)
    worker = await world.user(org, Role.WORKER, name="Amira Jaziri", language=language)
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)

    await ob.sign_in(page.context, live_server.url, worker)
    for index, pillar in enumerate(Pillar):
        await page.goto(f"/log/{participant.id}/{pillar.value}")
        assert await page.locator("html").get_attribute("dir") == direction
        assert await page.locator("html").get_attribute("lang") == language
        await ob.ready(page)
        answers = ob.answers(index * 2, pillar.value, notes=f"{pillar.value} journey note")
        await ob.fill(page, ob.order(answers))
        async with page.expect_response(lambda r: "/api/sync/push" in r.url) as pushed:
            await page.locator("form[data-form] button[type=submit]").click()
        # The server commits before it answers; Chromium may have dropped the
        # answer's body by now, so the database says what was stored.
        assert (await pushed.value).status == 200
        stored = await SessionLog.get(participant=participant, pillar=pillar)
        assert stored.notes == f"{pillar.value} journey note"
    logs = await SessionLog.filter(participant=participant)
    assert sorted(log.pillar.value for log in logs) == sorted(p.value for p in Pillar)

    officer_context = await browser.new_context(base_url=live_server.url)
    officer_page = await officer_context.new_page()
    try:
        await ob.sign_in(officer_context, live_server.url, officer)
        for _ in Pillar:
            await officer_page.goto("/review")
            assert await officer_page.locator("html").get_attribute("dir") == direction
            await officer_page.locator("main .list a").first.click()
            await expect(officer_page.locator("#review-comment")).to_be_visible()
            await officer_page.fill("#review-comment", "Хорошо" if language == "ru" else "جيد")
            await officer_page.locator("form[action$='/review'] button[type=submit]").click()
            await expect(officer_page.locator("#review-comment")).to_have_count(0)
        await officer_page.goto("/review")
        await expect(officer_page.locator("main .list a")).to_have_count(0)
    finally:
        await officer_context.close()
    reviewed = await SessionLog.filter(participant=participant, reviewed_by=officer).count()
    assert reviewed == len(Pillar)
