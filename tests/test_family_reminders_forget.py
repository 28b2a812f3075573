"""``homeward reminders run`` forgets the reminders of appointments long over.

A row of ``reminder_sent`` is needed only while its appointment may still
bring a reminder (it starts later than now). Rows of appointments that ended
more than ``reminders.KEEP_DAYS`` (7) days ago are deleted, in one statement.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from tortoise import connections

from server.appointments.models import Appointment
from server.enums import Pillar, Role
from server.family import reminders, vapid
from server.family.models import PushSubscription, ReminderSent
from server.settings import Settings
from tests.support import world

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)


async def _ending(participant: Any, officer: Any, ends_at: datetime) -> Appointment:
    return await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.COUNSELLING,
        starts_at=ends_at - timedelta(hours=1),
        ends_at=ends_at,
        created_by=officer,
    )


async def _phone(user: Any, name: str) -> PushSubscription:
    return await PushSubscription.create(
        user=user,
        endpoint_hash=name * 8,
        endpoint=f"https://push.invalid/{name}",
        p256dh="p" * 87,
        auth="a" * 22,
        created_at=NOW - timedelta(days=60),
    )


async def _sent(phone: PushSubscription, appointment: Appointment, kind: str) -> None:
    await ReminderSent.create(
        subscription_id=phone.id,
        appointment_id=appointment.id,
        kind=kind,
        version=1,
        starts_at=appointment.starts_at,
        sent_at=None if kind == "seen" else appointment.starts_at - timedelta(hours=3),
    )


async def _world() -> dict[str, Appointment]:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, name="Aigerim")
    other = await world.user(org, Role.FAMILY, name="Dana")
    await participant.family.add(relative, other)
    first, second = await _phone(relative, "a"), await _phone(other, "b")
    appointments = {
        # Ended 7 days and one minute ago: past the week kept.
        "old": await _ending(participant, officer, NOW - timedelta(days=7, minutes=1)),
        # Ended 6 days and 23 hours ago: still kept.
        "recent": await _ending(participant, officer, NOW - timedelta(days=6, hours=23)),
        # Exactly 7 days ago: kept (more than 7 days, not 7).
        "edge": await _ending(participant, officer, NOW - timedelta(days=7)),
        "coming": await _ending(participant, officer, NOW + timedelta(days=2)),
    }
    for appointment in appointments.values():
        for phone in (first, second):
            await _sent(phone, appointment, "seen")
            await _sent(phone, appointment, "day_before")
    return appointments


async def _left() -> list[tuple[str, int]]:
    rows = await ReminderSent.all().values_list("appointment_id", flat=True)
    return sorted((str(row), rows.count(row)) for row in set(rows))


async def test_rows_of_appointments_over_for_more_than_a_week_go_in_one_statement(
    orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointments = await _world()
    client = connections.get("default")
    sent: list[str] = []
    original = client.execute_query

    async def counted(query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await original(query, *args, **kwargs)

    monkeypatch.setattr(client, "execute_query", counted)
    forgotten = await reminders.forget_past(now=NOW)
    monkeypatch.undo()

    assert forgotten == 4  # two phones × (seen, day_before) of the old one
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("DELETE")
    kept = ("recent", "edge", "coming")
    assert await _left() == sorted((str(appointments[k].id), 4) for k in kept)
    assert await reminders.forget_past(now=NOW) == 0  # nothing more: safe to run again


async def test_the_run_forgets_them_too(app: Starlette, settings: Settings) -> None:
    """No phone is due anything (the appointments are over): the run pushes
    nothing and forgets what is past."""
    appointments = await _world()
    outcome = await reminders.run(
        now=NOW,
        pusher=reminders.Pusher(
            key=vapid.load(settings.data_dir),
            subject="https://localhost",
            catalogues=app.state.catalogues,
        ),
    )
    assert (outcome.sent, outcome.failed, outcome.forgotten) == (0, 0, 4)
    assert str(appointments["old"].id) not in [a for a, _ in await _left()]
    assert len(await _left()) == 3
