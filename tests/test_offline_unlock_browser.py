"""A worker keeps her phone when the server session ends (issue 13, item 5):
unsent entries stay on screen, her passkey's PRF output unlocks the cached
caseload offline, and nobody else sees it. See docs/offline.md."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from tortoise.transactions import in_transaction

from server.accounts.models import LoginSession, User
from server.appointments.models import Appointment
from server.enums import Pillar, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.sessions.models import SessionLog
from server.sync.sequence import next_seq
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer
from tests.support.passkeys import virtual_authenticator
from tests.test_outbox_browser import found_in, phone

pytestmark = pytest.mark.browser

# Her part of the phone's database: the vault (wrapped key), caseload, appointments.
HELD = """async (owner) => {
  const { run } = await import('/pwa/outbox/db.js');
  return run(['meta', 'participants', 'appointments'], 'readonly', (s) => {
    const vault = s.meta.get(`vault:${owner}`);
    const people = s.participants.index('owner').count(owner);
    const times = s.appointments.index('owner').count(owner);
    return () => [Boolean(vault.result), people.result, times.result];
  });
}"""


async def enrol(page: Page, token: str) -> None:
    await page.goto(f"/enrol/{token}")
    await page.fill("#passkey-name", "my phone")
    await page.locator("[data-passkey=enrol] button[type=submit]").click()
    # A passkey ceremony, then the vault's keys: give a busy machine time.
    await expect(page).to_have_url(re.compile(r"/$"), timeout=20_000)


async def end_session(user: User) -> None:
    """The server forgets her sign-in, as after 30 idle minutes."""
    assert await LoginSession.filter(user_id=user.id).delete() >= 1


async def appointment(
    org: Organisation, participant: Participant, worker: User, place: str
) -> Appointment:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    # Numbered and stored in one transaction, as the appointment service does:
    # a pull never sees the number without the row.
    async with in_transaction() as conn:
        return await Appointment.create(
            seq=await next_seq(conn),
            id=uuid.uuid4(),
            participant=participant,
            pillar=Pillar.FAMILY,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            place=place,
            with_user=worker,
            created_by=worker,
            using_db=conn,
        )


async def signed_out(page: Page) -> None:
    await page.wait_for_function("() => document.documentElement.dataset.sync === 'signed_out'")


async def offline_reopen(page: Page) -> None:
    await page.context.set_offline(True)
    await page.reload()
    await ob.ready(page, synced=False)


async def test_an_ended_session_keeps_unsent_entries_and_hides_the_caseload(
    page: Page, live_server: LiveServer
) -> None:
    # A passkey without PRF: the caseload cannot be kept encrypted, so it is
    # kept only while her server session lasts; her entries are never lost.
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    token = await world.invitation_token(org, Role.WORKER, name="Grace Atim")
    await virtual_authenticator(page)
    await enrol(page, token)
    worker = await User.get(name="Grace Atim")
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    await ob.install(page)
    await offline_reopen(page)
    await ob.log_offline(page, participant.code, "family", ob.answers(1, "family"))
    await ob.log_offline(page, participant.code, "education", ob.answers(2, "education"))

    await end_session(worker)
    await page.context.set_offline(False)
    await signed_out(page)
    count = page.locator("[data-outbox-count]")
    await expect(count).to_have_attribute("data-count", "2")
    await expect(count).to_be_visible()
    await expect(page.locator("[data-notice=signin] a[href='/signin']")).to_have_text(
        "Sign in to send"
    )
    await expect(page.locator("[data-signed-out]")).to_be_visible()
    assert participant.code not in await page.locator("#main").inner_text()
    assert await ob.outbox_size(page) == 2
    assert await page.evaluate(HELD, worker.id) == [False, 0, 0]

    await offline_reopen(page)
    await expect(count).to_have_attribute("data-count", "2")
    await expect(page.locator("[data-signed-out]")).to_be_visible()
    assert participant.code not in await page.locator("#main").inner_text()

    # Online, on the pages for nobody, the count and "Sign in to send" stay.
    await page.context.set_offline(False)
    await page.goto("/signin")
    waiting = page.locator("[data-notice=signin]")
    await expect(waiting).to_have_attribute("data-count", "2")
    await expect(waiting.locator("a[href='/signin']")).to_have_text("Sign in to send")
    await page.locator("button[data-passkey=signin]").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await ob.ready(page)
    await expect(count).to_have_attribute("data-count", "0")
    logs = await SessionLog.all()
    assert [log.author_id for log in logs] == [worker.id, worker.id]


async def test_her_passkey_unlocks_the_caseload_offline_and_nobody_else_can(
    live_server: LiveServer, app: Starlette, tmp_path: Path
) -> None:
    place = f"Kireka{secrets.token_hex(5)}"
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    token = await world.invitation_token(org, Role.WORKER, name="Aisha Nabirye")
    participant = await world.participant(org, officer)
    profile = tmp_path / "profile"

    async with phone(profile, live_server.url) as (context, page):
        cdp, authenticator = await virtual_authenticator(page, prf=True)
        await enrol(page, token)
        worker = await User.get(name="Aisha Nabirye")
        await participant.workers.add(worker)
        await appointment(org, participant, worker, place)
        await ob.install(page)
        assert await page.evaluate(HELD, worker.id) == [True, 1, 1]

        # Offline, the phone opens her caseload only once she proves it is her.
        await offline_reopen(page)
        await expect(page.locator("[data-unlock]")).to_be_visible()
        shown = await page.locator("#main").inner_text()
        assert participant.code not in shown and place not in shown
        await page.locator("[data-unlock]").click()
        await expect(page.locator(f"a[data-code='{participant.code}']")).to_be_visible()
        await expect(page.locator("[data-appointments]")).to_contain_text(place)

        # Her server session ends during the visit; she keeps working.
        await end_session(worker)
        await ob.log_offline(page, participant.code, "family", ob.answers(1, "family"))
        await context.set_offline(False)
        await signed_out(page)
        count = page.locator("[data-outbox-count]")
        await expect(count).to_have_attribute("data-count", "1")
        await expect(page.locator("[data-notice=signin]")).to_be_visible()
        assert await page.evaluate(HELD, worker.id) == [True, 1, 1]

        # The app reopened with no network: locked again (the key is never
        # stored), her passkey opens it again, she logs another session.
        await offline_reopen(page)
        await expect(page.locator("[data-unlock]")).to_be_visible()
        assert participant.code not in await page.locator("#main").inner_text()
        await page.locator("[data-unlock]").click()
        await ob.log_offline(page, participant.code, "education", ob.answers(2, "education"))
        await expect(count).to_have_attribute("data-count", "2")

        # Someone else's passkey does not open it.
        await cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
        await virtual_authenticator(page, prf=True)
        await page.reload()
        await ob.ready(page, synced=False)
        await page.locator("[data-unlock]").click()
        await expect(page.locator("[data-unlock-error]")).to_be_visible()
        await expect(page.locator("[data-caseload]")).to_have_count(0)
        assert participant.code not in await page.locator("#main").inner_text()
    # Never written in clear: not in the browser's files on disk.
    assert found_in(profile, place) == []

    # Another person signs in on this phone: her data goes, her sealed
    # entries stay and are sent later under her own name only.
    other = await ob.caseload(size=1)
    async with phone(profile, live_server.url) as (context, page):
        await ob.sign_in(context, live_server.url, other.worker)
        await page.goto("/")
        await ob.ready(page)
        assert await page.evaluate(HELD, worker.id) == [False, 0, 0]
        assert await ob.outbox_size(page) == 2
        assert await SessionLog.all().count() == 0

        await context.clear_cookies()
        await ob.sign_in(context, live_server.url, worker)
        await page.goto("/")
        await ob.ready(page)
        await expect(page.locator("[data-outbox-count]")).to_have_attribute("data-count", "0")
    logs = await SessionLog.all()
    assert [log.author_id for log in logs] == [worker.id, worker.id]


async def test_a_passkey_that_lost_its_prf_secret_signs_in_online_instead(
    page: Page, live_server: LiveServer
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    token = await world.invitation_token(org, Role.WORKER, name="Ruth Akello")
    cdp, first = await virtual_authenticator(page, prf=True)
    await enrol(page, token)
    worker = await User.get(name="Ruth Akello")
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    await ob.install(page)
    assert await page.evaluate(HELD, worker.id) == [True, 1, 0]

    # The same passkey restored elsewhere keeps its key but not its PRF
    # secret (shared/notes/passkey-prf.md): it signs in, it cannot unlock.
    saved = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": first})
    await cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
    _, second = await virtual_authenticator(page, prf=True)
    for credential in saved["credentials"]:
        await cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": second, "credential": credential}
        )
    await offline_reopen(page)
    await page.locator("[data-unlock]").click()
    await expect(page.locator("[data-unlock-error]")).to_have_text(
        "This passkey cannot unlock the phone. Please sign in with a network."
    )
    await expect(page.locator("[data-caseload]")).to_have_count(0)

    # Online, she signs in with it: the vault it can no longer open goes, and
    # the phone keeps her caseload as for a passkey without PRF.
    await end_session(worker)
    await page.context.set_offline(False)
    await page.goto("/signin")
    await page.locator("button[data-passkey=signin]").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await ob.ready(page)
    assert await page.evaluate(HELD, worker.id) == [False, 1, 0]
    await offline_reopen(page)
    await expect(page.locator(f"a[data-code='{participant.code}']")).to_be_visible()
