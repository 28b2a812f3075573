"""Retention cancels a participant's open appointments as an officer would.

An officer's cancellation raises the appointment's version (the SEQUENCE of
the family's calendar event, the version phones compare) and takes a new
change number (what phones pull). Retention's cancellation must do both, or
a calendar or a phone that saw the appointment keeps it as it was.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from server import retention
from server.appointments import services as appointment_services
from server.appointments.models import Appointment
from server.audit.services import SYSTEM
from server.enums import AppointmentStatus, Pillar, Role
from server.participants.models import ConsentRecord, Participant
from tests.support import world

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


async def _appointment(
    participant: Participant, officer: object, status: AppointmentStatus, version: int, days: int
) -> Appointment:
    start = NOW + timedelta(days=days)
    return await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.COUNSELLING,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place="Her sister's flat",
        created_by=officer,
        status=status,
        version=version,
        seq=0,  # never pulled yet
    )


async def test_retention_cancels_open_appointments_with_a_new_version_and_change_number(
    orm: None,
) -> None:
    org = await world.organisation()
    org.retention_days = 30
    await org.save()
    officer = await world.user(org, Role.OFFICER)
    withdrawn = await world.participant(org, officer, full_name="Amina Withdrawn")
    withdrawn.consent_given = False
    await withdrawn.save()
    await ConsentRecord.create(
        participant=withdrawn, given=False, on_date=TODAY - timedelta(days=31)
    )
    scheduled = await _appointment(withdrawn, officer, AppointmentStatus.SCHEDULED, 1, 3)
    confirmed = await _appointment(withdrawn, officer, AppointmentStatus.CONFIRMED, 3, 9)
    done = await _appointment(withdrawn, officer, AppointmentStatus.DONE, 2, -40)
    cancelled = await _appointment(withdrawn, officer, AppointmentStatus.CANCELLED, 4, 5)

    await retention.run(today=TODAY, now=NOW)

    after = {a.id: a for a in await Appointment.filter(participant_id=withdrawn.id)}
    # Open ones: cancelled, one version further, as an officer's cancellation.
    assert (after[scheduled.id].status, after[scheduled.id].version) == ("cancelled", 2)
    assert (after[confirmed.id].status, after[confirmed.id].version) == ("cancelled", 4)
    # Closed ones keep their status and version: nothing about them changed
    # that a calendar shows (only the erased text, which it no longer gets).
    assert (after[done.id].status, after[done.id].version) == ("done", 2)
    assert (after[cancelled.id].status, after[cancelled.id].version) == ("cancelled", 4)
    # Every one has a change number taken after the ones they had, all the same.
    seqs = {a.seq for a in after.values()}
    assert len(seqs) == 1 and seqs.pop() > 0
    assert all(a.place == "" for a in after.values())


async def test_retention_and_an_officer_cancel_alike(orm: None) -> None:
    """The same open appointment, version 5, cancelled once by an officer and
    once (a twin) by retention: the same status and version afterwards."""
    org = await world.organisation()
    org.retention_days = 30
    await org.save()
    officer = await world.user(org, Role.OFFICER)
    kept = await world.participant(org, officer, full_name="Kept Person")
    erased = await world.participant(
        org, officer, full_name="Erased Person", release_date=TODAY - timedelta(days=31)
    )
    by_officer = await _appointment(kept, officer, AppointmentStatus.CONFIRMED, 5, 2)
    by_retention = await _appointment(erased, officer, AppointmentStatus.CONFIRMED, 5, 2)

    await appointment_services.cancel(appointment=by_officer, actor=SYSTEM)
    await retention.run(today=TODAY, now=NOW)

    officer_side = await Appointment.get(id=by_officer.id)
    retention_side = await Appointment.get(id=by_retention.id)
    assert (officer_side.status, officer_side.version) == ("cancelled", 6)
    assert (retention_side.status, retention_side.version) == ("cancelled", 6)
    assert officer_side.seq > 0 and retention_side.seq > officer_side.seq
