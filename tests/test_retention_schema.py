"""Retention leaves nothing: driven by the schema, not by a list of columns.

Every model linked to a participant (reached from a participant or from a
family member through foreign keys, and the sync conflicts that point at
their records by id) has each text, char and JSON column either seeded with
a canary here or named below as unable to hold personal data, with the
reason. After the retention run no canary is left anywhere in the database,
in any table. A new column added later fails ``test_every_column_is_seeded``
until it is seeded here (and then erased) or explained.
"""

from __future__ import annotations

import contextvars
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tortoise import Tortoise, connections, fields
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.models import Model

from server import retention
from server.accounts.models import Challenge, Invitation, LoginSession, Passkey, User
from server.appointments.models import Appointment
from server.assessments.models import AcceptedGoal, NeedsAssessment
from server.enums import AppointmentStatus, Attendance, Pillar, ReviewStatus, Role
from server.family.models import AppointmentResponse, CalendarFeed, PushSubscription
from server.orgs.models import Organisation
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.referrals.models import Referral, ReferralKind, ReferralStatus
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from tests.conftest import _empty_tables
from tests.support import world

CANARY = "CANARY-b7e1"
TODAY = datetime.now(UTC).date()

# Columns that cannot hold personal data, each with the reason. Enum columns
# (a fixed list of words) are left out automatically.
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("participant", "code"): "the pseudonymous code the indicators keep",
    ("participant", "language"): "one of five language codes",
    ("user", "language"): "one of five language codes",
    ("user", "time_zone"): "one of four time-zone names",
    ("passkey", "credential_key"): "the authenticator's random credential id",
    ("passkey", "transports"): "kinds of connection (usb, internal), from a short list",
    ("invitation", "token_hash"): "hash of a random token",
    ("invitation", "language"): "one of five language codes",
    ("invitation", "countries"): "country codes a coordinator will see (KZ, TN, UG)",
    ("login_session", "token_hash"): "hash of a random token",
    ("login_session", "csrf_token"): "a random token",
    ("challenge", "id"): "hash of a random token",
    ("challenge", "ceremony"): "one of three ceremony names",
    ("calendar_feed", "token_hash"): "hash of a random token",
    ("calendar_feed", "seed"): "random bytes the link's token is derived from",
    ("appointment_response", "response"): "yes / no / maybe",
    ("appointment_response", "content_hash"): "a SHA-256 digest",
    ("appointment_response", "outcome"): "applied / conflict",
    ("session_log", "content_hash"): "a SHA-256 digest",
    ("sync_conflict", "record_type"): "the name of a table",
    ("sync_conflict", "content_hash"): "a SHA-256 digest",
    ("sync_conflict", "resolution"): "kept / replaced",
    ("push_subscription", "endpoint_hash"): "a SHA-256 digest of the endpoint",
    ("push_subscription", "p256dh"): "a public key the phone made for this subscription",
    ("push_subscription", "auth"): "random bytes the phone made for this subscription",
    ("reminder_sent", "kind"): "one of five words (day_before, morning, moved…)",
    ("referral", "pillars"): "pillar names from the list of four, comma-separated",
}

# What the seed below fills with a canary, by table and column.
SEEDED = {
    ("participant", "full_name"),
    ("user", "name"),
    ("passkey", "name"),
    ("invitation", "name"),
    ("login_session", "ip"),
    ("login_session", "device"),
    ("session_log", "place"),
    ("session_log", "notes"),
    ("session_log", "review_comment"),
    ("session_log", "answers"),
    ("session_log_revision", "snapshot"),
    ("appointment", "place"),
    ("appointment", "what_to_bring"),
    ("appointment", "family_message"),
    ("appointment_response", "message"),
    ("progress_review", "summary"),
    ("plan_goal", "text"),
    ("sync_conflict", "payload"),
    ("push_subscription", "endpoint"),
    ("needs_assessment", "answers"),
    ("needs_assessment", "risk_note"),
    ("needs_assessment", "general_note"),
    ("referral", "reason"),
}


def _models() -> list[type[Model]]:
    return list(Tortoise.apps["models"].values())


def _linked() -> set[type[Model]]:
    """Participant, User (the family member) and every model that points at
    them through foreign keys, transitively; Conflict points by record id."""
    found: set[type[Model]] = {Participant, User, Conflict}
    grew = True
    while grew:
        grew = False
        for model in _models():
            if model in found:
                continue
            targets = {model._meta.fields_map[name].related_model for name in model._meta.fk_fields}
            if targets & found:
                found.add(model)
                grew = True
    return found


def _text_columns(model: type[Model]) -> set[tuple[str, str]]:
    columns = set()
    for name, field in model._meta.fields_map.items():
        if isinstance(field, fields.data.CharEnumFieldInstance):
            continue
        if isinstance(field, fields.CharField | fields.TextField | fields.JSONField):
            columns.add((model._meta.db_table, field.source_field or name))
    return columns


def test_every_column_is_seeded_or_explained(orm: None) -> None:
    linked = _linked()
    assert {m._meta.db_table for m in linked} >= {
        "participant",
        "session_log",
        "appointment",
        "appointment_response",
        "plan_goal",
        "progress_review",
        "invitation",
        "sync_conflict",
        "passkey",
    }
    columns = set().union(*(_text_columns(m) for m in linked))
    unexplained = columns - SEEDED - set(NOT_PERSONAL)
    assert unexplained == set(), (
        "seed these with a canary, or explain why they cannot hold personal data"
    )
    assert columns >= SEEDED and set(NOT_PERSONAL) <= columns


def canary(column: str, n: int) -> str:
    return f"{CANARY}:{column}:{n}"


async def seed(org: Organisation, officer: User, worker: User, n: int) -> Participant:
    """One participant due for erasure, with a canary in every seeded column."""
    now = datetime.now(UTC)
    participant = await world.participant(
        org,
        officer,
        full_name=canary("participant.full_name", n),
        date_of_birth=date(1990, 3, 14),
        release_date=TODAY - timedelta(days=6 * 365),
    )
    await participant.workers.add(worker)
    await ConsentRecord.create(participant=participant, given=True, on_date=TODAY)
    relative = await world.user(org, Role.FAMILY, name=canary("user.name", n))
    await participant.family.add(relative)
    await Passkey.create(
        user=relative,
        credential_id=secrets.token_bytes(16),
        credential_key=secrets.token_urlsafe(16),
        public_key=b"k",
        name=canary("passkey.name", n),
    )
    await LoginSession.create(
        token_hash=secrets.token_hex(32),
        user=relative,
        csrf_token="c",
        created_at=now,
        last_seen_at=now,
        ip=canary("ip", n)[:64],
        device=canary("login_session.device", n),
    )
    await CalendarFeed.create(token_hash=secrets.token_hex(32), user=relative, created_at=now)
    await PushSubscription.create(
        user=relative,
        endpoint_hash=secrets.token_hex(32),
        endpoint="https://push.example.com/" + canary("push_subscription.endpoint", n),
        p256dh="p",
        auth="a",
        created_at=now,
    )
    invitation = await Invitation.create(
        token_hash=secrets.token_hex(32),
        organisation=org,
        role=Role.FAMILY,
        name=canary("invitation.name", n),
        language="en",
        participant=participant,
        created_by=officer,
        expires_at=now + timedelta(hours=72),
    )
    await Challenge.create(
        id=secrets.token_hex(32),
        ceremony="register",
        challenge=b"c",
        invitation=invitation,
        expires_at=now + timedelta(minutes=5),
    )
    log = await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=now - timedelta(days=400),
        duration_minutes=45,
        author=worker,
        attendance=Attendance.ATTENDED,
        engagement=4,
        notes=canary("session_log.notes", n),
        place=canary("session_log.place", n),
        review_comment=canary("session_log.review_comment", n),
        content_hash="x",
        # A text answer of the form, and a key no form knows (an old client).
        answers={
            "facilitator": canary("answers.facilitator", n),
            "legacy_key": canary("answers.legacy", n),
        },
    )
    await SessionLogRevision.create(
        session_log=log,
        revision=1,
        snapshot={"notes": canary("session_log_revision.snapshot", n)},
        edited_by=worker,
    )
    appointment = await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=now - timedelta(days=300),
        ends_at=now - timedelta(days=300) + timedelta(hours=1),
        place=canary("appointment.place", n),
        what_to_bring=canary("appointment.what_to_bring", n),
        family_message=canary("appointment.family_message", n),
        created_by=officer,
    )
    answer = await AppointmentResponse.create(
        id=uuid.uuid4(),
        appointment=appointment,
        author=relative,
        response="yes",
        message=canary("appointment_response.message", n),
        base_version=1,
        content_hash="h",
        outcome="conflict",
        received_at=now,
    )
    review = await ProgressReview.create(
        id=uuid.uuid4(),
        participant=participant,
        officer=officer,
        family=ReviewStatus.ON_TRACK,
        education=ReviewStatus.ON_TRACK,
        vocational=ReviewStatus.ON_TRACK,
        counselling=ReviewStatus.ON_TRACK,
        summary=canary("progress_review.summary", n),
        reviewed_on=TODAY,
    )
    goal = await PlanGoal.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.EDUCATION,
        text=canary("plan_goal.text", n),
    )
    assessment = await NeedsAssessment.create(
        id=uuid.uuid4(),
        participant=participant,
        officer=officer,
        form_version=1,
        assessed_on=TODAY,
        # A free-text answer, a choice, and a key the declaration does not know.
        answers={
            "education_learn": canary("needs_assessment.answers", n),
            "education_need": "high",
            "legacy_key": canary("needs_assessment.legacy", n),
        },
        risk_note=canary("needs_assessment.risk_note", n),
        general_note=canary("needs_assessment.general_note", n),
    )
    await AcceptedGoal.create(assessment=assessment, pillar=Pillar.EDUCATION, goal=goal)
    # One partner for every seeded person: the run's queries are counted
    # per organisation, and a partner holds no participant of its own.
    partner = await Organisation.filter(name="Partner NGO").first() or await world.organisation(
        "Partner NGO"
    )
    await Referral.create(
        id=uuid.uuid4(),
        participant=participant,
        from_organisation=org,
        to_organisation=partner,
        kind=ReferralKind.REFERRAL,
        pillars="education",
        consent_recorded_by=officer,
        consent_recorded_at=now,
        valid_until=TODAY,
        expires_at=now,
        status=ReferralStatus.ENDED,
        reason=canary("referral.reason", n),
    )
    for kind, record_id, author in (
        ("session_log", log.id, worker),
        ("appointment", appointment.id, officer),
        ("appointment_response", answer.id, relative),
        ("progress_review", review.id, officer),
    ):
        await Conflict.create(
            record_type=kind,
            record_id=record_id,
            organisation_id=org.id,
            author=author,
            payload={"text": canary(f"sync_conflict.payload.{kind}", n)},
            content_hash=secrets.token_hex(32),
            received_at=now,
        )
    return participant


async def canaries_left() -> list[str]:
    """Every cell of every table (and M2M table) that still holds a canary."""
    conn = connections.get("default")
    tables = {m._meta.db_table for m in _models()}
    found = []
    for table in sorted(tables):
        _, rows = await conn.execute_query(f'SELECT * FROM "{table}"')
        for row in rows:
            for column, value in dict(row).items():
                if CANARY in str(value):
                    found.append(f"{table}.{column}: {value}")
    return found


async def world_with(due: int) -> tuple[Organisation, list[Participant], User]:
    org = await world.organisation()
    org.retention_days = 5 * 365
    await org.save()
    officer = await world.user(org, Role.OFFICER, name="Officer Amina")
    worker = await world.user(org, Role.WORKER, name="Worker Brenda")
    people = [await seed(org, officer, worker, n) for n in range(due)]
    return org, people, worker


async def test_retention_leaves_no_canary_anywhere(orm: None) -> None:
    _, people, worker = await world_with(2)
    assert len(await canaries_left()) > 2 * len(SEEDED)  # the seed reached every column
    await retention.run(today=TODAY, now=datetime.now(UTC))
    assert await canaries_left() == []
    # Emptied, not overwritten with something else: the decline's reason is gone.
    assert [r.reason for r in await Referral.all()] == ["", ""]
    for person in people:
        erased = await Participant.get(id=person.id)
        assert erased.erased_at is not None
        # Caseload links and consent end with the person.
        assert await erased.workers.all().count() == 0
        assert await erased.family.all().count() == 0
        assert erased.consent_given is False and erased.consent_date is None
        # What the indicators count stays.
        assert erased.date_of_birth == date(1990, 3, 14)
    assert [log.engagement for log in await SessionLog.all()] == [4, 4]
    # Their open appointments are called off (the past ones were open too).
    assert {a.status for a in await Appointment.all()} == {AppointmentStatus.CANCELLED}
    assert await worker.caseload.all().count() == 0
    # The family members' accounts, sessions, keys and calendar feeds go with them.
    family = await User.filter(role=Role.FAMILY)
    assert [u.is_active for u in family] == [False, False]
    assert await LoginSession.all().count() == 0
    assert await Passkey.filter(revoked_at=None).count() == 0
    assert await CalendarFeed.filter(revoked_at=None).count() == 0
    # Their unused invitations can no longer enrol anyone.
    assert await Invitation.filter(expires_at__gt=datetime.now(UTC), used_at=None).count() == 0
    assert await Challenge.all().count() == 0
    assert await retention.due(today=TODAY) == []


_depth = contextvars.ContextVar("depth", default=0)


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement sent, counted once (not again by a wrapper's super())."""
    sent: list[str] = []
    classes: list[type] = [SqliteClient, SqliteTransactionWrapper]
    try:
        from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper

        classes += [AsyncpgDBClient, TransactionWrapper]
    except ImportError:  # asyncpg missing: SQLite only
        pass
    for cls in classes:
        for name in ("execute_query", "execute_insert", "execute_many", "execute_query_dict"):
            if name in vars(cls):
                monkeypatch.setattr(cls, name, _counting(getattr(cls, name), sent))
    yield sent


def _counting(method: Callable[..., Any], sent: list[str]) -> Callable[..., Any]:
    async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        token = _depth.set(_depth.get() + 1)
        try:
            if _depth.get() == 1:
                sent.append(query)
            return await method(self, query, *args, **kwargs)
        finally:
            _depth.reset(token)

    return counted


async def test_the_run_costs_the_same_queries_for_two_or_seven_people(
    orm: None, queries: list[str]
) -> None:
    await world_with(2)
    queries.clear()
    await retention.run(today=TODAY, now=datetime.now(UTC))
    for_two = len(queries)
    await _empty_tables()
    await world_with(7)
    queries.clear()
    await retention.run(today=TODAY, now=datetime.now(UTC))
    assert len(queries) == for_two, "\n".join(queries)
    assert await canaries_left() == []


async def test_a_relative_of_two_keeps_the_account_for_the_other(orm: None) -> None:
    org, (due_person,), _ = await world_with(1)
    officer = await User.get(name="Officer Amina")
    staying = await world.participant(org, officer, full_name="Still Supported")
    (relative,) = await due_person.family.all()
    await staying.family.add(relative)
    await retention.run(today=TODAY, now=datetime.now(UTC))
    kept = await User.get(id=relative.id)
    assert kept.is_active and kept.name == canary("user.name", 0)
    assert [p.id for p in await kept.relatives.all()] == [staying.id]
    assert await Passkey.filter(user_id=relative.id).count() == 1
    assert (await Participant.get(id=staying.id)).full_name == "Still Supported"
