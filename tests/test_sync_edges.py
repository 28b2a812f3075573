"""Pull at the edges: writers racing a reader, and records that become visible.

The union of a phone's incremental pulls must equal a pull from 0, however
the writers' commits fall between the reader's queries (issue 13, items 1-2).
"""

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.accounts.models import User
from server.appointments import services as appointments
from server.appointments.forms import AppointmentInput
from server.appointments.models import Appointment
from server.audit.services import SYSTEM
from server.enums import AppointmentStatus, Pillar, Role
from server.forms import get_form
from server.forms.validator import validate
from server.participants import services as participants
from server.participants.forms import ParticipantInput
from server.participants.models import Participant
from server.sessions import services as sessions
from server.sync.sequence import next_seq
from tests.conftest import BACKEND
from tests.support import world
from tests.support.web import signed_in
from tests.test_sync import setting, values


async def new_appointment(participant: Participant, worker: User, officer: User) -> Appointment:
    starts = datetime.now(UTC) + timedelta(days=2)
    async with in_transaction() as conn:
        return await Appointment.create(
            using_db=conn,
            id=uuid.uuid4(),
            participant=participant,
            pillar=Pillar.FAMILY,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            with_user=worker,
            created_by=officer,
            seq=await next_seq(conn),
        )


async def cancel(appointment_id: uuid.UUID) -> None:
    async with in_transaction() as conn:
        await (
            Appointment.filter(id=appointment_id)
            .using_db(conn)
            .update(
                status=AppointmentStatus.CANCELLED,
                version=F("version") + 1,
                seq=await next_seq(conn),
            )
        )


async def officer_changes(
    officer: User, participant: Participant, *, workers: set[int], consent: bool
) -> None:
    """The officer edits the participant's record, as the participant page does."""
    fresh = await Participant.get(id=participant.id)
    data = ParticipantInput(
        full_name=fresh.full_name,
        gender=fresh.gender,
        date_of_birth=fresh.date_of_birth,
        release_date=fresh.release_date,
        language=fresh.language,
        consent_given=consent,
        consent_date=fresh.consent_date,
        worker_ids=frozenset(workers),
    )
    await participants.update(
        officer=officer, participant=fresh, data=data, today=date.today(), actor=SYSTEM
    )


async def log_for(worker: User, participant: Participant) -> uuid.UUID:
    log_id = uuid.uuid4()
    result = validate(get_form("family", 1), values(str(participant.id)), now=datetime.now(UTC))
    await sessions.record_log(
        author=worker,
        log_id=log_id,
        result=result,
        appointment_id=None,
        now=datetime.now(UTC),
        actor=SYSTEM,
    )
    return log_id


class Seen:
    """What a phone holds after its pulls: the latest state of each item."""

    def __init__(self) -> None:
        self.cursor: Any = 0
        self.appointments: dict[str, tuple[int, str]] = {}
        self.records: set[str] = set()
        self.conflicts: set[str] = set()

    def take(self, body: dict[str, Any]) -> None:
        for a in body["appointments"]:
            known = self.appointments.get(a["id"])
            if known is None or known[0] <= a["version"]:
                self.appointments[a["id"]] = (a["version"], a["status"])
        self.records |= {r["id"] for r in body["records"]}
        self.conflicts |= {c["id"] for c in body["conflicts"]}
        self.cursor = body["cursor"]

    async def pull(self, client: httpx.AsyncClient) -> dict[str, Any]:
        response = await client.get("/api/sync/pull", params={"since": self.cursor})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.take(body)
        return body


async def from_zero(client: httpx.AsyncClient) -> Seen:
    full = Seen()
    await full.pull(client)
    return full


def between_queries(
    table: str, action: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """Run ``action`` once, just before the reader's first query of ``table``.

    Installed on the default connection object, so only the reader's
    statements outside a transaction are watched (writers use their own).
    """
    conn = connections.get("default")
    armed = {"on": True}
    originals = {name: getattr(conn, name) for name in ("execute_query", "execute_query_dict")}

    def watch(name: str) -> Callable[..., Awaitable[Any]]:
        original = originals[name]

        async def watched(query: str, *args: Any) -> Any:
            if (
                armed["on"]
                and f'"{table}"' in query
                and query.lstrip().upper().startswith("SELECT")
            ):
                armed["on"] = False
                await action()
            return await original(query, *args)

        return watched

    for name in originals:
        setattr(conn, name, watch(name))

    async def remove() -> None:
        for name in originals:
            delattr(conn, name)
        assert not armed["on"], f"the reader never read {table}"

    return remove


async def test_a_change_committed_between_the_readers_queries_is_not_skipped(
    app: Starlette,
) -> None:
    _, officer, worker, participant = await setting(app)
    first = await new_appointment(participant, worker, officer)
    async with await signed_in(app, worker) as client:
        phone = Seen()
        await phone.pull(client)
        assert phone.appointments == {str(first.id): (1, "scheduled")}
        written: list[uuid.UUID] = []

        async def writer() -> None:
            # After the reader has read appointments: a cancellation, then a log
            # with a higher number, both committed before the reader reads logs.
            await cancel(first.id)
            written.append(await log_for(worker, participant))

        remove = between_queries("session_log", writer)
        try:
            await phone.pull(client)
        finally:
            await remove()
        await phone.pull(client)
        full = await from_zero(client)
    assert phone.records == full.records == {str(written[0])}
    assert phone.appointments == full.appointments == {str(first.id): (2, "cancelled")}


async def test_concurrent_writers_and_an_incremental_reader_agree_with_a_pull_from_zero(
    app: Starlette,
) -> None:
    _, officer, worker, participant = await setting(app)
    done = asyncio.Event()

    async def appointments_writer() -> None:
        for _ in range(25):
            appointment = await new_appointment(participant, worker, officer)
            await cancel(appointment.id)

    async def logs_writer() -> None:
        for _ in range(25):
            await log_for(worker, participant)

    async def writers() -> None:
        try:
            await asyncio.gather(appointments_writer(), logs_writer(), logs_writer())
        finally:
            done.set()

    async with await signed_in(app, worker) as client:
        phone = Seen()
        pulls = 0

        async def reader() -> None:
            nonlocal pulls
            while not done.is_set():
                await phone.pull(client)
                pulls += 1

        await asyncio.gather(writers(), reader())
        await phone.pull(client)  # the writers have finished: one last pull
        full = await from_zero(client)
    assert pulls > 1
    assert len(full.records) == 50 and len(full.appointments) == 25
    assert phone.records == full.records
    assert phone.appointments == full.appointments
    assert {status for _, status in phone.appointments.values()} == {"cancelled"}


class HeldWriter:
    """A writer on its own connection that takes its number and waits to commit."""

    def __init__(self, database_url: str, appointment_id: uuid.UUID) -> None:
        self.url = database_url
        self.appointment_id = appointment_id
        self.taken = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        if BACKEND == "postgres":
            asyncio.run(self._run_postgres())
            return
        path = self.url.removeprefix("sqlite://")
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")
        db.execute(
            "UPDATE appointment SET status = 'cancelled', version = version + 1,"
            " seq = (SELECT value FROM change_counter WHERE id = 1) WHERE id = ?",
            (str(self.appointment_id),),
        )
        self.taken.set()
        self.release.wait(60)
        db.execute("COMMIT")
        db.close()

    async def _run_postgres(self) -> None:
        import asyncpg

        db = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
        async with db.transaction():
            await db.execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")
            await db.execute(
                "UPDATE appointment SET status = 'cancelled', version = version + 1,"
                " seq = (SELECT value FROM change_counter WHERE id = 1) WHERE id = $1",
                self.appointment_id,
            )
            self.taken.set()
            await asyncio.to_thread(self.release.wait, 60)
        await db.close()


async def test_a_change_whose_writer_commits_after_the_pull_arrives_at_the_next_pull(
    app: Starlette, database_url: str
) -> None:
    _, officer, worker, participant = await setting(app)
    held = await new_appointment(participant, worker, officer)
    async with await signed_in(app, worker) as client:
        phone = Seen()
        await phone.pull(client)
        writer = HeldWriter(database_url, held.id)
        writer.thread.start()
        assert await asyncio.to_thread(writer.taken.wait, 30)
        # The writer holds its number, uncommitted. The pull must not report a
        # cursor at or past it; release the writer once the pull has read its bound.
        counted = asyncio.Event()
        conn = connections.get("default")
        originals = {n: getattr(conn, n) for n in ("execute_query", "execute_query_dict")}

        def watch(name: str) -> Callable[..., Awaitable[Any]]:
            async def watched(query: str, *args: Any) -> Any:
                result = await originals[name](query, *args)
                if '"appointment"' in query:
                    counted.set()
                return result

            return watched

        for name in originals:
            setattr(conn, name, watch(name))
        try:
            pulling = asyncio.create_task(phone.pull(client))
            await counted.wait()
            writer.release.set()
            during = await pulling
        finally:
            for name in originals:
                delattr(conn, name)
            writer.release.set()
            await asyncio.to_thread(writer.thread.join, 60)
        assert [a["status"] for a in during["appointments"]] == []
        after = await phone.pull(client)
    assert [(a["id"], a["status"]) for a in after["appointments"]] == [(str(held.id), "cancelled")]
    assert phone.appointments == {str(held.id): (2, "cancelled")}


@pytest.mark.parametrize("how", ["caseload", "consent"])
async def test_a_participant_who_comes_back_comes_back_with_their_appointments(
    app: Starlette, how: str
) -> None:
    _, officer, worker, participant = await setting(app)
    kept = await new_appointment(participant, worker, officer)
    async with await signed_in(app, worker) as client:
        phone = Seen()
        first = await phone.pull(client)
        assert [a["id"] for a in first["appointments"]] == [str(kept.id)]
        # Taken off the phone (off the caseload, or consent withdrawn)…
        if how == "caseload":
            await officer_changes(officer, participant, workers=set(), consent=True)
        else:
            await officer_changes(officer, participant, workers={worker.id}, consent=False)
        gone = await phone.pull(client)
        assert gone["participants"] == []
        # …the phone forgets them, as pwa/outbox/cache.js does.
        phone.appointments.clear()
        # …and put back, with no change to their appointments.
        await officer_changes(officer, participant, workers={worker.id}, consent=True)
        back = await phone.pull(client)
        assert [p["code"] for p in back["participants"]] == [participant.code]
        assert str(kept.id) in {a["id"] for a in back["appointments"]}
        # Once there, they are not sent again and again.
        again = await phone.pull(client)
        assert again["appointments"] == []
    assert phone.appointments == {str(kept.id): (1, "scheduled")}


async def test_a_second_phone_of_the_same_worker_also_gets_them_back(app: Starlette) -> None:
    _, officer, worker, participant = await setting(app)
    kept = await new_appointment(participant, worker, officer)
    async with await signed_in(app, worker) as client:
        one, two = Seen(), Seen()
        await one.pull(client)
        await two.pull(client)
        await officer_changes(officer, participant, workers=set(), consent=True)
        assert (await one.pull(client))["participants"] == []
        one.appointments.clear()
        await officer_changes(officer, participant, workers={worker.id}, consent=True)
        # The other phone pulls first: the first phone must still get them.
        await two.pull(client)
        back = await one.pull(client)
    assert str(kept.id) in {a["id"] for a in back["appointments"]}


async def test_an_appointment_moved_to_another_worker_leaves_the_first_workers_phone(
    app: Starlette,
) -> None:
    """The officer gives an appointment to a colleague: it no longer matches
    the first worker's pull, so it never reaches their phone as a change. The
    pull's complete list of open appointments is how the phone learns it is
    gone (pwa/outbox/cache.js drops any it holds that is not named)."""
    org, officer, worker, participant = await setting(app)
    colleague = await world.user(org, Role.WORKER)
    await participant.workers.add(colleague)
    moved = await new_appointment(participant, worker, officer)
    stays = await new_appointment(participant, worker, officer)
    async with await signed_in(app, worker) as client:
        phone = Seen()
        first = await phone.pull(client)
        assert sorted(first["open_appointments"]) == sorted([str(moved.id), str(stays.id)])
        fresh = await Appointment.get(id=moved.id)
        data = AppointmentInput(
            pillar=fresh.pillar,
            starts_at=fresh.starts_at,
            ends_at=fresh.ends_at,
            place=fresh.place,
            with_user_id=colleague.id,
            what_to_bring=fresh.what_to_bring,
            family_visible=fresh.family_visible,
        )
        await appointments.move(appointment=fresh, data=data, version=fresh.version, actor=SYSTEM)
        after = await phone.pull(client)
        assert after["appointments"] == []  # not the worker's any more: no change reaches them
        assert after["open_appointments"] == [str(stays.id)]
    async with await signed_in(app, colleague) as client:
        theirs = await from_zero(client)
        assert set(theirs.appointments) == {str(moved.id)}
