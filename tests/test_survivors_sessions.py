"""Session logs at the service level (server/sessions/services.py and
batch.py): what is stored, refused, kept as a conflict, corrected and
reviewed, and what the trail says. Written against the mutants that
survived tests/test_sessions.py and tests/test_sync_batch.py; every
expected value is written out by hand.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import Actor, Event
from server.enums import AppointmentStatus, Attendance, Pillar, Role
from server.errors import Conflict as ConflictError
from server.errors import Invalid, NotFound
from server.forms import get_form
from server.forms.validator import Result, validate
from server.participants.models import Participant
from server.sessions import batch, services
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from tests.support import world

pytestmark = pytest.mark.usefixtures("orm")

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = "2026-03-01"
FROM = Actor(None, None, "10.0.0.9", "Pixel 7")


def answers(participant: Participant, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "participant": str(participant.id),
        "occurred_on": DAY,
        "occurred_time": "09:15",
        "attendance": "attended",
        "duration_minutes": 60,
        "place": "Office",
        "engagement": 3,
        "notes": "Brother came too.",
        "follow_up": "yes",
        "follow_up_details": "Visit in a week.",
        "family_present": ["mother"],
        "setting": "office",
        "family_readiness": 4,
        "family_concerns": ["none"],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def filled(participant: Participant, **overrides: Any) -> Result:
    result = validate(get_form("family", 1), answers(participant, **overrides), now=NOW)
    assert result.ok, result.errors
    return result


MISSED = {
    "attendance": "missed",
    "attendance_reason": "Ill",
    "duration_minutes": None,
    "place": None,
    "engagement": None,
    "notes": None,
    "follow_up": "no",
    "follow_up_details": None,
    "family_present": None,
    "setting": None,
    "family_readiness": None,
    "family_concerns": None,
}


async def caseload() -> tuple[User, User, Participant]:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    return officer, worker, participant


async def log(author: User, result: Result, log_id: uuid.UUID | None = None, **kw: Any) -> Any:
    return await services.record_log(
        author=author,
        log_id=log_id or uuid.uuid4(),
        result=result,
        appointment_id=kw.pop("appointment_id", None),
        now=kw.pop("now", NOW),
        actor=kw.pop("actor", FROM),
    )


async def events(action: str) -> list[AuditEvent]:
    return await AuditEvent.filter(action=action).order_by("id")


def test_the_content_hash_is_of_canonical_json() -> None:
    digest = services.content_hash(
        pillar="family", form_version=2, values={"b": "é", "a": [1, 2]}, appointment_id="x"
    )
    canonical = (
        '{"appointment":"x","form_version":2,"pillar":"family","values":{"a":[1,2],"b":"é"}}'
    )
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    none = services.content_hash(pillar="p", form_version=1, values={}, appointment_id=None)
    canonical = '{"appointment":null,"form_version":1,"pillar":"p","values":{}}'
    assert none == hashlib.sha256(canonical.encode()).hexdigest()


async def test_a_new_log_is_stored_in_its_columns_and_audited() -> None:
    _, worker, participant = await caseload()
    log_id = uuid.uuid4()
    recorded = await log(worker, filled(participant), log_id)
    assert recorded.outcome is services.Outcome.STORED
    row = await SessionLog.get(id=log_id)
    assert recorded.log.id == log_id
    assert (row.participant_id, row.author_id, row.pillar, row.form_version) == (
        participant.id,
        worker.id,
        Pillar.FAMILY,
        1,
    )
    assert row.occurred_at == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    assert (row.attendance, row.duration_minutes, row.place, row.engagement) == (
        Attendance.ATTENDED,
        60,
        "Office",
        3,
    )
    assert (row.notes, row.follow_up, row.appointment_id) == ("Brother came too.", True, None)
    assert row.answers == {
        "family_present": ["mother"],
        "setting": "office",
        "family_readiness": 4,
        "family_concerns": ["none"],
        "follow_up_details": "Visit in a week.",
        "facilitator": None,
        "next_steps": None,
    }
    canonical = (
        '{"appointment":null,"form_version":1,"pillar":"family","values":{'
        '"attendance":"attended","duration_minutes":60,"engagement":3,'
        '"facilitator":null,"family_concerns":["none"],"family_present":["mother"],'
        '"family_readiness":4,"follow_up":true,"follow_up_details":"Visit in a week.",'
        '"next_steps":null,"notes":"Brother came too.","occurred_on":"2026-03-01",'
        '"occurred_time":"09:15","participant":"' + str(participant.id) + '",'
        '"place":"Office","setting":"office"}}'
    )
    assert row.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert row.seq >= 1
    [event] = await events("session_log.stored")
    assert (event.object_type, event.object_id) == ("session_log", str(log_id))
    assert event.detail == {"pillar": "family", "participant": str(participant.id)}
    assert (event.ip, event.device) == ("10.0.0.9", "Pixel 7")


async def test_a_missed_session_stores_empty_columns() -> None:
    _, worker, participant = await caseload()
    recorded = await log(worker, filled(participant, **MISSED))
    row = await SessionLog.get(id=recorded.log.id)
    assert (row.attendance, row.duration_minutes, row.place) == (Attendance.MISSED, 0, "")
    assert (row.engagement, row.notes, row.follow_up) == (None, "", False)
    assert row.answers == {"attendance_reason": "Ill", "facilitator": None}


async def test_the_same_log_again_is_already_stored_and_other_content_a_conflict() -> None:
    _, worker, participant = await caseload()
    log_id = uuid.uuid4()
    first = await log(worker, filled(participant), log_id)
    again = await log(worker, filled(participant), log_id)
    assert again.outcome is services.Outcome.ALREADY_STORED
    assert again.log.id == log_id
    later = NOW + timedelta(hours=1)
    changed = filled(participant, notes="Mother only.")
    conflict = await log(worker, changed, log_id, now=later)
    assert conflict.outcome is services.Outcome.CONFLICT
    assert conflict.log.id == log_id
    assert (await SessionLog.get(id=log_id)).notes == "Brother came too."  # never overwritten
    kept = await Conflict.get(record_id=log_id)
    assert (kept.record_type, kept.organisation_id, kept.author_id) == (
        "session_log",
        participant.organisation_id,
        worker.id,
    )
    assert kept.payload == {
        "pillar": "family",
        "form_version": 1,
        "values": changed.as_json(),
        "appointment": None,
    }
    assert kept.payload["values"]["notes"] == "Mother only."
    assert kept.content_hash == services.content_hash(
        pillar="family", form_version=1, values=changed.as_json(), appointment_id=None
    )
    assert kept.content_hash != first.log.content_hash
    assert kept.received_at == later
    assert kept.seq > first.log.seq
    assert [e.object_id for e in await events("session_log.already_stored")] == [str(log_id)]
    [event] = await events("session_log.conflict")
    assert event.detail == {"pillar": "family", "participant": str(participant.id)}


async def test_another_authors_id_is_refused() -> None:
    _, worker, participant = await caseload()
    colleague = await world.user(await participant.organisation, Role.WORKER)
    await participant.workers.add(colleague)
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id)
    with pytest.raises(services.NotAuthor) as refused:
        await log(colleague, filled(participant), log_id)
    assert refused.value.code == "not_author"
    assert refused.value.message == (
        "This entry was saved by another person and cannot be sent from your account."
    )
    assert await Conflict.all().count() == 0


@pytest.mark.parametrize("role", [Role.FAMILY, Role.ADMIN])
async def test_families_and_admins_never_log(role: Role) -> None:
    _, _, participant = await caseload()
    someone = await world.user(await participant.organisation, role)
    log_id = uuid.uuid4()
    with pytest.raises(NotFound):
        await log(someone, filled(participant), log_id)
    [event] = await events("access.denied")
    assert (event.object_type, event.object_id) == ("session_log", str(log_id))
    assert await SessionLog.all().count() == 0


async def test_an_invalid_result_or_withdrawn_consent_stores_nothing() -> None:
    _, worker, participant = await caseload()
    invalid = validate(get_form("family", 1), answers(participant, place=None), now=NOW)
    assert not invalid.ok
    with pytest.raises(Invalid):
        await log(worker, invalid)
    await Participant.filter(id=participant.id).update(consent_given=False)
    with pytest.raises(services.NoConsent) as refused:
        await log(worker, filled(participant))
    assert refused.value.code == "no_consent"
    assert refused.value.message == (
        "This participant has withdrawn consent: no new session can be logged for them."
    )
    assert await SessionLog.all().count() == 0
    assert await AuditEvent.filter(action__startswith="session_log").count() == 0


async def appointment(participant: Participant, worker: User, officer: User) -> Appointment:
    return await Appointment.create(
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW - timedelta(days=1) + timedelta(hours=1),
        with_user=worker,
        created_by=officer,
    )


async def test_a_log_for_an_appointment_marks_it_done() -> None:
    officer, worker, participant = await caseload()
    meeting = await appointment(participant, worker, officer)
    log_id = uuid.uuid4()
    result = filled(participant)
    await log(worker, result, log_id, appointment_id=meeting.id)
    row = await SessionLog.get(id=log_id)
    assert row.appointment_id == meeting.id
    assert row.content_hash == services.content_hash(
        pillar="family", form_version=1, values=result.as_json(), appointment_id=str(meeting.id)
    )
    done = await Appointment.get(id=meeting.id)
    assert done.status is AppointmentStatus.DONE
    assert done.seq == row.seq - 1  # numbered in the same transaction, just before
    # A changed version for the same appointment is kept with it.
    await log(worker, filled(participant, notes="x"), log_id, appointment_id=meeting.id)
    kept = await Conflict.get(record_id=log_id)
    assert kept.payload["appointment"] == str(meeting.id)


async def test_an_appointment_out_of_reach_refuses_the_whole_log() -> None:
    officer, worker, participant = await caseload()
    other = await world.participant(await participant.organisation, officer)
    elsewhere = await appointment(other, worker, officer)
    log_id = uuid.uuid4()
    with pytest.raises(NotFound):
        await log(worker, filled(participant), log_id, appointment_id=elsewhere.id)
    assert await SessionLog.all().count() == 0
    assert (await Appointment.get(id=elsewhere.id)).status is AppointmentStatus.SCHEDULED
    [event] = await events("access.denied")
    assert (event.object_type, event.object_id) == ("appointment", str(elsewhere.id))
    assert event.object_organisation_id == participant.organisation_id


async def test_a_log_stored_by_another_server_meanwhile_is_answered_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, worker, participant = await caseload()
    log_id = uuid.uuid4()
    real = services._store_once
    calls: list[uuid.UUID] = []

    async def raced(*args: Any) -> Any:
        calls.append(args[1])
        if len(calls) == 1:
            await real(*args)  # the other server's insert, committed first
            raise IntegrityError("duplicate key")
        return await real(*args)

    monkeypatch.setattr(services, "_store_once", raced)
    recorded = await log(worker, filled(participant), log_id)
    assert calls == [log_id, log_id]
    assert recorded.outcome is services.Outcome.ALREADY_STORED


async def test_reading_and_correcting_are_for_the_right_people() -> None:
    officer, worker, participant = await caseload()
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id)
    seen = await services.visible_log(user=officer, log_id=str(log_id), actor=FROM)
    assert seen.id == log_id
    [read] = await events("session_log.read")
    assert (read.object_type, read.object_id) == ("session_log", str(log_id))
    assert (await services.editable_log(user=worker, log_id=log_id, actor=FROM)).id == log_id
    with pytest.raises(NotFound):
        await services.editable_log(user=officer, log_id=log_id, actor=FROM)
    denied = (await events("access.denied"))[-1]
    assert (denied.object_type, denied.object_id) == ("session_log", str(log_id))
    row = await SessionLog.get(id=log_id)
    with pytest.raises(NotFound):
        await services.correct_log(
            editor=officer, log=row, result=filled(participant), now=NOW, actor=FROM
        )
    assert [e.object_id for e in await events("access.denied")] == [str(log_id)] * 2


async def test_a_correction_keeps_the_old_version() -> None:
    _, worker, participant = await caseload()
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id)
    row = await SessionLog.get(id=log_id)
    later = NOW + timedelta(hours=2)
    fixed = filled(participant, notes="Father came too.", duration_minutes=45, place="Home")
    corrected = await services.correct_log(
        editor=worker, log=row, result=fixed, now=later, actor=FROM
    )
    assert (corrected.revision, corrected.notes, corrected.duration_minutes) == (
        2,
        "Father came too.",
        45,
    )
    assert (corrected.place, corrected.participant_id, corrected.updated_at) == (
        "Home",
        participant.id,
        later,
    )
    assert corrected.seq > row.seq
    assert corrected.content_hash == services.content_hash(
        pillar="family", form_version=1, values=fixed.as_json(), appointment_id=None
    )
    [old] = await SessionLogRevision.filter(session_log_id=log_id)
    assert (old.revision, old.edited_by_id) == (1, worker.id)
    assert old.snapshot == {
        "form_version": 1,
        "occurred_at": "2026-03-01T09:15:00+00:00",
        "attendance": "attended",
        "duration_minutes": 60,
        "place": "Office",
        "engagement": 3,
        "notes": "Brother came too.",
        "follow_up": True,
        "answers": {
            "family_present": ["mother"],
            "setting": "office",
            "family_readiness": 4,
            "family_concerns": ["none"],
            "follow_up_details": "Visit in a week.",
            "facilitator": None,
            "next_steps": None,
        },
    }
    [event] = await events("session_log.corrected")
    assert (event.object_type, event.object_id, event.detail) == (
        "session_log",
        str(log_id),
        {"revision": 2},
    )
    invalid = validate(get_form("family", 1), answers(participant, place=None), now=NOW)
    with pytest.raises(Invalid):
        await services.correct_log(
            editor=worker, log=corrected, result=invalid, now=NOW, actor=FROM
        )


async def test_a_reviewed_log_is_closed_and_the_review_is_kept() -> None:
    officer, worker, participant = await caseload()
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id)
    with pytest.raises(Invalid) as refused:
        await services.review_log(
            officer=officer, log_id=log_id, comment="c" * 2001, now=NOW, actor=FROM
        )
    assert refused.value.message == "Please keep the comment under 2,000 characters."
    before = await SessionLog.get(id=log_id)
    reviewed = await services.review_log(
        officer=officer, log_id=log_id, comment=" " + "c" * 1999, now=NOW, actor=FROM
    )
    assert (reviewed.reviewed_at, reviewed.reviewed_by_id) == (NOW, officer.id)
    assert reviewed.review_comment == "c" * 1999
    assert reviewed.seq > before.seq
    [event] = await events("session_log.reviewed")
    assert (event.object_type, event.object_id) == ("session_log", str(log_id))
    with pytest.raises(ConflictError) as closed:
        await services.correct_log(
            editor=worker, log=reviewed, result=filled(participant), now=NOW, actor=FROM
        )
    assert closed.value.message == (
        "This session log was already reviewed and can no longer be changed."
    )


async def test_the_review_queue_is_the_officers_unreviewed_logs_oldest_first() -> None:
    officer, worker, participant = await caseload()
    org = await participant.organisation
    colleague = await world.user(org, Role.OFFICER)
    theirs = await world.participant(org, colleague)
    await theirs.workers.add(worker)
    newest = await log(worker, filled(participant, occurred_on="2026-03-01"))
    oldest = await log(worker, filled(participant, occurred_on="2026-02-27"))
    middle = await log(worker, filled(participant, occurred_on="2026-02-28"))
    done = await log(worker, filled(participant, occurred_on="2026-02-20"))
    await log(worker, filled(theirs))
    await services.review_log(officer=officer, log_id=done.log.id, comment="", now=NOW, actor=FROM)
    queue = await services.review_queue(officer=officer)
    assert [q.id for q in queue] == [oldest.log.id, middle.log.id, newest.log.id]
    assert queue[0].participant.full_name == "Test Participant"
    assert queue[0].author.name == "Brenda Achieng"
    two = await services.review_queue(officer=officer, limit=2)
    assert [q.id for q in two] == [oldest.log.id, middle.log.id]


# --- batches -----------------------------------------------------------------


def new(result: Result, **kw: Any) -> batch.NewLog:
    return batch.NewLog(uuid.uuid4(), result, **kw)


async def test_a_batch_of_new_logs_is_stored_with_consecutive_numbers() -> None:
    _, worker, participant = await caseload()
    logs = [new(filled(participant, notes=f"n{i}")) for i in range(3)]
    answers_ = await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM)
    assert [(a.outcome, a.log.id) for a in answers_] == [  # type: ignore[union-attr]
        (services.Outcome.STORED, item.log_id) for item in logs
    ]
    rows = await SessionLog.filter(author=worker).order_by("seq")
    assert [r.id for r in rows] == [item.log_id for item in logs]
    assert [r.seq - rows[0].seq for r in rows] == [0, 1, 2]
    assert [r.notes for r in rows] == ["n0", "n1", "n2"]
    assert rows[0].content_hash == services.content_hash(
        pillar="family", form_version=1, values=logs[0].result.as_json(), appointment_id=None
    )
    assert (rows[0].appointment_id, rows[0].pillar, rows[0].form_version) == (
        None,
        Pillar.FAMILY,
        1,
    )
    stored = await events("session_log.stored")
    assert [e.object_id for e in stored] == [str(item.log_id) for item in logs]
    assert {e.object_type for e in stored} == {"session_log"}
    assert stored[0].detail == {"pillar": "family", "participant": str(participant.id)}
    assert (stored[0].ip, stored[0].device) == ("10.0.0.9", "Pixel 7")
    # The same batch again: every one already stored, nothing new numbered.
    again = await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM)
    assert [a.outcome for a in again] == [services.Outcome.ALREADY_STORED] * 3  # type: ignore[union-attr]
    assert await SessionLog.all().count() == 3


async def test_a_batch_answers_each_refusal_in_place() -> None:
    officer, worker, participant = await caseload()
    stranger = await world.participant(await participant.organisation, officer)
    withdrawn = await world.participant(
        await participant.organisation, officer, consent_given=False
    )
    await withdrawn.workers.add(worker)
    invalid = validate(get_form("family", 1), answers(participant, place=None), now=NOW)
    first = new(filled(participant))
    logs = [
        first,
        new(filled(stranger)),
        new(filled(withdrawn)),
        new(invalid),
        batch.NewLog(first.log_id, filled(participant)),
    ]
    got = await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM)
    assert isinstance(got[0], services.Recorded) and got[0].outcome is services.Outcome.STORED
    assert isinstance(got[1], NotFound)
    assert isinstance(got[2], services.NoConsent)
    assert isinstance(got[3], Invalid)
    assert isinstance(got[4], services.Recorded)
    assert got[4].outcome is services.Outcome.ALREADY_STORED


async def test_a_family_members_batch_is_refused_log_by_log() -> None:
    _, _, participant = await caseload()
    relative = await world.user(await participant.organisation, Role.FAMILY)
    logs = [new(filled(participant)), new(filled(participant))]
    got = await batch.record_logs(author=relative, logs=logs, now=NOW, actor=FROM)
    assert [type(a) for a in got] == [NotFound, NotFound]
    assert [e.object_id for e in await events("access.denied")] == [
        str(item.log_id) for item in logs
    ]
    assert await batch.record_logs(author=relative, logs=[], now=NOW, actor=FROM) == []


async def test_a_logs_appointment_takes_the_one_record_path() -> None:
    officer, worker, participant = await caseload()
    meeting = await appointment(participant, worker, officer)
    logs = [new(filled(participant), appointment_id=meeting.id), new(filled(participant))]
    got = await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM)
    assert [a.outcome for a in got] == [services.Outcome.STORED] * 2  # type: ignore[union-attr]
    assert (await Appointment.get(id=meeting.id)).status is AppointmentStatus.DONE
    assert (await SessionLog.get(id=logs[0].log_id)).appointment_id == meeting.id


class Dropped(Exception):
    """The database went away: nobody's record is at fault."""


def test_a_record_fault_is_told_from_an_outage() -> None:
    class Driver(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            super().__init__("driver")
            self.sqlstate = sqlstate

    assert batch.record_fault(ValueError("bad date"))
    assert batch.record_fault(OverflowError())
    assert batch.record_fault(KeyError("k"))
    assert batch.record_fault(TypeError())
    assert batch.record_fault(Driver("22001"))  # string data right truncation
    assert not batch.record_fault(Driver("23505"))  # unique violation
    assert not batch.record_fault(Driver(None))
    assert not batch.record_fault(Driver("08006"))  # connection failure
    assert not batch.record_fault(Dropped())
    wrapped = Dropped("wrapped")
    wrapped.__cause__ = Driver("22P02")
    assert batch.record_fault(wrapped)
    while_handling = Dropped("outage")
    while_handling.__context__ = ValueError("earlier")
    assert not batch.record_fault(while_handling)


async def test_a_faulty_record_fails_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, worker, participant = await caseload()
    logs = [new(filled(participant)), new(filled(participant, notes="bad"))]

    async def refuse_batch(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a value the database cannot take")

    monkeypatch.setattr(SessionLog, "bulk_create", refuse_batch)
    real = services.record_log

    async def one(**kwargs: Any) -> Any:
        if kwargs["result"].clean.get("notes") == "bad":
            raise OverflowError("out of range")
        return await real(**kwargs)

    monkeypatch.setattr(batch, "record_log", one)
    got = await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM)
    assert isinstance(got[0], services.Recorded) and got[0].outcome is services.Outcome.STORED
    assert isinstance(got[1], batch.RecordFault)
    assert (got[1].status, got[1].code) == (422, "malformed")
    assert [r.id for r in await SessionLog.all()] == [logs[0].log_id]
    warnings = [r for r in caplog.records if r.name == "server.sessions.batch"]
    assert [w.getMessage() for w in warnings] == [
        "batch insert failed on a record; storing one by one",
        "sync log refused: it could not be stored",
    ]
    assert warnings[1].exc_info is not None and warnings[1].exc_info[0] is OverflowError


async def test_an_outage_is_never_a_records_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    _, worker, participant = await caseload()

    async def outage(*args: Any, **kwargs: Any) -> Any:
        raise Dropped("connection lost")

    monkeypatch.setattr(SessionLog, "bulk_create", outage)
    with pytest.raises(Dropped):
        await batch.record_logs(author=worker, logs=[new(filled(participant))], now=NOW, actor=FROM)
    monkeypatch.undo()

    async def down(**kwargs: Any) -> Any:
        raise Dropped("connection lost")

    monkeypatch.setattr(batch, "record_log", down)
    with pytest.raises(Dropped):
        await batch.record_logs(
            author=worker,
            logs=[new(filled(participant), appointment_id=uuid.uuid4())],
            now=NOW,
            actor=FROM,
        )


async def test_a_batch_raced_by_another_server_is_answered_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, worker, participant = await caseload()
    logs = [new(filled(participant)), new(filled(participant))]

    async def raced(author: User, items: list[batch.NewLog], actor: Actor, **kw: Any) -> Any:
        await log(worker, items[1].result, items[1].log_id)  # the other server
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(batch, "_store_new", raced)
    got = await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM)
    assert [a.outcome for a in got] == [  # type: ignore[union-attr]
        services.Outcome.STORED,
        services.Outcome.ALREADY_STORED,
    ]


async def test_a_refused_correction_or_review_is_audited_as_a_session_log() -> None:
    officer, worker, participant = await caseload()
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id)
    row = await SessionLog.get(id=log_id)
    with pytest.raises(NotFound):
        await services.correct_log(
            editor=officer, log=row, result=filled(participant), now=NOW, actor=FROM
        )
    with pytest.raises(NotFound):
        await services.review_log(officer=worker, log_id=log_id, comment="", now=NOW, actor=FROM)
    denied = await events("access.denied")
    assert [(e.object_type, e.object_id, e.ip) for e in denied] == [
        ("session_log", str(log_id), "10.0.0.9"),
        ("session_log", str(log_id), "10.0.0.9"),
    ]


async def test_a_correction_keeps_the_appointment_in_the_hash_and_takes_the_forms_version() -> None:
    officer, worker, participant = await caseload()
    meeting = await appointment(participant, worker, officer)
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id, appointment_id=meeting.id)
    # Stored under an older version of the form: the correction is made
    # with version 1 and says so.
    await SessionLog.filter(id=log_id).update(form_version=0)
    row = await SessionLog.get(id=log_id)
    fixed = filled(participant, notes="Corrected.")
    corrected = await services.correct_log(
        editor=worker, log=row, result=fixed, now=NOW, actor=FROM
    )
    assert corrected.form_version == 1
    assert corrected.appointment_id == meeting.id
    assert corrected.content_hash == services.content_hash(
        pillar="family", form_version=1, values=fixed.as_json(), appointment_id=str(meeting.id)
    )
    [old] = await SessionLogRevision.filter(session_log_id=log_id)
    assert old.snapshot["form_version"] == 0


async def test_the_review_queue_holds_fifty_by_default() -> None:
    officer, worker, participant = await caseload()
    first = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    for day in range(51):
        await SessionLog.create(
            id=uuid.UUID(int=day + 1),
            participant=participant,
            pillar=Pillar.FAMILY,
            form_version=1,
            occurred_at=first + timedelta(days=day),
            duration_minutes=30,
            author=worker,
            attendance=Attendance.ATTENDED,
            content_hash="h",
        )
    queue = await services.review_queue(officer=officer)
    assert len(queue) == 50
    assert (queue[0].id, queue[-1].id) == (uuid.UUID(int=1), uuid.UUID(int=50))


def one_by_one_only_for(monkeypatch: pytest.MonkeyPatch, allowed: set[uuid.UUID]) -> list[Any]:
    """Spy on the one-record path: new logs of a batch must never take it
    (the batch path's own failures would otherwise hide behind it)."""
    taken: list[Any] = []
    real = services.record_log

    async def spy(**kwargs: Any) -> Any:
        taken.append(kwargs["log_id"])
        assert kwargs["log_id"] in allowed, "a new log took the one-by-one path"
        return await real(**kwargs)

    monkeypatch.setattr(batch, "record_log", spy)
    return taken


async def test_new_logs_take_the_batch_path_and_known_ones_the_careful_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, worker, participant = await caseload()
    known = new(filled(participant, notes="first"))
    await log(worker, known.result, known.log_id)
    fresh = [new(filled(participant, notes=f"n{i}")) for i in range(2)]
    taken = one_by_one_only_for(monkeypatch, {known.log_id})
    got = await batch.record_logs(
        author=worker, logs=[fresh[0], known, fresh[1]], now=NOW, actor=FROM
    )
    assert taken == [known.log_id]
    assert [a.outcome for a in got] == [  # type: ignore[union-attr]
        services.Outcome.STORED,
        services.Outcome.ALREADY_STORED,
        services.Outcome.STORED,
    ]
    rows = {r.id: r for r in await SessionLog.filter(id__in=[f.log_id for f in fresh])}
    assert {r.author_id for r in rows.values()} == {worker.id}
    assert [rows[f.log_id].notes for f in fresh] == ["n0", "n1"]
    assert not [r for r in caplog.records if r.name == "server.sessions.batch"]


async def test_a_batch_summary_is_written_with_the_logs_only_when_it_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, worker, participant = await caseload()

    def summary(possible: bool = True) -> batch.Summary:
        event = Event(action="sync.push", object_type="batch", detail={"stored": 2})
        return batch.Summary(event, possible=possible)

    whole = summary()
    logs = [new(filled(participant)), new(filled(participant))]
    one_by_one_only_for(monkeypatch, set())
    await batch.record_logs(author=worker, logs=logs, now=NOW, actor=FROM, summary=whole)
    assert whole.written
    trail = await AuditEvent.all().order_by("id")
    assert [(e.action, e.object_id) for e in trail] == [
        ("session_log.stored", str(logs[0].log_id)),
        ("session_log.stored", str(logs[1].log_id)),
        ("sync.push", ""),
    ]
    assert (trail[-1].object_type, trail[-1].detail) == ("batch", {"stored": 2})
    monkeypatch.undo()
    # Not possible (the caller expects other answers), a log already known,
    # or a log refused: the summary is left to the caller.
    unsure = summary(possible=False)
    await batch.record_logs(
        author=worker, logs=[new(filled(participant))], now=NOW, actor=FROM, summary=unsure
    )
    again = summary()
    await batch.record_logs(
        author=worker, logs=[logs[0], new(filled(participant))], now=NOW, actor=FROM, summary=again
    )
    stranger = await world.participant(await participant.organisation)
    refused = summary()
    await batch.record_logs(
        author=worker,
        logs=[new(filled(participant)), new(filled(stranger))],
        now=NOW,
        actor=FROM,
        summary=refused,
    )
    assert (unsure.written, again.written, refused.written) == (False, False, False)
    assert await AuditEvent.filter(action="sync.push").count() == 1
    await batch.record_logs(author=worker, logs=[], now=NOW, actor=FROM, summary=summary())
    assert await AuditEvent.filter(action="sync.push").count() == 1


async def test_a_failed_batch_insert_is_logged_with_its_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, worker, participant = await caseload()

    async def refuse_batch(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a value the database cannot take")

    monkeypatch.setattr(SessionLog, "bulk_create", refuse_batch)
    got = await batch.record_logs(
        author=worker, logs=[new(filled(participant))], now=NOW, actor=FROM
    )
    assert isinstance(got[0], services.Recorded)
    [warning] = [r for r in caplog.records if r.name == "server.sessions.batch"]
    assert warning.getMessage() == "batch insert failed on a record; storing one by one"
    assert warning.exc_info is not None and warning.exc_info[0] is ValueError


async def test_a_fulfilled_appointment_takes_a_change_number() -> None:
    officer, worker, participant = await caseload()
    for _ in range(3):  # numbers already handed out
        await log(worker, filled(participant))
    meeting = await appointment(participant, worker, officer)
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id, appointment_id=meeting.id)
    row = await SessionLog.get(id=log_id)
    assert (await Appointment.get(id=meeting.id)).seq == row.seq - 1 == 4


async def test_reading_a_log_out_of_reach_is_refused_and_audited() -> None:
    _, worker, participant = await caseload()
    log_id = uuid.uuid4()
    await log(worker, filled(participant), log_id)
    colleague = await world.user(await participant.organisation, Role.WORKER)
    with pytest.raises(NotFound):
        await services.visible_log(user=colleague, log_id=log_id, actor=FROM)
    [event] = await events("access.denied")
    assert (event.object_type, event.object_id, event.ip) == (
        "session_log",
        str(log_id),
        "10.0.0.9",
    )
    assert await AuditEvent.filter(action="session_log.read").count() == 0


async def test_a_raced_log_for_an_appointment_keeps_the_appointment_in_its_conflict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    officer, worker, participant = await caseload()
    meeting = await appointment(participant, worker, officer)
    log_id = uuid.uuid4()
    real = services._store_once
    elsewhere = filled(participant, notes="Sent from the other server.")
    calls: list[Any] = []

    async def raced(*args: Any) -> Any:
        calls.append(args[4])  # the appointment asked for
        if len(calls) == 1:
            # Another server stored another version under this id first.
            digest = services.content_hash(
                pillar="family", form_version=1, values=elsewhere.as_json(), appointment_id=None
            )
            await real(args[0], log_id, elsewhere, digest, None, *args[5:])
            raise IntegrityError("duplicate key")
        return await real(*args)

    monkeypatch.setattr(services, "_store_once", raced)
    recorded = await log(worker, filled(participant), log_id, appointment_id=meeting.id)
    assert recorded.outcome is services.Outcome.CONFLICT
    assert calls == [meeting.id, meeting.id]
    kept = await Conflict.get(record_id=log_id)
    assert kept.payload["appointment"] == str(meeting.id)
