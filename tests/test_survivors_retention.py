"""Retention (server/retention.py), written against the mutants that survived
tests/test_retention.py and tests/test_retention_schema.py (issue 15): who is
due and since when, exactly what an erasure leaves, which accounts, feeds
and invitations it closes (and which it must not touch), and the trail it
writes. Every expected value is written out by hand.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from server import retention
from server.accounts.models import Invitation, LoginSession, Passkey, User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import Actor
from server.enums import AppointmentStatus, Attendance, Pillar, ReviewStatus, Role
from server.family.models import AppointmentResponse, CalendarFeed
from server.orgs.models import Organisation
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.support import world

TODAY = date(2026, 6, 1)
CUTOFF = date(2025, 6, 1)  # TODAY less the 365 days the organisations keep
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
EARLIER = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


async def organisation(name: str = "Test NGO") -> Organisation:
    org = await world.organisation(name)
    org.retention_days = 365
    await org.save()
    return org


async def withdrawal(
    person: Participant, on: date, recorded_at: datetime, given: bool = False
) -> None:
    await ConsentRecord.create(participant=person, given=given, on_date=on, recorded_at=recorded_at)


async def test_the_day_the_period_ends_is_due_with_its_reason_and_date(orm: None) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    on_the_day = await world.participant(org, officer, release_date=CUTOFF)
    await world.participant(org, officer, release_date=CUTOFF + timedelta(days=1))
    assert await retention.due(today=TODAY) == [
        retention.Due(on_the_day.id, on_the_day.code, "released", CUTOFF, org.id)
    ]


async def test_the_earliest_start_and_the_latest_withdrawal_count(orm: None) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    # Released before withdrawing: the clock started at the release.
    released_first = await world.participant(
        org, officer, consent_given=False, release_date=date(2023, 5, 5)
    )
    await withdrawal(released_first, date(2024, 1, 10), EARLIER)
    # Withdrew, then consented again: only the release counts.
    consents_again = await world.participant(
        org, officer, consent_given=True, release_date=date(2024, 12, 1)
    )
    await withdrawal(consents_again, date(2020, 1, 1), EARLIER)
    await withdrawal(consents_again, date(2021, 1, 1), NOW, given=True)
    # Two withdrawals: the one recorded last counts, whatever the order of ids.
    recorded_last = await world.participant(org, officer, consent_given=False)
    await withdrawal(recorded_last, date(2025, 5, 1), NOW)
    await withdrawal(recorded_last, date(2025, 12, 1), EARLIER)
    # A record of consent given is never a withdrawal, even recorded later.
    given_later = await world.participant(org, officer, consent_given=False)
    await withdrawal(given_later, date(2025, 3, 1), EARLIER)
    await withdrawal(given_later, date(2025, 12, 1), NOW, given=True)
    names = {
        released_first.id: "released first",
        consents_again.id: "consents again",
        recorded_last.id: "recorded last",
        given_later.id: "given later",
    }
    due = await retention.due(today=TODAY)
    assert {names[d.participant_id]: (d.reason, d.since) for d in due} == {
        "released first": ("released", date(2023, 5, 5)),
        "consents again": ("released", date(2024, 12, 1)),
        "recorded last": ("consent_withdrawn", date(2025, 5, 1)),
        "given later": ("consent_withdrawn", date(2025, 3, 1)),
    }


async def test_a_tie_between_withdrawals_goes_to_the_later_id(orm: None) -> None:
    # Recorded in the same instant: the higher id is the later record. Given
    # here out of order, so PostgreSQL (which keeps no row order) must sort.
    org = await organisation()
    person = await world.participant(org, consent_given=False)
    for record_id, on in ((900, date(2025, 12, 1)), (800, date(2025, 5, 1))):
        await ConsentRecord.create(
            id=record_id, participant=person, given=False, on_date=on, recorded_at=EARLIER
        )
    assert await retention.due(today=TODAY) == []  # 2025-12-01 counts: not due yet


async def test_a_run_covers_every_organisation_as_its_actor(orm: None) -> None:
    first, second = await organisation("First NGO"), await organisation("Second NGO")
    one = await world.participant(first, release_date=date(2020, 1, 1))
    two = await world.participant(second, release_date=date(2020, 1, 1))
    operator = Actor(user_id=4242)
    done = await retention.run(today=TODAY, now=NOW, actor=operator)
    assert [(item.participant_id, touched) for item, touched in done] == [(one.id, 1), (two.id, 1)]
    events = await AuditEvent.filter(action="retention.anonymised").order_by("id")
    assert [(e.object_id, e.actor_id, e.organisation_id) for e in events] == [
        (str(one.id), 4242, first.id),
        (str(two.id), 4242, second.id),
    ]


async def test_an_erasure_blanks_text_keeps_choices_and_renumbers_for_sync(orm: None) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    person = await world.participant(
        org, officer, release_date=date(2020, 1, 1), consent_date=date(2019, 6, 1)
    )
    other = await world.participant(org, officer, full_name="Still Here")

    async def log(form_version: int) -> SessionLog:
        return await SessionLog.create(
            id=uuid.uuid4(),
            participant=person,
            pillar=Pillar.FAMILY,
            form_version=form_version,
            occurred_at=EARLIER,
            duration_minutes=45,
            author=worker,
            attendance=Attendance.ATTENDED,
            engagement=4,
            notes="note",
            place="her home",
            review_comment="see the mother again",
            content_hash="x",
            answers={"setting": "home_visit", "facilitator": "Brenda", "legacy": "Kato"},
        )

    known, unknown = await log(1), await log(99)

    async def appointment(who: Participant, status: AppointmentStatus) -> Appointment:
        return await Appointment.create(
            id=uuid.uuid4(),
            participant=who,
            pillar=Pillar.FAMILY,
            starts_at=EARLIER,
            ends_at=EARLIER + timedelta(hours=1),
            place="her home",
            what_to_bring="the birth certificate",
            family_message="we will come",
            latitude=0.3136,
            longitude=32.5811,
            status=status,
            created_by=officer,
        )

    open_one = await appointment(person, AppointmentStatus.SCHEDULED)
    held = await appointment(person, AppointmentStatus.DONE)
    someone_elses = await appointment(other, AppointmentStatus.CONFIRMED)
    relative = await world.user(org, Role.FAMILY)
    answer = await AppointmentResponse.create(
        id=uuid.uuid4(),
        appointment=open_one,
        author=relative,
        response="yes",
        message="my son is ill",
        base_version=1,
        content_hash="h",
        outcome="applied",
        received_at=EARLIER,
    )
    review = await ProgressReview.create(
        id=uuid.uuid4(),
        participant=person,
        officer=officer,
        family=ReviewStatus.ON_TRACK,
        education=ReviewStatus.ON_TRACK,
        vocational=ReviewStatus.ON_TRACK,
        counselling=ReviewStatus.ON_TRACK,
        summary="doing well",
        reviewed_on=date(2020, 2, 2),
    )
    goal = await PlanGoal.create(
        id=uuid.uuid4(), participant=person, pillar=Pillar.EDUCATION, text="finish school"
    )
    conflict = await Conflict.create(
        record_type="progress_review",
        record_id=review.id,
        organisation_id=org.id,
        author=officer,
        payload={"summary": "doing well"},
        content_hash="c",
        received_at=EARLIER,
    )

    (item,) = await retention.due(today=TODAY)
    # One event each: the person, 2 logs, 2 appointments, the review, the goal.
    assert await retention.run(today=TODAY, now=NOW) == [(item, 7)]

    erased = await Participant.get(id=person.id)
    assert (erased.full_name, erased.consent_given, erased.consent_date) == ("", False, None)
    assert erased.erased_at == NOW
    seq = erased.seq
    assert seq > 0
    logs = {log.id: log for log in await SessionLog.filter(participant_id=person.id)}
    # The form's choice stays, its text field is blanked, an unknown key goes.
    assert logs[known.id].answers == {"setting": "home_visit", "facilitator": ""}
    assert logs[unknown.id].answers == {}  # no such form: nothing can be classified
    for stored in logs.values():
        assert (stored.notes, stored.place, stored.review_comment) == ("", "", "")
        assert (stored.engagement, stored.seq) == (4, seq)
    for kept_apart, status in ((open_one, "cancelled"), (held, "done")):
        stored_a = await Appointment.get(id=kept_apart.id)
        assert (stored_a.place, stored_a.what_to_bring, stored_a.family_message) == ("", "", "")
        assert (stored_a.latitude, stored_a.longitude) == (None, None)
        assert (stored_a.status.value, stored_a.seq) == (status, seq)
    untouched = await Appointment.get(id=someone_elses.id)
    assert (untouched.status, untouched.place) == (AppointmentStatus.CONFIRMED, "her home")
    assert (await AppointmentResponse.get(id=answer.id)).message == ""
    stored_review = await ProgressReview.get(id=review.id)
    assert (stored_review.summary, stored_review.seq) == ("", seq)
    stored_goal = await PlanGoal.get(id=goal.id)
    assert (stored_goal.text, stored_goal.seq) == ("", seq)
    stored_conflict = await Conflict.get(id=conflict.id)
    assert (stored_conflict.payload, stored_conflict.seq) == ({}, seq)


async def test_the_trail_names_each_record_for_the_organisation(orm: None) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    person = await world.participant(org, officer, release_date=date(2020, 1, 1))
    log = await SessionLog.create(
        id=uuid.uuid4(),
        participant=person,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=EARLIER,
        duration_minutes=45,
        author=officer,
        attendance=Attendance.ATTENDED,
        content_hash="x",
    )
    appointment = await Appointment.create(
        id=uuid.uuid4(),
        participant=person,
        pillar=Pillar.FAMILY,
        starts_at=EARLIER,
        ends_at=EARLIER + timedelta(hours=1),
        created_by=officer,
    )
    review = await ProgressReview.create(
        id=uuid.uuid4(),
        participant=person,
        officer=officer,
        family=ReviewStatus.ON_TRACK,
        education=ReviewStatus.ON_TRACK,
        vocational=ReviewStatus.ON_TRACK,
        counselling=ReviewStatus.ON_TRACK,
        reviewed_on=date(2020, 2, 2),
    )
    goal = await PlanGoal.create(
        id=uuid.uuid4(), participant=person, pillar=Pillar.EDUCATION, text="x"
    )
    relative = await world.user(org, Role.FAMILY)
    await person.family.add(relative)
    # The operator of the command line has no organisation of their own.
    await retention.run(today=TODAY, now=NOW, actor=Actor(user_id=77))
    events = await AuditEvent.filter(action="retention.anonymised").order_by("id")
    assert [
        (e.object_type, e.object_id, e.detail, e.organisation_id, e.actor_id) for e in events
    ] == [
        ("participant", str(person.id), {"reason": "released"}, org.id, 77),
        ("session_log", str(log.id), {}, org.id, 77),
        ("appointment", str(appointment.id), {}, org.id, 77),
        ("progress_review", str(review.id), {}, org.id, 77),
        ("plan_goal", str(goal.id), {}, org.id, 77),
        ("user", str(relative.id), {}, org.id, 77),
    ]


async def session_of(user: User) -> None:
    await LoginSession.create(
        token_hash=secrets.token_hex(32),
        user=user,
        csrf_token="c",
        created_at=EARLIER,
        last_seen_at=EARLIER,
    )


async def feed_of(user: User, revoked_at: datetime | None = None) -> CalendarFeed:
    return await CalendarFeed.create(
        token_hash=secrets.token_hex(32), user=user, created_at=EARLIER, revoked_at=revoked_at
    )


async def invitation_for(
    org: Organisation, person: Participant, used_at: datetime | None = None
) -> Invitation:
    return await Invitation.create(
        token_hash=secrets.token_hex(32),
        organisation=org,
        role=Role.FAMILY,
        name="Sarah Kato",
        language="en",
        participant=person,
        expires_at=NOW + timedelta(hours=72),
        used_at=used_at,
    )


async def test_only_the_relatives_left_alone_lose_their_account(orm: None) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    person = await world.participant(org, officer, release_date=date(2020, 1, 1))
    staying = await world.participant(org, officer, full_name="Still Supported")
    # Erased before links ended with the person (an older version of retention).
    long_gone = await world.participant(org, officer, erased_at=EARLIER, full_name="")
    only_theirs = await world.user(org, Role.FAMILY, name="Sarah Kato")
    also_long_gone = await world.user(org, Role.FAMILY, name="Peter Kato")
    staying_relative = await world.user(org, Role.FAMILY, name="Grace Nabirye")
    no_relative_yet = await world.user(org, Role.FAMILY, name="Ruth Auma")
    # A staff account linked as a relative by mistake is never closed by retention.
    staff = await world.user(org, Role.WORKER, name="Brenda Achieng")
    await person.family.add(only_theirs, also_long_gone, staff)
    await long_gone.family.add(also_long_gone)
    await staying.family.add(staying_relative)
    for user in (only_theirs, also_long_gone, staying_relative, no_relative_yet, staff):
        await session_of(user)
        await Passkey.create(
            user=user,
            credential_id=secrets.token_bytes(16),
            credential_key=secrets.token_urlsafe(16),
            public_key=b"k",
        )
    revoked_before = await feed_of(only_theirs, revoked_at=EARLIER)
    live = await feed_of(only_theirs)
    others_feed = await feed_of(staying_relative)
    pending = await invitation_for(org, person)
    used = await invitation_for(org, person, used_at=EARLIER)
    someone_elses = await invitation_for(org, staying)

    await retention.run(today=TODAY, now=NOW)

    accounts = {u.id: (u.is_active, u.name) for u in await User.filter(role=Role.FAMILY)}
    assert accounts == {
        only_theirs.id: (False, ""),
        also_long_gone.id: (False, ""),
        staying_relative.id: (True, "Grace Nabirye"),
        no_relative_yet.id: (True, "Ruth Auma"),
    }
    kept = {staying_relative.id, no_relative_yet.id, staff.id}
    assert set(await LoginSession.all().values_list("user_id", flat=True)) == kept
    assert set(await Passkey.all().values_list("user_id", flat=True)) == kept
    assert (await User.get(id=staff.id)).is_active
    assert (await CalendarFeed.get(id=revoked_before.id)).revoked_at == EARLIER
    assert (await CalendarFeed.get(id=live.id)).revoked_at == NOW
    assert (await CalendarFeed.get(id=others_feed.id)).revoked_at is None
    invitations = {i.id: (i.name, i.expires_at) for i in await Invitation.all().order_by("id")}
    assert invitations == {
        pending.id: ("", NOW),
        used.id: ("", NOW + timedelta(hours=72)),
        someone_elses.id: ("Sarah Kato", NOW + timedelta(hours=72)),
    }


async def test_both_link_tables_are_emptied_for_the_person(
    orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    person = await world.participant(org, officer, release_date=date(2020, 1, 1))
    tables: list[str] = []
    real = retention._delete_links

    async def spy(conn: Any, table: str, ids: list[uuid.UUID]) -> None:
        tables.append(table)  # the names must match exactly: PostgreSQL quotes them
        await real(conn, table, ids)

    monkeypatch.setattr(retention, "_delete_links", spy)
    await retention.run(today=TODAY, now=NOW)
    assert tables == ["participant_worker", "participant_family"]
    assert (await Participant.get(id=person.id)).erased_at == NOW


class Recording:
    """Stands in for a connection: keeps the statement instead of running it."""

    def __init__(self, dialect: str) -> None:
        self.capabilities = SimpleNamespace(dialect=dialect)
        self.sent: list[tuple[str, list[Any]]] = []

    async def execute_query(self, query: str, values: list[Any]) -> None:
        self.sent.append((query, values))


@pytest.mark.parametrize(
    ("dialect", "marks", "as_text"),
    [("postgres", "$1, $2", False), ("sqlite", "?, ?", True)],
)
async def test_the_link_statement_speaks_each_dialect(
    dialect: str, marks: str, as_text: bool
) -> None:
    # asyncpg binds UUIDs as they are, with numbered marks; SQLite stores
    # them as text and takes question marks. Both run for real in
    # test_retention_schema.py on their own database.
    one, two = uuid.uuid4(), uuid.uuid4()
    conn = Recording(dialect)
    await retention._delete_links(conn, "participant_family", [one, two])
    values = [str(one), str(two)] if as_text else [one, two]
    assert conn.sent == [
        (f'DELETE FROM "participant_family" WHERE participant_id IN ({marks})', values)
    ]
    assert all(type(v) is (str if as_text else uuid.UUID) for v in conn.sent[0][1])


async def test_session_logs_are_written_in_batches(
    orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await organisation()
    officer = await world.user(org, Role.OFFICER)
    person = await world.participant(org, officer, release_date=date(2020, 1, 1))
    for _ in range(3):
        await SessionLog.create(
            id=uuid.uuid4(),
            participant=person,
            pillar=Pillar.FAMILY,
            form_version=1,
            occurred_at=EARLIER,
            duration_minutes=45,
            author=officer,
            attendance=Attendance.ATTENDED,
            notes="note",
            content_hash="x",
        )
    batches: list[int] = []
    real = SessionLog.bulk_update

    def counting(objects: Any, fields: Any, batch_size: int | None = None, **kw: Any) -> Any:
        batches.append(batch_size or len(objects))
        return real(objects, fields, batch_size=batch_size, **kw)

    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(SessionLog, "bulk_update", counting)
    await retention.run(today=TODAY, now=NOW)
    assert batches == [2]  # 3 logs in statements of at most 2 rows
    assert await SessionLog.filter(notes="").count() == 3
