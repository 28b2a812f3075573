import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

from server import retention
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import verify
from server.enums import Attendance, Pillar, Role
from server.participants.models import ConsentRecord, Participant
from server.sessions.models import SessionLog
from server.settings import ROOT, Settings
from tests.support import world

TODAY = datetime.now(UTC).date()


async def released(years_ago: int, name: str) -> tuple[Participant, User]:
    org = await world.organisation()
    org.retention_days = 5 * 365
    await org.save()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    participant = await world.participant(
        org,
        officer,
        full_name=name,
        date_of_birth=date(1990, 3, 14),
        release_date=TODAY - timedelta(days=365 * years_ago),
    )
    relative = await world.user(org, Role.FAMILY, name="Relative " + name)
    await participant.family.add(relative)
    for pillar in Pillar:
        await SessionLog.create(
            id=uuid.uuid4(),
            participant=participant,
            pillar=pillar,
            form_version=1,
            occurred_at=datetime.now(UTC) - timedelta(days=400),
            duration_minutes=45,
            author=worker,
            attendance=Attendance.ATTENDED,
            engagement=4,
            notes=f"secret note about {name}",
            place="Her home",
            content_hash="x",
            answers={"facilitator": "Brenda"},
        )
    await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=datetime.now(UTC) - timedelta(days=300),
        ends_at=datetime.now(UTC) - timedelta(days=300) + timedelta(hours=1),
        place="Her home",
        created_by=officer,
        family_message="We will come",
    )
    return participant, relative


async def test_due_participants_are_anonymised_and_indicators_keep(orm: None) -> None:
    old, relative = await released(6, "Old Person")
    recent, _ = await released(1, "Recent Person")
    items = await retention.due(today=TODAY)
    assert [item.participant_id for item in items] == [old.id]
    counts_before = {p.value: await SessionLog.filter(pillar=p).count() for p in Pillar}
    await retention.run(today=TODAY, now=datetime.now(UTC))
    erased = await Participant.get(id=old.id)
    assert erased.full_name == "" and erased.erased_at is not None
    # Kept: the indicators disaggregate by gender and age band.
    assert erased.date_of_birth == date(1990, 3, 14) and erased.gender == old.gender
    logs = await SessionLog.filter(participant_id=old.id)
    assert all(log.notes == "" and log.place == "" for log in logs)
    assert all(log.answers.get("facilitator") == "" for log in logs)
    assert [log.engagement for log in logs] == [4] * 4  # what indicators count stays
    assert {p.value: await SessionLog.filter(pillar=p).count() for p in Pillar} == counts_before
    assert (await Appointment.get(participant_id=old.id)).family_message == ""
    assert not (await User.get(id=relative.id)).is_active
    assert (await Participant.get(id=recent.id)).full_name == "Recent Person"
    events = await AuditEvent.filter(action="retention.anonymised").count()
    assert events == 1 + 4 + 1 + 1  # the participant, each log, the appointment, the relative
    assert "Old Person" not in str([e.detail for e in await AuditEvent.all()])
    assert await verify() is None
    assert await retention.due(today=TODAY) == []  # safe to run again


async def test_consent_withdrawal_starts_the_clock(orm: None) -> None:
    participant, _ = await released(0, "Withdrawn Person")
    participant.consent_given = False
    await participant.save()
    await ConsentRecord.create(
        participant=participant, given=False, on_date=TODAY - timedelta(days=5 * 365 + 1)
    )
    items = await retention.due(today=TODAY)
    assert [(i.participant_id, i.reason) for i in items] == [(participant.id, "consent_withdrawn")]


def dry_run(settings: Settings) -> str:
    env = {
        **os.environ,
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_DATA_DIR": str(settings.data_dir),
        "HOMEWARD_SECRET_KEY": "x",
    }
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "retention", "run", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


async def test_dry_run_changes_nothing(orm: None, settings: Settings) -> None:
    old, _ = await released(6, "Dry Person")
    assert f"would anonymise {old.code}" in dry_run(settings)
    assert (await Participant.get(id=old.id)).full_name == "Dry Person"
