"""The outbox in real Chromium against a real server: offline logging,
exactly-once delivery, shared phones. See docs/outbox.md."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Dialog, Page, async_playwright, expect
from starlette.applications import Starlette

from server.sessions.models import SessionLog
from tests.support import browser as browser_support
from tests.support import outbox as ob
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser


async def test_twenty_sessions_logged_offline_arrive_once_each(
    page: Page, live_server: LiveServer
) -> None:
    world = await ob.caseload(size=3)
    await ob.sign_in(page.context, live_server.url, world.worker)
    await ob.install(page)
    first = world.participants[0]
    # A form page online too, as a worker would before going out.
    await page.goto(f"/log/{first.id}/family")
    await ob.ready(page)
    await page.goto("/")
    await ob.ready(page)

    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)
    await expect(page.locator("#offline-notice")).to_be_visible()
    typed = {}
    for index in range(20):
        pillar = ob.PILLARS[index % 4]
        participant = world.participants[index % 3]
        answers = ob.answers(index, pillar)
        typed[answers["notes"]] = (participant, pillar, answers)
        await ob.log_offline(page, participant.code, pillar, answers)
    assert await ob.outbox_states(page, count=20) == ["waiting"] * 20
    await expect(page.locator("[data-outbox-count]")).to_have_attribute("data-count", "20")
    assert await SessionLog.all().count() == 0

    await page.context.set_offline(False)
    await page.locator("[data-outbox-empty]").wait_for()
    assert await page.locator("[data-outbox-count]").get_attribute("data-count") == "0"

    logs = await SessionLog.all()
    assert len(logs) == 20
    for log in logs:
        participant, pillar, answers = typed[log.notes]
        assert (str(log.participant_id), log.pillar.value) == (str(participant.id), pillar)
        assert log.author_id == world.worker.id
        assert ob.stored_answers(log, world.worker.time_zone) == answers


def found_in(profile: Path, word: str) -> list[str]:
    """Files of the browser profile holding `word`, as `grep -rla` finds them."""
    done = subprocess.run(
        ["grep", "-rla", word, str(profile)], capture_output=True, text=True, check=False
    )
    return done.stdout.split()


@asynccontextmanager
async def phone(profile: Path, base_url: str) -> AsyncIterator[tuple[BrowserContext, Page]]:
    """One run of the browser on a profile kept on disk, as a real phone's."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=browser_support.CHROMIUM,
            args=browser_support.ARGS,
            headless=True,
            base_url=base_url,
        )
        try:
            yield context, context.pages[0] if context.pages else await context.new_page()
        finally:
            await context.close()


async def test_a_shared_phone_keeps_entries_sealed_and_apart(
    live_server: LiveServer, app: Starlette, tmp_path: Path
) -> None:
    full_name = f"Quillon Marvelstone {secrets.token_hex(3)}"
    canary = f"ZEBRA{secrets.token_hex(6)}"
    world = await ob.caseload(size=1, full_name=full_name)
    participant = world.participants[0]
    profile = tmp_path / "profile"

    async with phone(profile, live_server.url) as (context, page):
        await ob.sign_in(context, live_server.url, world.worker)
        await ob.install(page)
        await page.goto(f"/participants/{participant.id}")  # may show the name
        await page.goto("/")
        await ob.ready(page)
        await context.set_offline(True)
        await page.reload()
        await ob.ready(page, synced=False)
        await ob.log_offline(page, participant.code, "family", ob.answers(1, "family", canary))
        assert await ob.outbox_states(page, count=1) == ["waiting"]
    assert found_in(profile, canary) == []

    async with phone(profile, live_server.url) as (context, page):
        # Back online, but the push is held back: the entry stays unsent.
        await context.route("**/api/sync/push", lambda route: route.abort())
        await page.goto("/")
        await ob.ready(page, synced=False)
        dialogs: list[str] = []

        async def accept(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            await dialog.accept()

        page.on("dialog", accept)
        async with page.expect_navigation():
            await page.locator("form[action='/signout'] button").click()
        assert dialogs and dialogs[0].startswith("Entries not sent yet: 1.")
    assert found_in(profile, canary) == []
    assert found_in(profile, full_name) == []
    # (The pseudonymous code stays on disk: in the entry's summary, and in
    # IndexedDB's files after the caseload was deleted. Codes are made for that.)

    other = await ob.caseload(size=1)
    async with phone(profile, live_server.url) as (context, page):
        await ob.sign_in(context, live_server.url, other.worker)
        await page.goto("/")
        await ob.ready(page)
        await page.locator("[data-outbox-empty]").wait_for()
        assert await page.locator("[data-entry]").count() == 0
        assert await SessionLog.all().count() == 0  # not sent under someone else's name

        await context.clear_cookies()
        await ob.sign_in(context, live_server.url, world.worker)
        await page.goto("/")
        await ob.ready(page)
        await page.locator("[data-outbox-empty]").wait_for()
    logs = await SessionLog.all()
    assert [(log.notes, log.author_id) for log in logs] == [(canary, world.worker.id)]


async def test_the_server_form_saves_through_the_outbox_under_its_own_id(
    page: Page, live_server: LiveServer
) -> None:
    world = await ob.caseload(size=1)
    participant = world.participants[0]
    await ob.sign_in(page.context, live_server.url, world.worker)
    await page.goto(f"/log/{participant.id}/education")
    await ob.ready(page)
    await page.wait_for_function("() => document.querySelector('form[data-form]').dataset.outbox")
    action = await page.locator("form[data-form]").get_attribute("action") or ""
    log_id = action.split("log=")[1].split("&")[0]
    answers = ob.answers(3, "education", notes="typed on the server's form")
    await ob.fill(page, ob.order(answers))
    async with page.expect_response(lambda r: "/api/sync/push" in r.url) as pushed:
        await page.locator("form[data-form] button[type=submit]").click()
    # Chromium may drop the answer's body once the page has used it: the
    # status and the database say what was stored.
    assert (await pushed.value).status == 200
    await page.locator("[data-notice=saved]").wait_for()
    assert await page.locator("#f-notes").input_value() == ""  # nothing typed lingers
    log = await SessionLog.get(id=log_id)
    assert ob.stored_answers(log, world.worker.time_zone) == answers
    assert page.url.endswith(f"/log/{participant.id}/education")  # no navigation
