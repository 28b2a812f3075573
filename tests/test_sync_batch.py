"""One push, many kinds of record: the batch path answers each as one by one would.

New logs of a batch are written together (server/sessions/batch.py); the
rest (known ids, appointments, repeated ids, refusals) go record by record.
These tests hold the two paths to one set of answers, in the batch's order.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from starlette.applications import Starlette

from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import verify
from server.enums import AppointmentStatus, Pillar
from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.conftest import BACKEND
from tests.support import world
from tests.support.web import signed_in
from tests.test_sync import Phone, setting, values


async def test_a_mixed_batch_is_answered_record_by_record_in_order(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    stranger = await world.participant(org, officer)
    withdrawn = await world.participant(org, officer, consent_given=False)
    await withdrawn.workers.add(worker)
    starts = datetime.now(UTC) - timedelta(days=1)
    appointment = await Appointment.create(
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        with_user=worker,  # a worker marks done only the appointments they take part in
        created_by=officer,
    )
    pid = str(participant.id)
    ids = [str(uuid.uuid4()) for _ in range(6)]
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        earlier = phone.entry(ids[1], values(pid))
        assert (await phone.push([earlier])).json()["results"][0]["status"] == "stored"
        batch = [
            phone.entry(ids[0], values(pid)),  # new
            earlier,  # the same again
            phone.entry(ids[1], values(pid, notes="other words")),  # same id, other content
            phone.entry(ids[2], values(pid), appointment=str(appointment.id)),
            phone.entry(ids[3], values(str(stranger.id))),  # not in the caseload
            phone.entry(ids[4], values(str(withdrawn.id))),  # consent withdrawn
            phone.entry(ids[0], values(pid)),  # the first one, twice in one batch
            phone.entry(ids[0], values(pid, notes="changed")),  # … and once changed
            phone.entry(ids[5], values(pid)),  # new, after all the others
        ]
        results = (await phone.push(batch)).json()["results"]
    assert [(r["id"], r["status"], r.get("code")) for r in results] == [
        (ids[0], "stored", None),
        (ids[1], "already_stored", None),
        (ids[1], "conflict", None),
        (ids[2], "stored", None),
        (ids[3], "rejected", "not_allowed"),
        (ids[4], "rejected", "no_consent"),
        (ids[0], "already_stored", None),
        (ids[0], "conflict", None),
        (ids[5], "stored", None),
    ]
    stored = await SessionLog.filter(author=worker).order_by("seq")
    assert {str(log.id) for log in stored} == {ids[0], ids[1], ids[2], ids[5]}
    assert len({log.seq for log in stored}) == 4  # one change number each
    assert (await Appointment.get(id=appointment.id)).status is AppointmentStatus.DONE
    assert await Conflict.filter(record_id__in=[ids[0], ids[1]]).count() == 2
    # Every stored log has its audit event, and the chain still adds up.
    audited = await AuditEvent.filter(action="session_log.stored").values_list(
        "object_id", flat=True
    )
    assert sorted(audited) == sorted([ids[0], ids[1], ids[2], ids[5]])
    assert await AuditEvent.filter(action="access.denied", object_id=str(stranger.id)).exists()
    assert await verify() is None


@pytest.mark.skipif(BACKEND != "postgres", reason="another app server needs PostgreSQL")
async def test_a_batch_that_races_another_server_falls_back_to_one_by_one(
    app: Starlette, database_url: str
) -> None:
    # Another server inserts one of the batch's ids after our look-up: the
    # batch's insert fails on the key, rolls back whole, and every record is
    # then answered one by one — nothing lost, nothing doubled.
    _, _, worker, participant = await setting(app)
    pid = str(participant.id)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    other = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        racing = other.transaction()
        await racing.start()
        await other.execute(
            "INSERT INTO session_log (id, participant_id, pillar, form_version, occurred_at,"
            " duration_minutes, place, author_id, attendance, answers, notes, follow_up,"
            " content_hash, revision, review_comment, created_at, updated_at, seq)"
            " VALUES ($1, $2, 'family', 1, now(), 30, '', $3, 'attended', '{}', '', false,"
            " 'elsewhere', 1, '', now(), now(), 0)",
            uuid.UUID(ids[1]),
            participant.id,
            worker.id,
        )
        async with await signed_in(app, worker) as client:
            phone = Phone(client, worker.id)
            await phone.start()
            push = phone.push([phone.entry(i, values(pid)) for i in ids])
            pushing = asyncio.ensure_future(push)
            # Commit only once the batch's insert waits on the racing row's key.
            while not await _waiting_insert(other):
                assert not pushing.done(), pushing.result().text
                await asyncio.sleep(0.01)
            await racing.commit()
            results = (await pushing).json()["results"]
    finally:
        await other.close()
    assert [r["status"] for r in results] == ["stored", "conflict", "stored"]
    assert await SessionLog.filter(id__in=ids).count() == 3
    assert await Conflict.filter(record_id=ids[1]).count() == 1
    assert await verify() is None


async def _waiting_insert(conn: asyncpg.Connection) -> bool:
    # Inside a transaction the activity view is a snapshot: clear it first.
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"session_log\"%'"
    )
    return bool(waiting)
