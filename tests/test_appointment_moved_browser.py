"""An appointment the officer gives to another worker leaves the first
worker's phone at its next pull (the pull's `open_appointments`, applied by
pwa/outbox/cache.js), and reaches the colleague's."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page
from tortoise.transactions import in_transaction

from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Role
from server.sync.sequence import next_seq
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer
from tests.test_offline_unlock_browser import appointment

pytestmark = pytest.mark.browser

# The appointments the phone holds for `owner`: their ids.
HELD = """async (owner) => {
  const { byOwner } = await import('/pwa/outbox/db.js');
  return (await byOwner('appointments', owner)).map((a) => a.id).sort();
}"""


async def give_to(appointment_id: uuid.UUID, colleague: User) -> None:
    """What the officer's change of "with whom" writes (appointments.services.move)."""
    async with in_transaction() as conn:
        await (
            Appointment.filter(id=appointment_id)
            .using_db(conn)
            .update(with_user_id=colleague.id, version=2, seq=await next_seq(conn))
        )


async def test_an_appointment_given_to_a_colleague_leaves_the_first_phone(
    page: Page, live_server: LiveServer
) -> None:
    mine = await ob.caseload(size=1)
    participant = mine.participants[0]
    org = await participant.organisation
    colleague = await world.user(org, Role.WORKER)
    await participant.workers.add(colleague)
    moved = await appointment(org, participant, mine.worker, "Kireka")
    kept = await appointment(org, participant, mine.worker, "Ntinda")

    await ob.sign_in(page.context, live_server.url, mine.worker)
    await page.goto("/")
    await ob.ready(page)
    assert await page.evaluate(HELD, mine.worker.id) == sorted([str(moved.id), str(kept.id)])

    await give_to(moved.id, colleague)
    await page.reload()
    await ob.ready(page)
    assert await page.evaluate(HELD, mine.worker.id) == [str(kept.id)]
