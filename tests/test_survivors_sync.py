"""Tests written for the mutants of server/sync/ that survived (issue 15).

Each test states by hand what the code must give. Most important first:
what could lose, duplicate, leak or mis-attribute a record.
"""

import hashlib
import json
import os
import stat
import uuid
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette

from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import SYSTEM
from server.enums import AppointmentStatus, FamilyResponse, Pillar, Role
from server.errors import Conflict as ConflictError
from server.errors import Invalid, NotFound
from server.forms.definitions import UnknownForm
from server.i18n import Translator, load_catalogues
from server.sessions.models import SessionLog
from server.sync import conflicts, services
from server.sync.keys import KeyRing, generate, key_files
from server.sync.models import ChangeCounter, Conflict
from tests.support import world
from tests.support.sealing import seal
from tests.support.web import ORIGIN, csrf_token, signed_in
from tests.test_sync import YESTERDAY, Phone, setting, values
from tests.test_sync_edges_conflicts import _answer, _appointment, _stored_log

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


# --- conflicts: who sent what, shown and applied as it was said -------------


async def test_an_officer_sees_each_version_and_who_sent_it(app: Starlette) -> None:
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
    old = datetime.now(UTC) - timedelta(hours=2)
    await Conflict.create(  # newer but made first (a lower id), with nothing readable in it
        record_type="session_log",
        record_id=log_id,
        organisation_id=org.id,
        author=worker,
        payload={},
        content_hash="b" * 64,
        received_at=old + timedelta(minutes=5),
        seq=0,
    )
    await Conflict.create(
        record_type="session_log",
        record_id=log_id,
        organisation_id=org.id,
        author=colleague,
        payload={
            "values": {
                "notes": "other words",
                "attendance": "absent",
                "occurred_on": "2026-11-20",
                "occurred_time": "10:30",
            }
        },
        content_hash="a" * 64,
        received_at=old,
        seq=0,
    )
    found = await conflicts.open_conflicts(officer=officer)
    # Kampala (UTC+3): 09:15 there is 06:15 UTC.
    stored = {
        "notes": "first words",
        "attendance": "attended",
        "occurred_at": f"{YESTERDAY}T06:15:00+00:00",
    }
    assert [(o.participant_code, o.stored, o.other, o.stored_by, o.other_by) for o in found] == [
        (
            participant.code,
            stored,
            {"notes": "other words", "attendance": "absent", "occurred_at": "2026-11-20 10:30"},
            "Achieng Author",
            "Okello Other",
        ),
        (
            participant.code,
            stored,
            {"notes": "", "attendance": "", "occurred_at": " "},
            "Achieng Author",
            "Achieng Author",
        ),
    ]
    assert await conflicts.open_conflicts(officer=worker) == []


async def _answer_conflict(
    app: Starlette, response: str, message: str, base_version: int = 1, **payload: Any
) -> tuple[Any, Any, Appointment, Conflict, str]:
    """A family answer stored ("coming"), and another version of it in conflict."""
    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    answer_id = str(uuid.uuid4())
    assert await _answer(app, mother, answer_id, appointment, "coming", 1) == ("stored", None)
    conflict = await Conflict.create(
        record_type="appointment_response",
        record_id=answer_id,
        organisation_id=org.id,
        author=mother,
        payload={
            "author": mother.id,
            "appointment": str(appointment.id),
            "response": response,
            "message": message,
            "base_version": base_version,
            **payload,
        },
        content_hash="c" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    return officer, participant, appointment, conflict, answer_id


async def test_a_family_answer_in_conflict_is_shown_and_applied_as_said(app: Starlette) -> None:
    officer, participant, appointment, conflict, answer_id = await _answer_conflict(
        app, "not_coming", "we are away"
    )
    [shown] = await conflicts.open_conflicts(officer=officer)
    assert shown.conflict.id == conflict.id
    assert (shown.participant_code, shown.stored, shown.other, shown.stored_by, shown.other_by) == (
        participant.code,
        {"response": "coming", "message": ""},
        {"response": "not_coming", "message": "we are away"},
        "",
        "Mother Kato",
    )
    before = await Appointment.get(id=appointment.id)
    assert (before.status, before.version) == (AppointmentStatus.CONFIRMED, 2)
    await conflicts.resolve(
        officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
    )
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response, after.family_message) == (
        AppointmentStatus.SCHEDULED,
        3,
        FamilyResponse.NOT_COMING,
        "we are away",
    )
    assert after.updated_at == NOW and after.seq > before.seq
    done = await Conflict.get(id=conflict.id).prefetch_related("resolved_by")
    assert done.resolved_by is not None
    assert (done.resolved_at, done.resolved_by.id, done.resolution) == (NOW, officer.id, "replaced")
    assert done.seq > 0
    event = await AuditEvent.filter(action="conflict.resolved").get()
    assert (event.object_type, event.object_id, event.detail) == (
        "appointment_response",
        answer_id,
        {"resolution": "replaced"},
    )
    assert await conflicts.open_conflicts(officer=officer) == []
    with pytest.raises(NotFound):  # resolved once only
        await conflicts.resolve(
            officer=officer, conflict_id=conflict.id, replace=False, now=NOW, actor=SYSTEM
        )


async def test_keeping_the_stored_answer_changes_nothing_on_the_appointment(
    app: Starlette,
) -> None:
    officer, _, appointment, conflict, answer_id = await _answer_conflict(app, "not_coming", "")
    before = await Appointment.get(id=appointment.id)
    await conflicts.resolve(
        officer=officer, conflict_id=conflict.id, replace=False, now=NOW, actor=SYSTEM
    )
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response, after.seq) == (
        AppointmentStatus.CONFIRMED,
        2,
        FamilyResponse.COMING,
        before.seq,
    )
    done = await Conflict.get(id=conflict.id).prefetch_related("resolved_by")
    assert done.resolved_by is not None
    assert (done.resolved_at, done.resolved_by.id, done.resolution) == (NOW, officer.id, "kept")
    event = await AuditEvent.filter(action="conflict.resolved").get()
    assert (event.object_id, event.detail) == (answer_id, {"resolution": "kept"})


async def test_coming_from_a_conflict_confirms_the_appointment(app: Starlette) -> None:
    officer, _, appointment, conflict, _ = await _answer_conflict(app, "coming", "on our way", 2)
    # The stored answer said "coming" (version 1 -> 2); this version was
    # written from version 2, so nothing moved it since.
    await conflicts.resolve(
        officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
    )
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response, after.family_message) == (
        AppointmentStatus.CONFIRMED,
        3,
        FamilyResponse.COMING,
        "on our way",
    )


GONE = (
    "This appointment was cancelled or changed after the family answered, "
    "so their answer cannot be used. Please ask them again."
)
DAMAGED = "This version can no longer be saved as it is."


@pytest.mark.parametrize(
    ("response", "base", "refusal", "message"),
    [
        ("maybe", 1, Invalid, DAMAGED),  # no such answer
        ("coming", "one", Invalid, DAMAGED),  # no version number
        ("coming", None, Invalid, DAMAGED),
        ("coming", "missing", ConflictError, GONE),  # no version said: never applied
        ("coming", 0, ConflictError, GONE),  # before the first version
        ("coming", 3, ConflictError, GONE),  # a version the appointment never had
    ],
)
async def test_an_unusable_answer_in_conflict_is_refused_and_stays_open(
    app: Starlette, response: str, base: Any, refusal: type[Exception], message: str
) -> None:
    officer, _, appointment, conflict, _ = await _answer_conflict(app, response, "", base)
    if base == "missing":
        del conflict.payload["base_version"]
        await conflict.save()
    with pytest.raises(refusal) as refused:
        await conflicts.resolve(
            officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
        )
    assert str(refused.value) == message
    after = await Appointment.get(id=appointment.id)
    assert (after.status, after.version, after.family_response) == (
        AppointmentStatus.CONFIRMED,
        2,
        FamilyResponse.COMING,
    )
    assert (await Conflict.get(id=conflict.id)).resolved_at is None
    assert await AuditEvent.filter(action="conflict.resolved").count() == 0


async def test_an_answer_about_an_appointment_out_of_reach_is_refused(app: Starlette) -> None:
    officer, _, _, conflict, _ = await _answer_conflict(
        app, "coming", "", 2, appointment=str(uuid.uuid4())
    )
    with pytest.raises(ConflictError) as refused:
        await conflicts.resolve(
            officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
        )
    assert str(refused.value) == GONE
    assert (await Conflict.get(id=conflict.id)).resolved_at is None


async def test_a_log_version_replaces_the_stored_one_with_its_audit(app: Starlette) -> None:
    _, officer, worker, participant = await setting(app)
    log_id = await _stored_log(worker, participant)
    payload = {
        "pillar": "family",
        "form_version": 1,
        "values": values(str(participant.id), notes="the better words"),
    }
    conflict = await Conflict.create(
        record_type="session_log",
        record_id=log_id,
        organisation_id=participant.organisation_id,
        author=worker,
        payload=payload,
        content_hash="d" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    await conflicts.resolve(
        officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
    )
    log = await SessionLog.get(id=log_id)
    assert (log.notes, log.revision) == ("the better words", 2)
    event = await AuditEvent.filter(action="conflict.resolved").get()
    assert (event.object_type, event.object_id, event.detail) == (
        "session_log",
        str(log_id),
        {"resolution": "replaced"},
    )
    other = await Conflict.create(
        record_type="session_log",
        record_id=log_id,
        organisation_id=participant.organisation_id,
        author=worker,
        payload={**payload, "values": values(str(participant.id), attendance="sometimes")},
        content_hash="e" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    with pytest.raises(Invalid) as refused:
        await conflicts.resolve(
            officer=officer, conflict_id=other.id, replace=True, now=NOW, actor=SYSTEM
        )
    assert str(refused.value) == DAMAGED
    assert (await SessionLog.get(id=log_id)).notes == "the better words"


@pytest.mark.parametrize("missing", ["form_version", "values"])
async def test_a_log_version_missing_its_form_or_answers_is_never_applied(
    app: Starlette, missing: str
) -> None:
    _, officer, worker, participant = await setting(app)
    log_id = await _stored_log(worker, participant)
    payload = {
        "pillar": "family",
        "form_version": 1,
        "values": values(str(participant.id), notes="from an old phone"),
    }
    del payload[missing]
    conflict = await Conflict.create(
        record_type="session_log",
        record_id=log_id,
        organisation_id=participant.organisation_id,
        author=worker,
        payload=payload,
        content_hash="d" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    with pytest.raises(UnknownForm if missing == "form_version" else Invalid) as refused:
        await conflicts.resolve(
            officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
        )
    if missing == "values":
        assert str(refused.value) == DAMAGED
    log = await SessionLog.get(id=log_id)
    assert (log.notes, log.revision) == ("", 1)
    assert (await Conflict.get(id=conflict.id)).resolved_at is None


async def test_a_version_sent_by_someone_else_never_replaces_the_log(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    colleague = await world.user(org, Role.WORKER, name="Okello Other")
    log_id = await _stored_log(worker, participant)
    conflict = await Conflict.create(
        record_type="session_log",
        record_id=log_id,
        organisation_id=org.id,
        author=colleague,
        payload={
            "pillar": "family",
            "form_version": 1,
            "values": values(str(participant.id), notes="not the authors words"),
        },
        content_hash="f" * 64,
        received_at=datetime.now(UTC),
        seq=0,
    )
    with pytest.raises(ConflictError) as refused:
        await conflicts.resolve(
            officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
        )
    assert str(refused.value) == "This version was sent by another person and cannot replace it."
    log = await SessionLog.get(id=log_id)
    assert (log.notes, log.revision, log.author_id) == ("", 1, worker.id)


# --- keys: numbered files, the newest current ------------------------------


def test_keys_are_numbered_listed_in_order_and_the_newest_is_current(tmp_path: Path) -> None:
    # No umask: the modes asked for are the modes the files get.
    umask = os.umask(0)
    try:
        _numbered_and_listed(tmp_path)
    finally:
        os.umask(umask)


def _numbered_and_listed(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "sync-keys"  # made with its parents
    assert key_files(folder) == []
    first = generate(folder)
    second = generate(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / ".rotation.lock").stat().st_mode) == 0o600
    listed = key_files(folder)
    assert [(k.kid, k.path.name, k.current) for k in listed] == [
        (first.kid, f"0001-{first.kid}.pem", False),
        (second.kid, f"0002-{second.kid}.pem", True),
    ]
    for k in listed:
        assert stat.S_IMODE(k.path.stat().st_mode) == 0o600
        assert k.made_at.tzinfo is UTC
        assert abs(k.made_at - datetime.now(UTC)) < timedelta(minutes=1)
    # The kid: the first 16 hex digits of the public key's SHA-256.
    der = second.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert second.kid == hashlib.sha256(der).hexdigest()[:16]
    # An old key deleted: the next number still follows the highest.
    (folder / f"0001-{first.kid}.pem").unlink()
    third = generate(folder)
    assert [k.path.name for k in key_files(folder)] == [
        f"0002-{second.kid}.pem",
        f"0003-{third.kid}.pem",
    ]
    assert KeyRing.load(folder).current.kid == third.kid
    assert sorted(os.listdir(folder)) == sorted(
        [".rotation.lock", f"0002-{second.kid}.pem", f"0003-{third.kid}.pem"]
    )


def test_a_key_file_without_a_number_comes_first(tmp_path: Path) -> None:
    first = generate(tmp_path)
    (tmp_path / f"0001-{first.kid}.pem").rename(tmp_path / f"old-{first.kid}.pem")
    second = generate(tmp_path)
    assert [(k.path.name, k.current) for k in key_files(tmp_path)] == [
        (f"old-{first.kid}.pem", False),
        (f"0001-{second.kid}.pem", True),
    ]
    ring = KeyRing.load(tmp_path)
    assert (sorted(ring.keys), ring.current.kid) == (sorted([first.kid, second.kid]), second.kid)


# --- a family's pull ---------------------------------------------------------


async def test_a_familys_pull_lists_only_its_own_answers_in_conflict(app: Starlette) -> None:
    org, _, _, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    waiting, settled, foreign, other_kind = (uuid.uuid4() for _ in range(4))
    aunt = await world.user(org, Role.FAMILY, name="Aunt Kato")

    async def conflict(record_id: uuid.UUID, author: Any, kind: str, **extra: Any) -> None:
        await Conflict.create(
            record_type=kind,
            record_id=record_id,
            organisation_id=org.id,
            author=author,
            payload={},
            content_hash=record_id.hex * 2,
            received_at=NOW,
            seq=0,
            **extra,
        )

    await conflict(waiting, mother, "appointment_response")
    await conflict(settled, mother, "appointment_response", resolved_at=NOW, resolution="kept")
    await conflict(foreign, aunt, "appointment_response")
    await conflict(other_kind, mother, "session_log")
    body = await services.pull(user=mother, since=57, forms_hash="", now=datetime.now(UTC))
    assert body["cursor"] == 0  # a family's phone keeps no cursor
    assert sorted(body["conflicts"], key=lambda c: c["resolved"]) == [
        {"id": str(waiting), "resolved": False},
        {"id": str(settled), "resolved": True},
    ]


async def test_each_family_answer_is_answered_under_its_own_id(app: Starlette) -> None:
    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    taken, refused = str(uuid.uuid4()), str(uuid.uuid4())
    async with await signed_in(app, mother) as client:
        key = (await client.get("/api/sync/key")).json()

        def entry(record_id: str, appointment_id: str) -> dict[str, Any]:
            body = {
                "author": mother.id,
                "appointment": appointment_id,
                "response": "coming",
                "message": "",
                "base_version": 1,
            }
            sealed = seal(body, record_id=record_id, kid=key["kid"], spki_b64=key["spki"])
            return {"id": record_id, "type": "appointment_response", "sealed": sealed}

        token = await csrf_token(client)
        answer = await client.post(
            "/api/sync/push",
            json={
                "records": [entry(taken, str(appointment.id)), entry(refused, str(uuid.uuid4()))]
            },
            headers={"origin": ORIGIN, "x-csrf-token": token},
        )
    results = answer.json()["results"]
    assert [(r["id"], r["status"], r.get("code")) for r in results] == [
        (taken, "stored", None),
        (refused, "rejected", "not_allowed"),
    ]
    assert results[1]["message"] == (
        "This appointment is no longer shown to you, so the answer was not sent."
        " If you have a question, please call the organisation."
    )


async def test_the_same_other_version_sent_twice_is_kept_once(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    pid = str(participant.id)
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        await phone.push([phone.entry(log_id, values(pid, notes="first words"))])
        other = phone.entry(log_id, values(pid, notes="second words"))
        answers = [await phone.push([other]) for _ in range(2)]
    assert [a.json()["results"] for a in answers] == [[{"id": log_id, "status": "conflict"}]] * 2
    [kept] = await Conflict.filter(record_id=log_id).prefetch_related("author")
    assert (kept.author.id, kept.payload["values"]["notes"]) == (worker.id, "second words")


async def test_resolving_a_conflict_out_of_reach_is_refused_and_audited(app: Starlette) -> None:
    _, _, _, conflict, _ = await _answer_conflict(app, "not_coming", "")
    org = await world.organisation("Another NGO")
    stranger = await world.user(org, Role.OFFICER, name="Stranger Officer")
    with pytest.raises(NotFound):
        await conflicts.resolve(
            officer=stranger, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
        )
    event = await AuditEvent.filter(action="access.denied").get()
    assert (event.object_type, event.object_id) == ("conflict", str(conflict.id))
    assert (await Conflict.get(id=conflict.id)).resolved_at is None


# --- a worker's pull ---------------------------------------------------------


async def test_a_workers_pull_carries_each_appointment_and_record_as_stored(
    app: Starlette,
) -> None:
    _, officer, worker, participant = await setting(app)
    starts = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    appointment = await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.EDUCATION,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        place="Nakawa Community Hall",
        what_to_bring="School report",
        with_user=worker,
        family_visible=True,
        created_by=officer,
        seq=1,  # below the change numbers the two logs take next
    )
    reviewed, plain = await _stored_log(worker, participant), await _stored_log(worker, participant)
    await SessionLog.filter(id=reviewed).update(reviewed_at=NOW)
    async with await signed_in(app, worker) as client:
        body = (await client.get("/api/sync/pull?since=0")).json()
        digest = body["forms_hash"]
        again = (await client.get(f"/api/sync/pull?since=0&forms={digest}")).json()
    assert body["appointments"] == [
        {
            "id": str(appointment.id),
            "participant": str(participant.id),
            "pillar": "education",
            "starts_at": "2027-03-01T08:00:00+00:00",
            "ends_at": "2027-03-01T09:30:00+00:00",
            "place": "Nakawa Community Hall",
            "what_to_bring": "School report",
            "status": "scheduled",
            "version": 1,
        }
    ]
    assert body["participants"] == [
        {
            "id": str(participant.id),
            "code": participant.code,
            "gender": "female",
            "pillars": ["counselling", "education", "family", "vocational"],
        }
    ]
    assert sorted(body["records"], key=lambda r: r["status"]) == [
        {"id": str(reviewed), "status": "reviewed", "revision": 1},
        {"id": str(plain), "status": "stored", "revision": 1},
    ]
    assert body["cursor"] > 0 and len(body["forms"]) > 0
    assert "forms" not in again and again["forms_hash"] == digest
    events = await AuditEvent.filter(action="sync.pull").order_by("id")
    assert [(e.object_type, e.detail) for e in events] == [
        ("caseload", {"participants": 1, "since": 0}),
        ("caseload", {"participants": 1, "since": 0}),
    ]


def test_the_forms_and_their_hash_are_made_per_language_and_country(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fresh cache: another test of the process may have filled it.
    monkeypatch.setattr(services, "_FORMS", weakref.WeakKeyDictionary())
    catalogues = load_catalogues(Path(__file__).resolve().parents[1] / "locales")
    french = Translator("fr", catalogues["fr"], territory="UG")
    english = Translator("en", catalogues["en"], territory="UG")
    made = {t: services._forms(t) for t in (french, english)}
    for schema, digest in made.values():
        # The hash the phone sends back: 16 hex digits of the SHA-256 of
        # the schema's JSON, keys sorted (so it never depends on dict order).
        assert (
            digest == hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]
        )
    assert made[french][1] != made[english][1]
    again = services._forms(french)
    assert again[0] is made[french][0] and again[1] == made[french][1]


async def test_a_pull_before_any_change_was_numbered_starts_from_zero(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    assert await ChangeCounter.all().count() == 0
    async with await signed_in(app, worker) as client:
        body = (await client.get("/api/sync/pull?since=0")).json()
    # Not 1: the first change will be numbered 1, and must not be skipped.
    assert body["cursor"] == 0
    log_id = await _stored_log(worker, participant)
    async with await signed_in(app, worker) as client:
        body = (await client.get("/api/sync/pull?since=0")).json()
    # One change, one number: the cursor stops at the log's own number.
    assert ((await SessionLog.get(id=log_id)).seq, body["cursor"]) == (1, 1)
    assert body["records"] == [{"id": str(log_id), "status": "stored", "revision": 1}]


async def test_each_push_is_summed_up_once_in_the_audit(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    pid = str(participant.id)
    log_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        await phone.push(
            [
                phone.entry(log_id, values(pid, notes="first words")),
                phone.entry(other_id, values(pid), author=worker.id + 1000),
            ]
        )
        await phone.push(
            [
                phone.entry(log_id, values(pid, notes="first words")),
                phone.entry(log_id, values(pid, notes="second words")),
            ]
        )
    events = await AuditEvent.filter(action="sync.push").order_by("id")
    assert [(e.object_type, e.detail) for e in events] == [
        ("batch", {"stored": 1, "already_stored": 0, "conflict": 0, "rejected": 1}),
        ("batch", {"stored": 0, "already_stored": 1, "conflict": 1, "rejected": 0}),
    ]


async def test_an_answer_without_response_or_message_shows_and_saves_them_empty(
    app: Starlette,
) -> None:
    officer, _, appointment, conflict, _ = await _answer_conflict(app, "not_coming", "", 2)
    await Appointment.filter(id=appointment.id).update(family_response=None)
    del conflict.payload["message"]
    other = await Conflict.create(
        record_type=conflict.record_type,
        record_id=conflict.record_id,
        organisation_id=conflict.organisation_id,
        author_id=conflict.author_id,  # type: ignore[attr-defined]
        payload={k: v for k, v in conflict.payload.items() if k != "response"},
        content_hash="9" * 64,
        received_at=conflict.received_at,
        seq=0,
    )
    await conflict.save()
    shown = {o.conflict.id: o for o in await conflicts.open_conflicts(officer=officer)}
    assert {i: (o.stored, o.other) for i, o in shown.items()} == {
        conflict.id: ({"response": "", "message": ""}, {"response": "not_coming", "message": ""}),
        other.id: ({"response": "", "message": ""}, {"response": "", "message": ""}),
    }
    await conflicts.resolve(
        officer=officer, conflict_id=conflict.id, replace=True, now=NOW, actor=SYSTEM
    )
    after = await Appointment.get(id=appointment.id)
    assert (after.family_response, after.family_message) == (FamilyResponse.NOT_COMING, "")


async def test_an_answer_that_cannot_be_stored_is_refused_alone(
    app: Starlette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from server.family import responses

    async def broken(**_: Any) -> str:
        raise ValueError("a value the database refused")

    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    monkeypatch.setattr(responses, "take", broken)
    answer_id = str(uuid.uuid4())
    async with await signed_in(app, mother) as client:
        key = (await client.get("/api/sync/key")).json()
        body = {
            "author": mother.id,
            "appointment": str(appointment.id),
            "response": "coming",
            "message": "",
            "base_version": 1,
        }
        sealed = seal(body, record_id=answer_id, kid=key["kid"], spki_b64=key["spki"])
        token = await csrf_token(client)
        answer = await client.post(
            "/api/sync/push",
            json={"records": [{"id": answer_id, "type": "appointment_response", "sealed": sealed}]},
            headers={"origin": ORIGIN, "x-csrf-token": token},
        )
    assert answer.status_code == 200
    assert answer.json()["results"] == [
        {
            "id": answer_id,
            "status": "rejected",
            "code": "malformed",
            "message": "This entry is damaged and cannot be read. Please write it again.",
            "errors": {},
        }
    ]
    # Logged for the team, with the error that caused it.
    [logged] = [r for r in caplog.records if r.name == "server.sync.services"]
    assert logged.getMessage() == "sync answer refused: it could not be stored"
    assert logged.levelname == "WARNING" and logged.exc_info is not None
    assert str(logged.exc_info[1]) == "a value the database refused"


async def test_a_record_that_cannot_be_opened_is_logged_with_its_error(
    app: Starlette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any) -> Any:
        raise OverflowError("a date past the calendar's end")

    _, _, worker, participant = await setting(app)
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        monkeypatch.setattr(services, "_open", broken)
        answer = await phone.push([phone.entry(log_id, values(str(participant.id)))])
    [result] = answer.json()["results"]
    assert (result["id"], result["status"], result["code"]) == (log_id, "rejected", "malformed")
    [logged] = [r for r in caplog.records if r.name == "server.sync.services"]
    assert logged.getMessage() == "sync record refused: it could not be opened"
    assert logged.levelname == "WARNING" and logged.exc_info is not None
    assert str(logged.exc_info[1]) == "a date past the calendar's end"


async def test_each_refused_record_is_answered_under_its_own_id(app: Starlette) -> None:
    _, _, worker, participant = await setting(app)
    pid = str(participant.id)
    moved, foreign, kind = (str(uuid.uuid4()) for _ in range(3))
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        answer = await phone.push(
            [
                {**phone.entry(str(uuid.uuid4()), values(pid)), "id": "not-an-id"},
                {**phone.entry(str(uuid.uuid4()), values(pid)), "id": moved},
                phone.entry(foreign, values(pid), author=worker.id + 1000),
                {**phone.entry(kind, values(pid)), "type": "diary"},
            ]
        )
    assert [(r["id"], r["status"], r["code"]) for r in answer.json()["results"]] == [
        ("not-an-id", "rejected", "malformed"),
        (moved, "rejected", "unreadable"),
        (foreign, "rejected", "not_author"),
        (kind, "rejected", "malformed"),
    ]
