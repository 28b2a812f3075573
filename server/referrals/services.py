"""Referrals and transfers: refer, accept, decline, assign, end (docs/referrals.md).

Every change of who can see a participant takes a change number for the
participant (``seq``), so phones pick them up, or drop them, at their next
pull; every change is audited in both organisations' trails (the actor's,
and the other side's through ``object_organisation_id``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Pillar
from server.errors import Conflict, Invalid
from server.i18n import N_
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.referrals.models import Referral, ReferralKind, ReferralStatus, ReferralWorker
from server.sync.sequence import next_seq

REASON_MAX = 2000


class Changed(Conflict):
    code = "referral_changed"

    def __init__(self) -> None:
        super().__init__(
            N_("Someone else changed this referral just now. Please look at it again.")
        )


def expiry(valid_until: date, time_zone: str) -> datetime:
    """The end of ``valid_until`` in the referring organisation's time zone, in UTC."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def pillar_list(referral: Referral) -> list[Pillar]:
    return [Pillar(p) for p in referral.pillars.split(",") if p]


async def refer(
    *,
    officer: User,
    participant: Participant,
    to_organisation_id: Any,
    kind: ReferralKind,
    pillars: list[Pillar],
    share_goals: bool,
    valid_until: date | None,
    consent_confirmed: bool,
    today: date,
    now: datetime,
    actor: Actor,
) -> Referral:
    """Refer ``participant`` (from ``policy.responsible_for``) to a partner.

    Raises:
        Invalid: no pillar, no until-date or one in the past, consent not
            confirmed or withdrawn, or a partner the officer may not choose.
    """
    partner = await policy.referral_partners(officer).filter(id=as_int(to_organisation_id)).first()
    if partner is None:
        raise Invalid(N_("Please choose a partner organisation."))
    if not pillars:
        raise Invalid(N_("Please choose at least one pillar."))
    if valid_until is None or valid_until < today:
        raise Invalid(N_("Please give a date, today or later, until which the referral holds."))
    if not consent_confirmed or not participant.consent_given:
        raise Invalid(N_("The participant must agree to this referral before it is made."))
    home = await Organisation.get(id=participant.organisation_id)
    async with in_transaction() as conn:
        referral = await Referral.create(
            using_db=conn,
            participant_id=participant.id,
            from_organisation_id=participant.organisation_id,
            to_organisation_id=partner.id,
            kind=kind,
            pillars=",".join(sorted({p.value for p in pillars})),
            share_goals=share_goals,
            consent_recorded_by_id=officer.id,
            consent_recorded_at=now,
            valid_until=valid_until,
            expires_at=expiry(valid_until, home.time_zone),
        )
        await _audit(actor, "referral.created", referral, other=partner.id)
    return referral


async def accept(
    *,
    user: User,
    referral: Referral,
    worker_ids: list[int],
    officer_id: int | None = None,
    now: datetime,
    actor: Actor,
) -> Referral:
    """Accept a pending referral (from ``policy.referral_to_decide``).

    A referral needs at least one of the partner's workers; a transfer
    names the partner's officer who becomes responsible, and moves the
    whole case (docs/referrals.md, "Transfers").
    """
    if referral.status is not ReferralStatus.PENDING:
        raise Changed()  # decided (or ended) already: nothing to accept
    workers = await _workers(user, worker_ids)
    officer: User | None = None  # who takes over a transfer
    if referral.kind is ReferralKind.TRANSFER:
        officers = policy.assignable_partner_officers(user)
        officer = await officers.filter(id=as_int(officer_id)).first()
        if officer is None:
            raise Invalid(
                N_("Please choose the officer who will be responsible for this participant.")
            )
    elif not workers:
        raise Invalid(N_("Please choose at least one worker."))
    async with in_transaction() as conn:
        changed = await _move(
            conn,
            referral,
            ReferralStatus.PENDING,
            status=ReferralStatus.ACTIVE,
            decided_by_id=user.id,
            decided_at=now,
        )
        if not changed:
            raise Changed()
        if officer is not None:
            await _transfer(conn, referral, officer, workers)
        else:
            await ReferralWorker.bulk_create(
                [ReferralWorker(referral_id=referral.id, user_id=w.id) for w in workers],
                using_db=conn,
            )
        await _bump(conn, referral)
        await _audit(
            actor,
            "referral.accepted",
            referral,
            other=referral.from_organisation_id,
            detail={"workers": len(workers)},
        )
    return await policy.row(referral).get()


async def _transfer(conn: Any, referral: Referral, officer: User, workers: list[User]) -> None:
    """The case moves: the old organisation's officer and workers lose it at once
    (their open appointments with the participant are cancelled, so no one of
    the old organisation is left with a date with a person they cannot see)."""
    participant = await policy.referred_participant(referral).using_db(conn).get()
    await (
        policy.row(participant)
        .using_db(conn)
        .update(organisation_id=referral.to_organisation_id, officer_id=officer.id)
    )
    await participant.workers.clear(using_db=conn)
    if workers:
        await participant.workers.add(*workers, using_db=conn)
    await policy.cancel_open_appointments_of(conn, participant.id, seq=await next_seq(conn))
    # Every live referral of the old organisation ends with the move.
    await (
        policy.referrals_of_participant(participant)
        .using_db(conn)
        .filter(
            kind=ReferralKind.REFERRAL, status__in=(ReferralStatus.PENDING, ReferralStatus.ACTIVE)
        )
        .update(status=ReferralStatus.ENDED, reason="transfer", ended_at=referral.decided_at)
    )


async def decline(
    *, user: User, referral: Referral, reason: str, now: datetime, actor: Actor
) -> Referral:
    """Decline a pending referral, with a reason the referring officer reads."""
    reason = _reason(reason)
    async with in_transaction() as conn:
        changed = await _move(
            conn,
            referral,
            ReferralStatus.PENDING,
            status=ReferralStatus.DECLINED,
            reason=reason,
            decided_by_id=user.id,
            decided_at=now,
        )
        if not changed:
            raise Changed()
        await _bump(conn, referral)
        await _audit(actor, "referral.declined", referral, other=referral.from_organisation_id)
    return await policy.row(referral).get()


async def end(
    *, user: User, referral: Referral, reason: str, now: datetime, actor: Actor
) -> Referral:
    """End an active referral (either side), or cancel a pending one (the
    referring officer): the partner's access stops at once."""
    reason = _reason(reason)
    async with in_transaction() as conn:
        changed = await _move(
            conn,
            referral,
            (ReferralStatus.ACTIVE, ReferralStatus.PENDING),
            status=ReferralStatus.ENDED,
            reason=reason,
            ended_by_id=user.id,
            ended_at=now,
        )
        if not changed:
            raise Changed()
        await _bump(conn, referral)
        other = (
            referral.to_organisation_id
            if user.organisation_id == referral.from_organisation_id
            else referral.from_organisation_id
        )
        await _audit(actor, "referral.ended", referral, other=other)
    return await policy.row(referral).get()


async def assign(
    *, user: User, referral: Referral, worker_ids: list[int], actor: Actor
) -> list[int]:
    """Set the partner's workers of an active referral; at least one stays."""
    if referral.status is not ReferralStatus.ACTIVE or referral.kind is ReferralKind.TRANSFER:
        raise Changed()
    workers = await _workers(user, worker_ids)
    if not workers:
        raise Invalid(N_("Please choose at least one worker."))
    async with in_transaction() as conn:
        await policy.referral_assignments(referral).using_db(conn).delete()
        await ReferralWorker.bulk_create(
            [ReferralWorker(referral_id=referral.id, user_id=w.id) for w in workers], using_db=conn
        )
        await _bump(conn, referral)
        await _audit(
            actor,
            "referral.assigned",
            referral,
            other=referral.from_organisation_id,
            detail={"workers": len(workers)},
        )
    return sorted(w.id for w in workers)


async def withdraw_all(conn: Any, participant: Participant, now: datetime, actor: Actor) -> int:
    """Consent withdrawn: every pending or active referral ends as withdrawn,
    inside the caller's transaction (which takes the participant's change
    number). Returns how many ended."""
    open_ones = (
        await policy.referrals_of_participant(participant)
        .using_db(conn)
        .filter(status__in=(ReferralStatus.PENDING, ReferralStatus.ACTIVE))
    )
    for referral in open_ones:
        await (
            policy.row(referral)
            .using_db(conn)
            .update(status=ReferralStatus.WITHDRAWN, ended_at=now, version=referral.version + 1)
        )
        await _audit(actor, "referral.withdrawn", referral, other=referral.to_organisation_id)
    return len(open_ones)


async def _move(conn: Any, referral: Referral, source: Any, **columns: Any) -> bool:
    """Change the referral only if it is still in ``source`` at the version
    read: of two people deciding at once, one wins and the other is told."""
    sources = source if isinstance(source, tuple) else (source,)
    if referral.status not in sources:
        return False
    count = (
        await policy.row(referral)
        .using_db(conn)
        .filter(status__in=sources, version=referral.version)
        .update(**columns, version=referral.version + 1)
    )
    return bool(count)


async def _bump(conn: Any, referral: Referral) -> None:
    """Who can see the participant changed: a new change number for phones."""
    await policy.referred_participant(referral).using_db(conn).update(seq=await next_seq(conn))


async def _audit(
    actor: Actor,
    action: str,
    referral: Referral,
    *,
    other: int,
    detail: dict[str, Any] | None = None,
) -> None:
    await record(
        actor=actor,
        action=action,
        object_type="referral",
        object_id=str(referral.id),
        detail={
            "participant": str(referral.participant_id),
            "kind": referral.kind.value,
            **(detail or {}),
        },
        object_organisation_id=other,
    )


async def _workers(user: User, worker_ids: list[int]) -> list[User]:
    wanted = {i for i in (as_int(w) for w in worker_ids) if i is not None}
    if not wanted:
        return []
    found = await policy.assignable_partner_staff(user).filter(id__in=wanted)
    if len(found) != len(wanted):
        raise Invalid(N_("Please choose workers of your organisation."))
    return list(found)


def _reason(text: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise Invalid(N_("Please give a reason."))
    if len(reason) > REASON_MAX:
        raise Invalid(N_("Please keep the reason under 2,000 characters."))
    return reason


def as_int(value: Any) -> int | None:
    """A form's number, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
