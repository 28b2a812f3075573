"""Conflicts at the edges: an id belongs to its author; resolving keeps what was said.

Issue 13, items 3 and 4. Expected values are written by hand.
"""

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.services import SYSTEM
from server.enums import AppointmentStatus, FamilyResponse, Pillar, Role
from server.forms import get_form
from server.forms.validator import validate
from server.sessions import services as sessions
from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.support import world
from tests.support.sealing import seal
from tests.support.web import ORIGIN, csrf_token, post_form, signed_in
from tests.test_sync import Phone, setting, values


async def test_a_colleagues_log_id_cannot_be_pushed_under(app: Starlette) -> None:
    org, _, worker, participant = await setting(app)
    colleague = await world.user(org, Role.WORKER, name="Colleague Namukasa")
    await participant.workers.add(colleague)
    pid = str(participant.id)
    taken = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        stored = await phone.push([phone.entry(taken, values(pid, notes="what I saw"))])
        assert stored.json()["results"][0]["status"] == "stored"
    async with await signed_in(app, colleague) as client:
        phone = Phone(client, colleague.id)
        await phone.start()
        alone = await phone.push([phone.entry(taken, values(pid, notes="my words instead"))])
        same = await phone.push([phone.entry(taken, values(pid, notes="what I saw"))])
        fresh = str(uuid.uuid4())
        mixed = await phone.push(
            [
                phone.entry(fresh, values(pid)),
                phone.entry(taken, values(pid, notes="in a batch")),
            ]
        )
    for response in (alone, same):
        [answer] = response.json()["results"]
        assert (answer["status"], answer["code"]) == ("rejected", "not_author")
    assert [(r["id"], r["status"], r.get("code")) for r in mixed.json()["results"]] == [
        (fresh, "stored", None),
        (taken, "rejected", "not_author"),
    ]
    # The one-by-one path (the HTML form) refuses it too.
    result = validate(get_form("family", 1), values(pid, notes="form"), now=datetime.now(UTC))
    refused: Exception | None = None
    try:
        await sessions.record_log(
            author=colleague,
            log_id=uuid.UUID(taken),
            result=result,
            appointment_id=None,
            now=datetime.now(UTC),
            actor=SYSTEM,
        )
    except Exception as error:  # the kind is checked below
        refused = error
    assert isinstance(refused, sessions.NotAuthor)
    assert await Conflict.all().count() == 0
    log = await SessionLog.get(id=taken)
    assert (log.author_id, log.notes) == (worker.id, "what I saw")


async def test_a_family_answer_id_belongs_to_its_author(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    brother = await world.user(org, Role.FAMILY, name="Brother Kato")
    await participant.family.add(mother, brother)
    appointment = await _appointment(participant, worker, officer)
    answer_id = str(uuid.uuid4())
    assert await _answer(app, mother, answer_id, appointment, "coming", 1) == ("stored", None)
    assert await _answer(app, brother, answer_id, appointment, "not_coming", 1) == (
        "rejected",
        "not_author",
    )
    assert await Conflict.all().count() == 0


async def test_conflicts_page_says_who_sent_each_version(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    worker.name = "Achieng Author"
    await worker.save()
    colleague = await world.user(org, Role.WORKER, name="Okello Other")
    pid = str(participant.id)
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        await phone.push([phone.entry(log_id, values(pid, notes="first words"))])
        await phone.push([phone.entry(log_id, values(pid, notes="second words"))])
    # A version sent under this id by someone else before ids were checked.
    await Conflict.create(
        record_type="session_log",
        record_id=log_id,
        organisation_id=org.id,
        author=colleague,
        payload={
            "pillar": "family",
            "form_version": 1,
            "values": values(pid, notes="not the authors words"),
            "appointment": None,
        },
        content_hash="f" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    async with await signed_in(app, officer) as client:
        page = (await client.get("/conflicts")).text
        assert page.count("Achieng Author") >= 3  # saved version, and own other version
        assert "Okello Other" in page
        foreign = await Conflict.get(author=colleague)
        refused = await post_form(client, f"/conflicts/{foreign.id}", {"choice": "replace"})
        assert refused.status_code == 409
    log = await SessionLog.get(id=log_id)
    assert (log.notes, log.revision, log.author_id) == ("first words", 1, worker.id)


async def test_the_other_version_keeps_the_authors_time_zone(app: Starlette) -> None:
    _, officer, worker, participant = await setting(app)
    worker.time_zone = "Asia/Almaty"  # UTC+5
    await worker.save()
    officer.time_zone = "Africa/Kampala"  # UTC+3
    await officer.save()
    pid = str(participant.id)
    day = (datetime.now(UTC) - timedelta(days=3)).date()
    log_id = str(uuid.uuid4())
    said = values(pid, occurred_on=day.isoformat(), occurred_time="09:15")
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        await phone.push([phone.entry(log_id, said)])
        answer = await phone.push([phone.entry(log_id, {**said, "notes": "later words"})])
        assert answer.json()["results"][0]["status"] == "conflict"
    almaty_0915 = datetime(day.year, day.month, day.day, 4, 15, tzinfo=UTC)
    assert (await SessionLog.get(id=log_id)).occurred_at == almaty_0915
    async with await signed_in(app, officer) as client:
        conflict = await Conflict.get(record_id=log_id)
        response = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "replace"})
        assert response.status_code == 303
    log = await SessionLog.get(id=log_id)
    assert (log.notes, log.occurred_at) == ("later words", almaty_0915)


async def test_a_family_answer_from_a_conflict_never_reopens_a_cancelled_appointment(
    app: Starlette,
) -> None:
    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    await Appointment.filter(id=appointment.id).update(
        status=AppointmentStatus.CANCELLED, version=2
    )
    assert await _answer(app, mother, str(uuid.uuid4()), appointment, "coming", 1) == (
        "conflict",
        None,
    )
    async with await signed_in(app, officer) as client:
        conflict = await Conflict.get(author=mother)
        refused = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "replace"})
        assert refused.status_code == 409
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response) == (
        AppointmentStatus.CANCELLED,
        2,
        None,
    )
    assert (await Conflict.get(id=conflict.id)).resolved_at is None


async def test_a_family_answer_from_a_conflict_is_not_put_on_a_moved_appointment(
    app: Starlette,
) -> None:
    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    # Moved by the officer: a new time (version 2), nobody has answered for it.
    later = appointment.starts_at + timedelta(days=1)
    await Appointment.filter(id=appointment.id).update(
        starts_at=later, ends_at=later + timedelta(hours=1), version=2
    )
    assert await _answer(app, mother, str(uuid.uuid4()), appointment, "coming", 1) == (
        "conflict",
        None,
    )
    async with await signed_in(app, officer) as client:
        conflict = await Conflict.get(author=mother)
        refused = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "replace"})
        assert refused.status_code == 409
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response) == (
        AppointmentStatus.SCHEDULED,
        2,
        None,
    )


async def test_a_family_that_changed_its_mind_can_be_taken_at_its_word(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    answer_id = str(uuid.uuid4())
    assert await _answer(app, mother, answer_id, appointment, "coming", 1) == ("stored", None)
    # The same answer edited on another phone (from the same version 1).
    assert await _answer(app, mother, answer_id, appointment, "not_coming", 1) == (
        "conflict",
        None,
    )
    async with await signed_in(app, officer) as client:
        conflict = await Conflict.get(author=mother)
        done = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "replace"})
        assert done.status_code == 303
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response) == (
        AppointmentStatus.SCHEDULED,
        3,
        FamilyResponse.NOT_COMING,
    )


async def test_an_officer_sees_every_conflict_of_their_own_participants(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    busy = await world.user(org, Role.OFFICER, name="Busy Officer")
    theirs = await world.participant(org, busy)
    await theirs.workers.add(worker)
    old = datetime.now(UTC) - timedelta(days=30)
    their_log = await _stored_log(worker, theirs)
    await Conflict.bulk_create(
        [
            Conflict(
                record_type="session_log",
                record_id=their_log,
                organisation_id=org.id,
                author=worker,
                payload={"values": {"notes": f"theirs {n}"}},
                content_hash=hashlib.sha256(str(n).encode()).hexdigest(),
                received_at=old + timedelta(minutes=n),
                seq=0,
            )
            for n in range(130)
        ]
    )
    mine = await _stored_log(worker, participant)
    await Conflict.create(
        record_type="session_log",
        record_id=mine,
        organisation_id=org.id,
        author=worker,
        payload={"pillar": "family", "form_version": 1, "values": {"notes": "MINE-7741"}},
        content_hash="a" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    async with await signed_in(app, officer) as client:
        page = (await client.get("/conflicts")).text
        assert "MINE-7741" in page and "theirs 1" not in page
        conflict = await Conflict.get(record_id=mine)
        kept = await post_form(client, f"/conflicts/{conflict.id}", {"choice": "keep"})
        assert kept.status_code == 303
    assert (await Conflict.get(id=conflict.id)).resolution == "kept"
    async with await signed_in(app, busy) as client:
        page = (await client.get("/conflicts")).text
        assert page.count("theirs ") == 130 and "MINE-7741" not in page


async def _stored_log(author: User, participant: Any) -> uuid.UUID:
    log_id = uuid.uuid4()
    result = validate(get_form("family", 1), values(str(participant.id)), now=datetime.now(UTC))
    await sessions.record_log(
        author=author,
        log_id=log_id,
        result=result,
        appointment_id=None,
        now=datetime.now(UTC),
        actor=SYSTEM,
    )
    return log_id


async def _appointment(participant: Any, worker: User, officer: User) -> Appointment:
    starts = datetime.combine(date.today() + timedelta(days=3), datetime.min.time(), UTC)
    return await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=starts + timedelta(hours=8),
        ends_at=starts + timedelta(hours=9),
        with_user=worker,
        family_visible=True,
        created_by=officer,
    )


async def _answer(
    app: Starlette,
    user: User,
    record_id: str,
    appointment: Appointment,
    response: str,
    base_version: int,
) -> tuple[str, str | None]:
    async with await signed_in(app, user) as client:
        key = (await client.get("/api/sync/key")).json()
        body = {
            "author": user.id,
            "appointment": str(appointment.id),
            "response": response,
            "message": "",
            "base_version": base_version,
        }
        entry = {
            "id": record_id,
            "type": "appointment_response",
            "sealed": seal(body, record_id=record_id, kid=key["kid"], spki_b64=key["spki"]),
        }
        token = await csrf_token(client)
        answer = await client.post(
            "/api/sync/push",
            json={"records": [entry]},
            headers={"origin": ORIGIN, "x-csrf-token": token},
        )
        result = answer.json()["results"][0]
        return result["status"], result.get("code")
