"""Referrals at the service and policy level (server/referrals/, server/policy.py):
who reaches a referred participant, for which pillars, until when; what a
phone pulls; what is refused and what the trail says. Every expected value
is written out by hand (docs/referrals.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import Actor
from server.enums import AppointmentStatus, Attendance, Country, Gender, Pillar, Role
from server.errors import Invalid, NotFound
from server.forms import get_form
from server.forms.validator import Result, validate
from server.indicators import services as indicators
from server.indicators.period import Period
from server.orgs.models import Organisation
from server.participants import services as participants
from server.participants.forms import ParticipantInput
from server.participants.models import Participant, PlanGoal
from server.referrals import labels
from server.referrals import services as referrals
from server.referrals.models import Referral, ReferralKind, ReferralStatus
from server.sessions import batch
from server.sessions import services as sessions
from server.sessions.models import SessionLog
from server.sync import services as sync
from tests.support import world

pytestmark = pytest.mark.usefixtures("orm")

NOW = datetime.now(UTC)
TODAY = NOW.date()
DAY = (NOW - timedelta(days=1)).date().isoformat()


def actor(user: User) -> Actor:
    return Actor(user.id, user.organisation_id, "10.0.0.7", "test")


class World:
    home: Organisation
    partner: Organisation
    elsewhere: Organisation
    officer: User
    own_worker: User
    partner_officer: User
    partner_admin: User
    partner_worker: User
    other_partner_worker: User
    stranger: User
    participant: Participant


async def setting() -> World:
    w = World()
    w.home = await world.organisation("Probation Almaty", Country.KAZAKHSTAN)
    w.partner = await world.organisation("Hope NGO", Country.KAZAKHSTAN)
    w.elsewhere = await world.organisation("Unrelated NGO", Country.UGANDA)
    w.officer = await world.user(w.home, Role.OFFICER, name="Aliya Nurlanova")
    w.own_worker = await world.user(w.home, Role.WORKER, name="Daniyar Sapar")
    w.partner_officer = await world.user(w.partner, Role.OFFICER, name="Olga Petrova")
    w.partner_admin = await world.user(w.partner, Role.ADMIN, name="Ivan Admin")
    w.partner_worker = await world.user(w.partner, Role.WORKER, name="Marat Worker")
    w.other_partner_worker = await world.user(w.partner, Role.WORKER, name="Saule Worker")
    w.stranger = await world.user(w.elsewhere, Role.WORKER, name="Brenda Achieng")
    w.participant = await world.participant(
        w.home, w.officer, full_name="Aigerim Sadykova", gender=Gender.FEMALE
    )
    await w.participant.workers.add(w.own_worker)
    return w


async def refer(w: World, pillars: list[Pillar] | None = None, **kw: Any) -> Referral:
    return await referrals.refer(
        officer=w.officer,
        participant=w.participant,
        to_organisation_id=kw.pop("to", w.partner.id),
        kind=kw.pop("kind", ReferralKind.REFERRAL),
        pillars=[Pillar.FAMILY] if pillars is None else pillars,
        share_goals=kw.pop("share_goals", False),
        valid_until=kw.pop("valid_until", TODAY + timedelta(days=30)),
        consent_confirmed=kw.pop("consent_confirmed", True),
        today=TODAY,
        now=NOW,
        actor=actor(w.officer),
    )


async def accepted(w: World, pillars: list[Pillar] | None = None) -> Referral:
    made = await refer(w, pillars)
    got = await policy.referral_to_decide(w.partner_officer, made.id, actor(w.partner_officer))
    return await referrals.accept(
        user=w.partner_officer,
        referral=got,
        worker_ids=[w.partner_worker.id],
        now=NOW,
        actor=actor(w.partner_officer),
    )


async def codes_pulled(user: User) -> list[tuple[str, list[str]]]:
    body = await sync.pull(user=user, since=0, forms_hash="", now=NOW)
    return [(p["code"], p["pillars"]) for p in body["participants"]]


def family_log(participant: Participant) -> Result:
    values = {
        "participant": str(participant.id),
        "occurred_on": DAY,
        "occurred_time": "09:15",
        "attendance": "attended",
        "duration_minutes": 60,
        "place": "Hope NGO office",
        "engagement": 3,
        "notes": "Talked about her mother.",
        "follow_up": "no",
        "family_present": ["mother"],
        "setting": "office",
        "family_readiness": 4,
        "family_concerns": ["none"],
    }
    result = validate(get_form("family", 1), values, now=NOW)
    assert result.ok, result.errors
    return result


async def log(author: User, participant: Participant, log_id: uuid.UUID | None = None) -> Any:
    return await sessions.record_log(
        author=author,
        log_id=log_id or uuid.uuid4(),
        result=family_log(participant),
        appointment_id=None,
        now=NOW,
        actor=actor(author),
    )


async def seq_of(participant: Participant) -> int:
    return (await policy.row(participant).get()).seq


# --- making a referral ---


async def test_a_referral_needs_a_partner_pillars_a_future_date_and_consent() -> None:
    w = await setting()
    programme = await world.organisation("Programme office", Country.KAZAKHSTAN)
    programme.is_programme = True
    await programme.save()
    for kw in (
        {"to": w.home.id},  # its own organisation
        {"to": programme.id},  # the programme's office serves nobody
        {"to": "not a number"},
        {"pillars": []},
        {"valid_until": TODAY - timedelta(days=1)},
        {"valid_until": None},
        {"consent_confirmed": False},
    ):
        with pytest.raises(Invalid):
            await refer(w, **kw)
    assert await Referral.all().count() == 0


async def test_withdrawn_consent_refuses_a_new_referral() -> None:
    w = await setting()
    await policy.row(w.participant).update(consent_given=False)
    w.participant = await policy.row(w.participant).get()
    with pytest.raises(Invalid):
        await refer(w)
    assert await Referral.all().count() == 0


def test_expiry_is_the_end_of_the_day_in_the_referring_organisations_zone() -> None:
    # Kampala is UTC+3 all year: 1 March ends at 21:00 UTC.
    assert referrals.expiry(date(2026, 3, 1), "Africa/Kampala") == datetime(
        2026, 3, 1, 21, 0, tzinfo=UTC
    )
    assert referrals.expiry(date(2026, 3, 1), "UTC") == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


async def test_a_new_referral_is_pending_and_audited_in_both_trails() -> None:
    w = await setting()
    made = await refer(w, [Pillar.FAMILY, Pillar.EDUCATION], share_goals=True)
    stored = await Referral.get(id=made.id)
    assert stored.status is ReferralStatus.PENDING
    assert stored.pillars == "education,family"
    assert referrals.pillar_list(stored) == [Pillar.EDUCATION, Pillar.FAMILY]
    assert (stored.from_organisation_id, stored.to_organisation_id) == (w.home.id, w.partner.id)
    assert stored.consent_recorded_by_id == w.officer.id and stored.share_goals is True
    (event,) = await AuditEvent.filter(action="referral.created")
    assert (event.organisation_id, event.object_organisation_id) == (w.home.id, w.partner.id)
    assert event.detail == {"participant": str(w.participant.id), "kind": "referral"}
    # Pending: nobody of the partner reaches the participant yet.
    assert await codes_pulled(w.partner_worker) == []
    # The partner's inbox has it; an unrelated organisation's has nothing.
    assert [r.id for r in await policy.referrals_received(w.partner_officer)] == [made.id]
    assert [r.id for r in await policy.referrals_received(w.partner_admin)] == [made.id]
    assert await policy.referrals_received(w.partner_worker) == []
    assert await policy.referrals_received(w.stranger) == []
    assert [r.id for r in await policy.referrals_made(w.officer)] == [made.id]


# --- who reaches the participant, and the pull ---


async def test_accepting_puts_the_participant_on_the_assigned_workers_phone_only() -> None:
    w = await setting()
    before = await seq_of(w.participant)
    referral = await accepted(w, [Pillar.FAMILY, Pillar.COUNSELLING])
    assert (
        referral.status is ReferralStatus.ACTIVE and referral.decided_by_id == w.partner_officer.id
    )
    assert await seq_of(w.participant) > before
    code = w.participant.code
    assert await codes_pulled(w.partner_worker) == [(code, ["counselling", "family"])]
    assert await codes_pulled(w.other_partner_worker) == []
    assert await codes_pulled(w.stranger) == []
    assert await codes_pulled(w.own_worker) == [
        (code, ["counselling", "education", "family", "vocational"])
    ]
    # No name reaches the phone: only the code.
    body = await sync.pull(user=w.partner_worker, since=0, forms_hash="", now=NOW)
    assert "Aigerim" not in str(body) and "Sadykova" not in str(body)
    # The partner's officer and admin manage the referral but never read the record.
    for user in (w.partner_officer, w.partner_admin, w.stranger):
        assert await policy.participants_for(user) == []


async def test_the_pull_that_takes_a_referred_participant_is_in_both_trails() -> None:
    w = await setting()
    await accepted(w)
    await sync.pull(
        user=w.partner_worker, since=0, forms_hash="", now=NOW, actor=actor(w.partner_worker)
    )
    (event,) = await AuditEvent.filter(action="referral.caseload.read")
    assert (event.organisation_id, event.object_organisation_id) == (w.partner.id, w.home.id)
    assert event.detail == {"participants": 1}
    # A pull of one's own caseload only writes no such event.
    await sync.pull(user=w.own_worker, since=0, forms_hash="", now=NOW, actor=actor(w.own_worker))
    assert await AuditEvent.filter(action="referral.caseload.read").count() == 1


@pytest.mark.parametrize("ending", ["end", "end_by_partner", "withdraw", "expiry"])
async def test_every_ending_takes_the_participant_off_the_partners_phone(ending: str) -> None:
    w = await setting()
    referral = await accepted(w)
    code = w.participant.code
    assert await codes_pulled(w.partner_worker) == [(code, ["family"])]
    written = await log(w.partner_worker, w.participant)
    before = await seq_of(w.participant)
    if ending == "end":
        mine = await policy.referral_to_end(w.officer, referral.id, actor(w.officer))
        await referrals.end(
            user=w.officer, referral=mine, reason="Goals met", now=NOW, actor=actor(w.officer)
        )
        assert await seq_of(w.participant) > before
    elif ending == "end_by_partner":
        theirs = await policy.referral_to_end(w.partner_admin, referral.id, actor(w.partner_admin))
        await referrals.end(
            user=w.partner_admin,
            referral=theirs,
            reason="No places",
            now=NOW,
            actor=actor(w.partner_admin),
        )
        assert await seq_of(w.participant) > before
    elif ending == "withdraw":
        data = ParticipantInput(
            full_name="Aigerim Sadykova",
            gender=Gender.FEMALE,
            date_of_birth=None,
            release_date=None,
            language="en",
            consent_given=False,
            consent_date=TODAY,
            worker_ids=frozenset({w.own_worker.id}),
        )
        await participants.update(
            officer=w.officer,
            participant=w.participant,
            data=data,
            today=TODAY,
            actor=actor(w.officer),
        )
        assert (await Referral.get(id=referral.id)).status is ReferralStatus.WITHDRAWN
        assert await seq_of(w.participant) > before
    else:
        # Past the end of its until-date: nothing is stored, the query decides.
        await Referral.filter(id=referral.id).update(expires_at=NOW - timedelta(minutes=1))
    assert await codes_pulled(w.partner_worker) == []
    assert await policy.participants_for(w.partner_worker) == []
    # The log already written stays in the record, read by the referring
    # officer; its author no longer reads it.
    assert [x.id for x in await policy.logs_for(w.officer)] == [written.log.id]
    assert await policy.logs_for(w.partner_worker) == []
    assert await policy.pull_logs(w.partner_worker, since=0, bound=10**9) == []
    # And nothing new is accepted from the partner's phone.
    with pytest.raises(NotFound):
        await log(w.partner_worker, w.participant)
    assert await SessionLog.all().count() == 1


async def test_a_declined_referral_gives_no_access_and_keeps_its_reason() -> None:
    w = await setting()
    made = await refer(w)
    got = await policy.referral_to_decide(w.partner_admin, made.id, actor(w.partner_admin))
    with pytest.raises(Invalid):
        await referrals.decline(
            user=w.partner_admin, referral=got, reason="  ", now=NOW, actor=actor(w.partner_admin)
        )
    done = await referrals.decline(
        user=w.partner_admin,
        referral=got,
        reason="We are full",
        now=NOW,
        actor=actor(w.partner_admin),
    )
    assert (done.status, done.reason) == (ReferralStatus.DECLINED, "We are full")
    assert await codes_pulled(w.partner_worker) == []
    (event,) = await AuditEvent.filter(action="referral.declined")
    assert (event.organisation_id, event.object_organisation_id) == (w.partner.id, w.home.id)


async def test_others_cannot_decide_or_end_a_referral() -> None:
    w = await setting()
    made = await refer(w)
    for user in (w.partner_worker, w.stranger, w.own_worker):
        with pytest.raises(NotFound):
            await policy.referral_to_decide(user, made.id, actor(user))
    with pytest.raises(NotFound):
        await policy.referral_to_decide(w.officer, made.id, actor(w.officer))  # the referring side
    for user in (w.partner_worker, w.stranger):
        with pytest.raises(NotFound):
            await policy.referral_to_end(user, made.id, actor(user))
    with pytest.raises(NotFound):
        await policy.referral_to_decide(w.partner_officer, "not-an-id", actor(w.partner_officer))


async def test_only_the_partners_active_workers_can_be_assigned() -> None:
    w = await setting()
    made = await refer(w)
    got = await policy.referral_to_decide(w.partner_officer, made.id, actor(w.partner_officer))
    for ids in ([], [w.own_worker.id], [w.stranger.id], [w.partner_officer.id]):
        with pytest.raises(Invalid):
            await referrals.accept(
                user=w.partner_officer,
                referral=got,
                worker_ids=ids,
                now=NOW,
                actor=actor(w.partner_officer),
            )
    assert (await Referral.get(id=made.id)).status is ReferralStatus.PENDING


async def test_reassigning_moves_the_participant_between_partner_phones() -> None:
    w = await setting()
    referral = await accepted(w)
    before = await seq_of(w.participant)
    got = await policy.referral_to_decide(w.partner_officer, referral.id, actor(w.partner_officer))
    assert await referrals.assign(
        user=w.partner_officer,
        referral=got,
        worker_ids=[w.other_partner_worker.id],
        actor=actor(w.partner_officer),
    ) == [w.other_partner_worker.id]
    assert await seq_of(w.participant) > before
    assert await codes_pulled(w.partner_worker) == []
    assert await codes_pulled(w.other_partner_worker) == [(w.participant.code, ["family"])]


# --- logging for referred pillars only ---


async def test_a_partner_logs_only_the_referred_pillars_online_and_in_a_batch() -> None:
    w = await setting()
    await accepted(w, [Pillar.EDUCATION])
    with pytest.raises(sessions.NotReferred) as refused:
        await log(w.partner_worker, w.participant)
    assert refused.value.code == "pillar_not_referred"
    answers = await batch.record_logs(
        author=w.partner_worker,
        logs=[batch.NewLog(uuid.uuid4(), family_log(w.participant))],
        now=NOW,
        actor=actor(w.partner_worker),
    )
    assert [type(a).__name__ for a in answers] == ["NotReferred"]
    assert sync._answer("k", answers[0]).as_json()["code"] == "pillar_not_referred"
    assert await SessionLog.all().count() == 0


async def test_a_partner_log_for_a_referred_pillar_is_read_by_the_referring_officer() -> None:
    w = await setting()
    await accepted(w, [Pillar.FAMILY])
    answers = await batch.record_logs(
        author=w.partner_worker,
        logs=[batch.NewLog(uuid.uuid4(), family_log(w.participant))],
        now=NOW,
        actor=actor(w.partner_worker),
    )
    stored = answers[0].log  # type: ignore[union-attr]
    assert [x.id for x in await policy.logs_for(w.officer)] == [stored.id]
    assert [x.id for x in await policy.logs_for(w.partner_worker)] == [stored.id]
    assert await policy.logs_for(w.own_worker) == []
    assert await policy.logs_for(w.other_partner_worker) == []
    # A log by the participant's own worker is not the partner's to read.
    own = await log(w.own_worker, w.participant)
    assert [x.id for x in await policy.logs_for(w.partner_worker)] == [stored.id]
    assert sorted(x.id for x in await policy.logs_for(w.officer)) == sorted([stored.id, own.log.id])
    # The referring organisation's figures of last contact are not shared.
    assert await policy.caseload_logs(w.partner_worker) == []


async def test_a_batch_arriving_after_the_end_is_refused_and_stores_nothing() -> None:
    w = await setting()
    referral = await accepted(w)
    mine = await policy.referral_to_end(w.officer, referral.id, actor(w.officer))
    await referrals.end(
        user=w.officer, referral=mine, reason="Done", now=NOW, actor=actor(w.officer)
    )
    answers = await batch.record_logs(
        author=w.partner_worker,
        logs=[batch.NewLog(uuid.uuid4(), family_log(w.participant))],
        now=NOW,
        actor=actor(w.partner_worker),
    )
    assert sync._answer("k", answers[0]).as_json()["code"] == "not_allowed"
    assert await SessionLog.all().count() == 0


# --- what the partner does not see ---


async def test_the_partner_sees_no_goals_appointments_reviews_or_consent_history() -> None:
    w = await setting()
    await PlanGoal.create(
        id=uuid.uuid4(), participant=w.participant, pillar=Pillar.FAMILY, text="Visit her mother"
    )
    await Appointment.create(
        id=uuid.uuid4(),
        participant=w.participant,
        pillar=Pillar.FAMILY,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        with_user=w.own_worker,
        created_by=w.officer,
        place="Probation office, room 4",
    )
    await accepted(w)
    assert [p.id for p in await policy.participants_for(w.partner_worker)] == [w.participant.id]
    assert await policy.goals_for(w.partner_worker) == []
    assert await policy.appointments_for(w.partner_worker) == []
    assert await policy.consents_for(w.partner_worker) == []
    assert await policy.reviews_for(w.partner_worker) == []
    assert await policy.assessments_for(w.partner_worker) == []
    body = await sync.pull(user=w.partner_worker, since=0, forms_hash="", now=NOW)
    assert "room 4" not in str(body) and "Visit her mother" not in str(body)


async def test_the_goals_of_the_referred_pillars_are_shared_only_when_consent_covers_them() -> None:
    w = await setting()
    for pillar, text in (
        (Pillar.EDUCATION, "Finish the reading course"),
        (Pillar.VOCATIONAL, "Learn sewing at the workshop"),
        (Pillar.COUNSELLING, "See the counsellor every week"),
    ):
        await PlanGoal.create(id=uuid.uuid4(), participant=w.participant, pillar=pillar, text=text)

    async def goals_seen(user: User) -> list[str]:
        return sorted(g.text for g in await policy.goals_for(user))

    # Consent covers the goals of education and vocational training.
    made = await refer(w, [Pillar.EDUCATION, Pillar.VOCATIONAL], share_goals=True)
    assert await goals_seen(w.partner_worker) == []  # pending: nothing yet
    got = await policy.referral_to_decide(w.partner_officer, made.id, actor(w.partner_officer))
    await referrals.accept(
        user=w.partner_officer,
        referral=got,
        worker_ids=[w.partner_worker.id],
        now=NOW,
        actor=actor(w.partner_officer),
    )
    assert await goals_seen(w.partner_worker) == [
        "Finish the reading course",
        "Learn sewing at the workshop",
    ]
    # Not to a worker of the partner who is not assigned, nor to another organisation.
    assert await goals_seen(w.other_partner_worker) == []
    assert await goals_seen(w.stranger) == []
    # The own organisation's worker still sees the whole plan.
    assert len(await goals_seen(w.own_worker)) == 3
    # Ended: the goals go with the participant.
    live = await policy.referral_to_end(w.officer, made.id, actor(w.officer))
    await referrals.end(
        user=w.officer, referral=live, reason="Course finished", now=NOW, actor=actor(w.officer)
    )
    assert await goals_seen(w.partner_worker) == []


async def test_without_consent_to_share_goals_the_partner_sees_none() -> None:
    w = await setting()
    await PlanGoal.create(
        id=uuid.uuid4(), participant=w.participant, pillar=Pillar.FAMILY, text="Call her sister"
    )
    await accepted(w, [Pillar.FAMILY])  # share_goals left unticked
    assert await policy.goals_for(w.partner_worker) == []


# --- races ---


async def test_two_decisions_at_once_one_wins() -> None:
    w = await setting()
    made = await refer(w)
    first = await policy.referral_to_decide(w.partner_officer, made.id, actor(w.partner_officer))
    second = await policy.referral_to_decide(w.partner_admin, made.id, actor(w.partner_admin))
    await referrals.accept(
        user=w.partner_officer,
        referral=first,
        worker_ids=[w.partner_worker.id],
        now=NOW,
        actor=actor(w.partner_officer),
    )
    with pytest.raises(referrals.Changed):
        await referrals.decline(
            user=w.partner_admin,
            referral=second,
            reason="Full",
            now=NOW,
            actor=actor(w.partner_admin),
        )
    assert (await Referral.get(id=made.id)).status is ReferralStatus.ACTIVE


async def test_an_end_racing_an_acceptance_leaves_no_access() -> None:
    w = await setting()
    made = await refer(w)
    to_accept = await policy.referral_to_decide(
        w.partner_officer, made.id, actor(w.partner_officer)
    )
    to_end = await policy.referral_to_end(w.officer, made.id, actor(w.officer))
    await referrals.end(
        user=w.officer, referral=to_end, reason="Changed my mind", now=NOW, actor=actor(w.officer)
    )
    with pytest.raises(referrals.Changed):
        await referrals.accept(
            user=w.partner_officer,
            referral=to_accept,
            worker_ids=[w.partner_worker.id],
            now=NOW,
            actor=actor(w.partner_officer),
        )
    assert await codes_pulled(w.partner_worker) == []
    assert (await Referral.get(id=made.id)).status is ReferralStatus.ENDED


# --- transfers ---


async def test_a_transfer_moves_the_whole_case_and_the_old_side_loses_it() -> None:
    w = await setting()
    appointment = await Appointment.create(
        id=uuid.uuid4(),
        participant=w.participant,
        pillar=Pillar.FAMILY,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        with_user=w.own_worker,
        created_by=w.officer,
    )
    made = await refer(w, [Pillar.FAMILY], kind=ReferralKind.TRANSFER)
    got = await policy.referral_to_decide(w.partner_admin, made.id, actor(w.partner_admin))
    with pytest.raises(Invalid):  # a transfer names who takes over
        await referrals.accept(
            user=w.partner_admin, referral=got, worker_ids=[], now=NOW, actor=actor(w.partner_admin)
        )
    await referrals.accept(
        user=w.partner_admin,
        referral=got,
        worker_ids=[w.partner_worker.id],
        officer_id=w.partner_officer.id,
        now=NOW,
        actor=actor(w.partner_admin),
    )
    moved = await policy.row(w.participant).get()
    assert (moved.organisation_id, moved.officer_id) == (w.partner.id, w.partner_officer.id)
    assert [p.id for p in await policy.participants_for(w.partner_officer)] == [w.participant.id]
    assert await codes_pulled(w.partner_worker) == [
        (w.participant.code, ["counselling", "education", "family", "vocational"])
    ]
    for old in (w.officer, w.own_worker):
        assert await policy.participants_for(old) == []
    assert (await Appointment.get(id=appointment.id)).status is AppointmentStatus.CANCELLED


async def test_withdrawing_inside_a_transaction_counts_the_open_referrals() -> None:
    w = await setting()
    await refer(w)
    await accepted(w, [Pillar.EDUCATION])
    async with in_transaction() as conn:
        ended = await referrals.withdraw_all(conn, w.participant, NOW, actor(w.officer))
    assert ended == 2
    statuses = sorted(r.status.value for r in await Referral.all())
    assert statuses == ["withdrawn", "withdrawn"]


# --- accountability: both trails, and the figures ---


async def test_a_partners_read_and_log_are_in_both_trails() -> None:
    w = await setting()
    await accepted(w)
    await participants.read(
        user=w.partner_worker, participant_id=w.participant.id, actor=actor(w.partner_worker)
    )
    written = await log(w.partner_worker, w.participant)
    (read,) = await AuditEvent.filter(action="participant.read")
    assert (read.organisation_id, read.object_organisation_id) == (w.partner.id, w.home.id)
    (stored,) = await AuditEvent.filter(action="session_log.stored")
    assert (stored.organisation_id, stored.object_organisation_id) == (w.partner.id, w.home.id)
    assert stored.object_id == str(written.log.id)
    # The participant's own worker's read concerns one organisation only.
    await participants.read(
        user=w.own_worker, participant_id=w.participant.id, actor=actor(w.own_worker)
    )
    own = await AuditEvent.filter(action="participant.read").order_by("-id").first()
    assert own is not None and (own.organisation_id, own.object_organisation_id) == (
        w.home.id,
        None,
    )


async def test_figures_count_each_participant_once_per_organisation_that_served_them() -> None:
    w = await setting()
    await accepted(w, [Pillar.FAMILY])
    await log(w.partner_worker, w.participant)  # the partner's session
    await log(w.own_worker, w.participant)  # the probation service's own
    await log(w.own_worker, w.participant)
    # A second participant of the probation service, never referred.
    other = await world.participant(w.home, w.officer, gender=Gender.MALE)
    await other.workers.add(w.own_worker)
    await log(w.own_worker, other)
    period = Period(first=TODAY - timedelta(days=3), last=TODAY, tz=UTC)
    home = await indicators.compute(user=w.officer, period=period, actor=actor(w.officer))
    partner = await indicators.compute(
        user=w.partner_admin, period=period, actor=actor(w.partner_admin)
    )
    elsewhere_admin = await world.user(w.elsewhere, Role.ADMIN)
    nobody = await indicators.compute(
        user=elsewhere_admin, period=period, actor=actor(elsewhere_admin)
    )
    # Probation: its two participants once each, all four sessions (the
    # partner's too, of its participant).
    assert home.supported_total == 2
    assert home.sessions == {(Pillar.FAMILY, Attendance.ATTENDED): 4}
    # The partner: the one participant it served, its one session.
    assert partner.supported_total == 1
    assert partner.supported_by_gender(Gender.FEMALE) == 1
    assert partner.sessions == {(Pillar.FAMILY, Attendance.ATTENDED): 1}
    assert (nobody.supported_total, nobody.sessions) == (0, {})


# --- edges ---


async def test_the_second_of_two_identical_decisions_is_told_it_changed() -> None:
    w = await setting()
    made = await refer(w)
    first = await policy.referral_to_decide(w.partner_officer, made.id, actor(w.partner_officer))
    second = await policy.referral_to_decide(w.partner_admin, made.id, actor(w.partner_admin))
    kw = {"worker_ids": [w.partner_worker.id], "now": NOW}
    await referrals.accept(
        user=w.partner_officer, referral=first, actor=actor(w.partner_officer), **kw
    )  # type: ignore[arg-type]
    with pytest.raises(referrals.Changed):
        await referrals.accept(
            user=w.partner_admin, referral=second, actor=actor(w.partner_admin), **kw
        )  # type: ignore[arg-type]
    # Two ends at once: one ends it, the other is told.
    one = await policy.referral_to_end(w.officer, made.id, actor(w.officer))
    two = await policy.referral_to_end(w.partner_admin, made.id, actor(w.partner_admin))
    await referrals.end(
        user=w.officer, referral=one, reason="Done", now=NOW, actor=actor(w.officer)
    )
    with pytest.raises(referrals.Changed):
        await referrals.end(
            user=w.partner_admin, referral=two, reason="Done", now=NOW, actor=actor(w.partner_admin)
        )
    # Ended: nothing to end, decline or reassign any more.
    ended = await policy.referral_to_end(w.officer, made.id, actor(w.officer))
    with pytest.raises(referrals.Changed):
        await referrals.end(
            user=w.officer, referral=ended, reason="Again", now=NOW, actor=actor(w.officer)
        )
    with pytest.raises(referrals.Changed):
        await referrals.decline(
            user=w.partner_admin, referral=ended, reason="No", now=NOW, actor=actor(w.partner_admin)
        )
    with pytest.raises(referrals.Changed):
        await referrals.assign(
            user=w.partner_admin,
            referral=ended,
            worker_ids=[w.partner_worker.id],
            actor=actor(w.partner_admin),
        )
    assert (await Referral.get(id=made.id)).reason == "Done"


async def test_a_reason_is_required_and_short_and_an_assignment_names_someone() -> None:
    w = await setting()
    referral = await accepted(w)
    mine = await policy.referral_to_end(w.officer, referral.id, actor(w.officer))
    with pytest.raises(Invalid):
        await referrals.end(
            user=w.officer, referral=mine, reason="x" * 2001, now=NOW, actor=actor(w.officer)
        )
    got = await policy.referral_to_decide(w.partner_admin, referral.id, actor(w.partner_admin))
    with pytest.raises(Invalid):
        await referrals.assign(
            user=w.partner_admin, referral=got, worker_ids=[], actor=actor(w.partner_admin)
        )
    assert (await Referral.get(id=referral.id)).status is ReferralStatus.ACTIVE
    assert await codes_pulled(w.partner_worker) == [(w.participant.code, ["family"])]


async def test_a_transfer_may_name_no_worker() -> None:
    w = await setting()
    made = await refer(w, kind=ReferralKind.TRANSFER)
    got = await policy.referral_to_decide(w.partner_officer, made.id, actor(w.partner_officer))
    await referrals.accept(
        user=w.partner_officer,
        referral=got,
        worker_ids=[],
        officer_id=w.partner_officer.id,
        now=NOW,
        actor=actor(w.partner_officer),
    )
    moved = await policy.row(w.participant).get()
    assert (moved.organisation_id, moved.officer_id) == (w.partner.id, w.partner_officer.id)
    assert await codes_pulled(w.own_worker) == []


async def test_only_officers_refer_and_only_partner_staff_are_offered() -> None:
    w = await setting()
    for user in (w.own_worker, w.partner_worker, w.partner_admin):
        assert await policy.referrals_made(user) == []
        assert await policy.referral_partners(user) == []
    for user in (w.own_worker, w.partner_worker):
        assert await policy.assignable_partner_staff(user) == []
        assert await policy.assignable_partner_officers(user) == []
    assert [o.id for o in await policy.referral_partners(w.officer).order_by("id")] == [
        w.partner.id,
        w.elsewhere.id,
    ]
    assert [
        u.id for u in await policy.assignable_partner_staff(w.partner_admin).order_by("id")
    ] == [
        w.partner_worker.id,
        w.other_partner_worker.id,
    ]
    assert [u.id for u in await policy.assignable_partner_officers(w.partner_admin)] == [
        w.partner_officer.id
    ]


def test_an_open_referral_past_its_end_reads_as_finished() -> None:
    referral = Referral(status=ReferralStatus.ACTIVE, expires_at=NOW - timedelta(seconds=1))
    assert labels.status_label(referral, NOW) == "Finished: the end date has passed"
    referral.expires_at = NOW + timedelta(days=1)
    assert labels.status_label(referral, NOW) == "Accepted, in progress"
    referral.status = ReferralStatus.WITHDRAWN
    assert labels.status_label(referral, NOW) == "Finished: consent withdrawn"


async def test_figures_are_for_officers_and_admins_only() -> None:
    w = await setting()
    await accepted(w)
    await log(w.partner_worker, w.participant)
    for user in (w.partner_worker, w.own_worker):
        assert await policy.organisation_logs(user) == []
        assert await policy.organisation_participants(user) == []
        assert await policy.organisation_reviews(user) == []
