"""What a family may see and answer (server/family/services.py and
responses.py), written against mutants that survived the family tests
(issue 15). The first test: a family cannot answer an appointment that is
over through the page's form (a mutant dropped the "still open" condition).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from server import policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import Actor
from server.enums import AppointmentStatus, Attendance, FamilyResponse, Pillar, Role
from server.errors import Invalid, NotFound
from server.family import responses, services
from server.family.models import AppointmentResponse
from server.i18n import N_
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.support import world
from tests.support.web import post_form, signed_in
from tests.test_family import family_world


async def test_a_done_appointment_takes_no_answer_from_the_form(app: Starlette) -> None:
    relative, _, shown, _, _ = await family_world()
    await Appointment.filter(id=shown.id).update(status=AppointmentStatus.DONE)
    async with await signed_in(app, relative) as client:
        page = await client.get("/")
        assert page.status_code == 200
        response = await post_form(
            client,
            f"/family/appointments/{shown.id}/response",
            {"response": "coming", "message": "canary: we will come"},
        )
    assert response.status_code == 422, response.status_code
    stored = await Appointment.get(id=shown.id)
    assert stored.status == AppointmentStatus.DONE
    assert stored.family_response is None and stored.family_message == ""
    assert stored.version == shown.version


# --- Service level (server/family/services.py and responses.py), written
# against the mutants that survived the family tests (issue 15). Expected
# values are written out by hand; everything goes through the real database.

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ZONE = "Africa/Kampala"  # UTC+3


@dataclass
class Family:
    org: Organisation
    officer: User
    worker: User
    person: Participant
    relative: User
    actor: Actor


async def family(language: str = "en") -> Family:
    org = await world.organisation("Kampala Reintegration Network")
    org.contact_phone = "+256 700 123 456"
    await org.save()
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    person = await world.participant(org, officer)
    relative = await world.user(org, Role.FAMILY, name="Sarah Kato", language=language)
    await person.family.add(relative)
    return Family(org, officer, worker, person, relative, Actor(relative.id, org.id, "10.1.1.1"))


async def meeting(
    f: Family,
    starts_at: datetime = NOW + timedelta(days=2),
    *,
    hours: float = 1,
    status: AppointmentStatus = AppointmentStatus.SCHEDULED,
    visible: bool = True,
    **extra: Any,
) -> Appointment:
    return await Appointment.create(
        id=uuid.uuid4(),
        participant=f.person,
        pillar=extra.pop("pillar", Pillar.FAMILY),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        status=status,
        family_visible=visible,
        created_by=f.officer,
        **extra,
    )


def test_first_name_and_links() -> None:
    assert services.first_name("Brenda Achieng") == "Brenda"
    assert services.first_name("   ") == ""
    assert services.first_name("") == ""
    shown = services.FamilyAppointment(
        id=uuid.uuid4(),
        starts_at=NOW,
        ends_at=NOW,
        place="",
        organisation="",
        worker_first_name="",
        what_to_bring="",
        status="scheduled",
        response="",
        message="",
        took_place=None,
        contact_phone="+256 700 123 456",
        latitude=0.3136,
        longitude=32.58,
    )
    assert shown.tel_uri == "tel:+256700123456"
    assert shown.geo_uri == "geo:0.3136,32.58?q=0.3136,32.58"
    from dataclasses import replace

    assert replace(shown, contact_phone="").tel_uri == ""
    assert replace(shown, latitude=None).geo_uri == ""
    assert replace(shown, longitude=None).geo_uri == ""


async def test_the_family_sees_each_field_of_its_appointment(orm: None) -> None:
    f = await family()
    moved = NOW + timedelta(days=1)
    a = await meeting(
        f,
        place="Family home",
        with_user=f.worker,
        what_to_bring="ID card",
        latitude=0.3136,
        longitude=32.5811,
        moved_from=moved,
        family_response=FamilyResponse.COMING,
        family_message="We come",
        status=AppointmentStatus.CONFIRMED,
        version=3,
        pillar=Pillar.COUNSELLING,
    )
    upcoming, recent = await services.appointments(user=f.relative, now=NOW)
    assert recent == []
    assert upcoming == [
        services.FamilyAppointment(
            id=a.id,
            starts_at=NOW + timedelta(days=2),
            ends_at=NOW + timedelta(days=2, hours=1),
            place="Family home",
            organisation="Kampala Reintegration Network",
            worker_first_name="Brenda",
            what_to_bring="ID card",
            status="confirmed",
            response="coming",
            message="We come",
            took_place=None,
            version=3,
            pillar="counselling",
            contact_phone="+256 700 123 456",
            latitude=0.3136,
            longitude=32.5811,
            moved_from=moved,
            answerable=True,
        )
    ]


async def test_whether_it_took_place(orm: None) -> None:
    f = await family()
    past = NOW - timedelta(days=3)
    held = await meeting(f, past, status=AppointmentStatus.DONE)
    missed = await meeting(f, past - timedelta(days=1), status=AppointmentStatus.DONE)
    unlogged = await meeting(f, past - timedelta(days=2), status=AppointmentStatus.DONE)
    called_off = await meeting(f, past - timedelta(days=3), status=AppointmentStatus.CANCELLED)
    # Moved, long ago: no longer news.
    open_one = await meeting(f, past - timedelta(days=4), moved_from=past - timedelta(days=9))
    for appointment, attendance in ((held, Attendance.ATTENDED), (missed, Attendance.MISSED)):
        await SessionLog.create(
            id=uuid.uuid4(),
            participant=f.person,
            pillar=Pillar.FAMILY,
            form_version=1,
            occurred_at=past,
            duration_minutes=30,
            author=f.worker,
            attendance=attendance,
            content_hash="x",
            appointment=appointment,
        )
    _, recent = await services.appointments(user=f.relative, now=NOW)
    assert [(r.id, r.took_place, r.answerable) for r in recent] == [
        (held.id, True, False),
        (missed.id, False, False),
        (unlogged.id, True, False),  # done without a log: the officer says it took place
        (called_off.id, False, False),
        (open_one.id, None, False),  # open but over: no longer answerable
    ]
    assert [r.worker_first_name for r in recent] == [""] * 5  # nobody named
    assert [r.moved_from for r in recent] == [None] * 5
    assert [(r.response, r.message) for r in recent] == [("", "")] * 5  # not answered


async def test_what_is_upcoming_and_what_is_recent(orm: None) -> None:
    f = await family()
    ends_now = await meeting(f, NOW - timedelta(hours=1))  # ends at NOW: still upcoming
    starts_now = await meeting(f, NOW)  # starting: too late to answer
    cancelled = await meeting(f, NOW + timedelta(days=1), status=AppointmentStatus.CANCELLED)
    later = await meeting(f, NOW + timedelta(days=3))
    await meeting(f, NOW + timedelta(days=4), visible=False)
    just_over = await meeting(f, NOW - timedelta(hours=2), hours=0.5)
    edge = await meeting(f, NOW - timedelta(days=30, hours=1))  # ends 30 days ago exactly
    await meeting(f, NOW - timedelta(days=30, hours=2))  # ended before the window
    upcoming, recent = await services.appointments(user=f.relative, now=NOW)
    assert [(a.id, a.answerable) for a in upcoming] == [
        (ends_now.id, False),
        (starts_now.id, False),
        (later.id, True),
    ]
    assert [a.id for a in recent] == [just_over.id, edge.id]
    with_cancelled, _ = await services.appointments(
        user=f.relative, now=NOW, include_cancelled=True
    )
    assert [a.id for a in with_cancelled] == [ends_now.id, starts_now.id, cancelled.id, later.id]
    assert [a.status for a in with_cancelled] == [
        "scheduled",
        "scheduled",
        "cancelled",
        "scheduled",
    ]
    # Only a family member has family appointments.
    assert await services.appointments(user=f.officer, now=NOW) == ([], [])


async def test_at_most_fifty_upcoming_and_twenty_recent(orm: None) -> None:
    f = await family()
    rows = [
        Appointment(
            id=uuid.uuid4(),
            participant=f.person,
            pillar=Pillar.FAMILY,
            starts_at=NOW + sign * timedelta(hours=n + 2),
            ends_at=NOW + sign * timedelta(hours=n + 2) + timedelta(minutes=30),
            family_visible=True,
            created_by=f.officer,
        )
        for sign, count in ((1, 51), (-1, 21))
        for n in range(count)
    ]
    await Appointment.bulk_create(rows)
    upcoming, recent = await services.appointments(user=f.relative, now=NOW)
    assert (len(upcoming), len(recent)) == (50, 20)
    assert upcoming[0].starts_at == NOW + timedelta(hours=2)
    assert recent[0].starts_at == NOW - timedelta(hours=2)


async def test_a_move_is_news_until_the_old_day_has_passed_where_the_family_lives(
    orm: None,
) -> None:
    f = await family()
    assert f.relative.time_zone == ZONE
    evening = datetime(2026, 3, 9, 22, 0, tzinfo=UTC)  # already 10 March in Kampala
    # 21:30 UTC on 9 March is 00:30 on 10 March in Kampala: the old day is today.
    today_there = await meeting(f, moved_from=datetime(2026, 3, 9, 21, 30, tzinfo=UTC))
    # 20:30 UTC on 9 March is 23:30 on 9 March in Kampala: yesterday there.
    yesterday_there = await meeting(
        f, NOW + timedelta(days=3), moved_from=datetime(2026, 3, 9, 20, 30, tzinfo=UTC)
    )
    upcoming, _ = await services.appointments(user=f.relative, now=evening)
    moved = {a.id: a.moved_from for a in upcoming}
    assert moved == {
        today_there.id: datetime(2026, 3, 9, 21, 30, tzinfo=UTC),
        yesterday_there.id: None,
    }


async def test_reading_one_appointment_is_audited_and_a_stranger_is_refused(orm: None) -> None:
    f = await family()
    a = await meeting(f)
    shown = await services.appointment(user=f.relative, appointment_id=a.id, actor=f.actor)
    assert shown.id == a.id
    read = await AuditEvent.get(action="appointment.read")
    assert (read.object_type, read.object_id, read.actor_id) == (
        "appointment",
        str(a.id),
        f.relative.id,
    )
    officer_actor = Actor(f.officer.id, f.org.id)
    with pytest.raises(NotFound):
        await services.appointment(user=f.officer, appointment_id=a.id, actor=officer_actor)
    refused = await AuditEvent.get(action="access.denied")
    assert (refused.object_type, refused.object_id, refused.actor_id) == (
        "appointment",
        str(a.id),
        f.officer.id,
    )


async def test_the_form_answer_changes_exactly_one_appointment(orm: None) -> None:
    f = await family()
    a = await meeting(f, version=4)
    other = await meeting(f, NOW + timedelta(days=5))
    result = await services.respond(
        user=f.relative,
        appointment_id=a.id,
        response="not_coming",
        message="  my son is ill\x00 ",
        now=NOW,
        actor=f.actor,
    )
    stored = await Appointment.get(id=a.id)
    assert (stored.family_response, stored.family_message, stored.status) == (
        FamilyResponse.NOT_COMING,
        "my son is ill",
        AppointmentStatus.SCHEDULED,
    )
    assert (stored.version, stored.updated_at) == (5, NOW)
    assert stored.seq > 0
    assert (result.response, result.message, result.version) == ("not_coming", "my son is ill", 5)
    untouched = await Appointment.get(id=other.id)
    assert (untouched.family_response, untouched.version, untouched.seq) == (None, 1, 0)
    event = await AuditEvent.get(action="appointment.family_response")
    assert (event.object_type, event.object_id, event.detail) == (
        "appointment",
        str(a.id),
        {"response": "not_coming"},
    )
    coming = await services.respond(
        user=f.relative, appointment_id=a.id, response="coming", message="", now=NOW, actor=f.actor
    )
    assert (coming.status, coming.version) == ("confirmed", 6)


async def test_the_form_says_why_an_answer_was_not_taken(orm: None) -> None:
    f = await family()
    a = await meeting(f)

    async def refusal(response: str, message: str = "", now: datetime = NOW) -> str:
        with pytest.raises(Invalid) as raised:
            await services.respond(
                user=f.relative,
                appointment_id=a.id,
                response=response,
                message=message,
                now=now,
                actor=f.actor,
            )
        return raised.value.message

    assert await refusal("maybe") == services.NO_CHOICE
    assert await refusal("coming", "x" * 301) == services.TOO_LONG
    # Starting exactly now counts as started.
    assert await refusal("coming", now=NOW + timedelta(days=2)) == services.STARTED
    await Appointment.filter(id=a.id).update(status=AppointmentStatus.CANCELLED)
    assert await refusal("coming") == services.CLOSED
    await Appointment.filter(id=a.id).update(status=AppointmentStatus.SCHEDULED)
    taken = await services.respond(
        user=f.relative,
        appointment_id=a.id,
        response="coming",
        message="x" * 300,
        now=NOW,
        actor=f.actor,
    )
    assert taken.message == "x" * 300


# --- Answers from the phone's outbox (responses.take).


async def take(f: Family, content: dict[str, Any], record_id: uuid.UUID | None = None) -> str:
    return await responses.take(
        user=f.relative,
        record_id=record_id or uuid.uuid4(),
        content=content,
        now=NOW,
        actor=f.actor,
    )


def answer(a: Appointment, response: str = "coming", **extra: Any) -> dict[str, Any]:
    return {"appointment": str(a.id), "response": response, "base_version": 1, **extra}


async def refused(f: Family, content: dict[str, Any]) -> str:
    with pytest.raises(responses.Refused) as raised:
        await take(f, content)
    return raised.value.code


async def test_what_the_phone_may_not_send(orm: None) -> None:
    f = await family()
    a = await meeting(f)
    assert await refused(f, answer(a, "maybe")) == "malformed"
    assert await refused(f, {"appointment": str(a.id), "response": "coming"}) == "malformed"
    assert await refused(f, answer(a, base_version="one")) == "malformed"
    assert await refused(f, answer(a, base_version=-1)) == "malformed"
    assert await refused(f, answer(a, base_version=2**31)) == "malformed"
    # Applied, it would store 2**31: more than the version column holds.
    assert await refused(f, answer(a, base_version=2**31 - 1)) == "malformed"
    assert await refused(f, answer(a, message="x" * 301)) == "invalid"
    assert await refused(f, answer(a, appointment=str(uuid.uuid4()))) == "not_allowed"
    staff = Family(f.org, f.officer, f.worker, f.person, f.officer, f.actor)
    assert await refused(staff, answer(a)) == "not_allowed"
    assert await AppointmentResponse.all().count() == 0
    # The edges of what is taken: version 0 and the column's last value
    # (stale, so kept as conflicts), a message of exactly 300 characters.
    assert await take(f, answer(a, base_version=0, message="x" * 300)) == "conflict"
    assert await take(f, answer(a, base_version=2**31 - 2)) == "conflict"
    assert await take(f, answer(a, base_version=62)) == "conflict"


def test_each_refusal_is_explained_to_the_family() -> None:
    assert responses.Refused("not_allowed").reason() == responses.REASONS["not_allowed"]
    assert responses.Refused("invalid").reason() == services.TOO_LONG
    assert str(responses.Refused("not_author")) == "not_author"  # what a log line shows
    assert responses.Refused("no_such_code").reason() == N_(
        "The answer could not be read on the server. Please give your answer again."
    )


async def test_an_answer_is_applied_once_over_the_version_the_phone_saw(orm: None) -> None:
    f = await family()
    a = await meeting(f)
    b = await meeting(f, NOW + timedelta(days=3))  # also at version 1: must not change
    record_id = uuid.uuid4()
    content = answer(a, "not_coming", message=" my son is ill\x00 ")
    assert await take(f, content, record_id) == "stored"
    stored = await Appointment.get(id=a.id)
    assert (stored.family_response, stored.family_message, stored.status) == (
        FamilyResponse.NOT_COMING,
        "my son is ill",
        AppointmentStatus.SCHEDULED,
    )
    assert (stored.version, stored.updated_at) == (2, NOW)
    assert stored.seq > 0
    untouched = await Appointment.get(id=b.id)
    assert (untouched.family_response, untouched.version) == (None, 1)
    row = await AppointmentResponse.get(id=record_id)
    assert (row.author_id, row.response, row.message, row.base_version, row.outcome) == (
        f.relative.id,
        "not_coming",
        "my son is ill",
        1,
        "applied",
    )
    # The digest of the canonical fields (sorted keys), written out here.
    canonical = (
        f'{{"appointment": "{a.id}", "base_version": 1, '
        '"message": "my son is ill", "response": "not_coming"}'
    )
    assert row.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    events = await AuditEvent.filter(action__startswith="appointment.family_response")
    assert [(e.action, e.object_type, e.object_id, e.detail) for e in events] == [
        ("appointment.family_response.stored", "appointment", str(a.id), {"response": "not_coming"})
    ]
    # The same answer again: already stored, nothing more in the trail.
    assert await take(f, content, record_id) == "already_stored"
    assert await AuditEvent.filter(action__startswith="appointment.family_response").count() == 1
    coming = await meeting(f, NOW + timedelta(days=4))
    assert await take(f, answer(coming, message=None)) == "stored"
    stored = await Appointment.get(id=coming.id)
    assert (stored.status, stored.family_message) == (AppointmentStatus.CONFIRMED, "")


async def expect_conflict(f: Family, record_id: uuid.UUID, fields: dict[str, Any]) -> None:
    conflict = await Conflict.get(record_id=record_id)
    assert (conflict.record_type, conflict.organisation_id, conflict.author_id) == (
        "appointment_response",
        f.org.id,
        f.relative.id,
    )
    assert (conflict.payload, conflict.received_at) == (fields, NOW)
    assert conflict.seq > 0


async def test_a_changed_answer_under_the_same_id_is_a_conflict(orm: None) -> None:
    f = await family()
    a = await meeting(f)
    record_id = uuid.uuid4()
    assert await take(f, answer(a), record_id) == "stored"
    assert await take(f, answer(a, message="later"), record_id) == "conflict"
    await expect_conflict(
        f,
        record_id,
        {"appointment": str(a.id), "response": "coming", "message": "later", "base_version": 1},
    )
    event = await AuditEvent.get(action="appointment.family_response.conflict")
    assert event.detail == {"response": "coming"}
    # Another family member cannot reuse that id.
    second = await world.user(f.org, Role.FAMILY)
    await f.person.family.add(second)
    other = Family(f.org, f.officer, f.worker, f.person, second, Actor(second.id, f.org.id))
    with pytest.raises(responses.Refused) as raised:
        await take(other, answer(a), record_id)
    assert raised.value.code == "not_author"


@pytest.mark.parametrize(
    ("status", "version"),
    [
        (AppointmentStatus.SCHEDULED, 2),  # moved since the phone saw it
        (AppointmentStatus.CANCELLED, 1),
        (AppointmentStatus.DONE, 1),
    ],
)
async def test_an_answer_over_another_state_is_kept_as_a_conflict(
    orm: None, status: AppointmentStatus, version: int
) -> None:
    f = await family()
    a = await meeting(f, status=status, version=version)
    record_id = uuid.uuid4()
    assert await take(f, answer(a, message="we come"), record_id) == "conflict"
    stored = await Appointment.get(id=a.id)
    assert (stored.family_response, stored.status, stored.version) == (None, status, version)
    row = await AppointmentResponse.get(id=record_id)
    assert (row.outcome, row.message) == ("conflict", "we come")
    await expect_conflict(
        f,
        record_id,
        {"appointment": str(a.id), "response": "coming", "message": "we come", "base_version": 1},
    )


@pytest.mark.parametrize("same", [True, False])
async def test_a_race_with_another_server_is_looked_at_again(
    orm: None, monkeypatch: pytest.MonkeyPatch, same: bool
) -> None:
    """The other server stored the same id between our look and our insert."""
    f = await family()
    a = await meeting(f)
    record_id = uuid.uuid4()
    message = "" if same else "sent twice"
    canonical = (
        f'{{"appointment": "{a.id}", "base_version": 1, "message": "", "response": "coming"}}'
    )
    await AppointmentResponse.create(
        id=record_id,
        appointment=a,
        author=f.relative,
        response="coming",
        message="",
        base_version=1,
        content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        outcome="applied",
        received_at=NOW,
    )
    looks: list[uuid.UUID] = []
    real = policy.response_with_id

    def first_look_misses(wanted: uuid.UUID) -> Any:
        looks.append(wanted)
        return real(uuid.uuid4() if len(looks) == 1 else wanted)

    monkeypatch.setattr(policy, "response_with_id", first_look_misses)
    outcome = await take(f, answer(a, message=message), record_id)
    assert looks == [record_id, record_id]
    if same:
        assert outcome == "already_stored"
        assert await Conflict.all().count() == 0
    else:
        assert outcome == "conflict"
        await expect_conflict(
            f,
            record_id,
            {"appointment": str(a.id), "response": "coming", "message": message, "base_version": 1},
        )
        event = await AuditEvent.get(action="appointment.family_response.conflict")
        assert (event.object_id, event.detail) == (str(a.id), {"response": "coming"})
    # Our own attempt rolled back: the appointment is as the other server left it.
    assert (await Appointment.get(id=a.id)).version == 1


def test_the_qr_code_is_medium_level_dark_on_white_and_titled() -> None:
    import segno

    from server.family import qr

    url = "https://homeward.example/calendar/aaaaaaaaaaa"  # 45 characters
    drawn = str(qr.svg(url, title="Link <to> & calendar"))
    # Level M, never raised to Q: version 4, 33 modules, and a quiet zone of
    # 4 on each side: 41 units of 5 pixels.
    assert drawn.startswith(
        '<svg width="205" height="205" class="qr"><title>Link &lt;to&gt; &amp; calendar</title>'
    )
    assert '<path fill="#fff" d="M0 0h41v41h-41z"/>' in drawn  # white, also in dark mode
    path = re.search(r'class="qrline" stroke="#000" d="([^"]+)"', drawn)
    assert path
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark |= {(int(x) + step, int(y)) for step in range(int(first))}
            x += int(first)
    medium = segno.make_qr(url, error="m", boost_error=False)
    assert medium.designator == "4-M"
    expected = {
        (column + 4, row + 4)
        for row, line in enumerate(medium.matrix)
        for column, module in enumerate(line)
        if module
    }
    assert dark == expected
