"""Participants: the officer's list, records, consent history, audited reads.

Every change takes a change number (``seq``) inside its transaction, so
phones can pull what changed; every read and change is audited without
names or note contents in the detail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Gender, Role
from server.orgs.models import Organisation
from server.participants.codes import new_code
from server.participants.forms import ParticipantInput
from server.participants.models import ConsentRecord, Participant
from server.referrals import services as referrals
from server.sync.sequence import next_seq

PAGE_SIZE = 50
# A clash needs two of ~887 million codes per country to meet; a few tries
# are plenty, and a persistent failure should surface rather than loop.
CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Page:
    participants: list[Participant]
    number: int
    has_next: bool
    total: int


@dataclass(frozen=True)
class Card:
    """What a page shows of a participant; officer-only facts are None for others."""

    id: uuid.UUID
    code: str
    name: str
    release_date: date | None
    gender: Gender | None = None
    date_of_birth: date | None = None
    language: str | None = None
    consent_given: bool | None = None
    consent_date: date | None = None


def card(participant: Participant, *, full: bool) -> Card:
    """The officer's full view (``full``), or a worker's: code, given name, release date."""
    if not full:
        return Card(
            participant.id,
            participant.code,
            first_name(participant.full_name),
            participant.release_date,
        )
    return Card(
        participant.id,
        participant.code,
        participant.full_name,
        participant.release_date,
        participant.gender,
        participant.date_of_birth,
        participant.language,
        participant.consent_given,
        participant.consent_date,
    )


def first_name(full_name: str) -> str:
    """The given name shown to workers: never the full name."""
    parts = full_name.split()
    return parts[0] if parts else ""


def parse_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def visible(*, user: User, participant_id: Any, actor: Actor) -> Participant:
    """A participant the user may see (policy), or NotFound (audited)."""
    return await policy.participant_for(user, participant_id, actor)


async def responsible_for(*, user: User, participant_id: Any, actor: Actor) -> Participant:
    """A participant the user is the responsible officer of, or NotFound (audited).

    Only officers change records; a worker who can see the participant still
    gets NotFound here, as for any record outside their reach.
    """
    return await policy.responsible_for(user, participant_id, actor)


async def read(*, user: User, participant_id: Any, actor: Actor) -> Participant:
    """Open one participant record for reading, and audit the read."""
    participant = await visible(user=user, participant_id=participant_id, actor=actor)
    await record(
        actor=actor,
        action="participant.read",
        object_type="participant",
        object_id=str(participant.id),
        # A partner's read (a referral) is in the participant's organisation's trail too.
        object_organisation_id=(
            participant.organisation_id
            if participant.organisation_id != user.organisation_id
            else None
        ),
    )
    return participant


async def list_page(*, officer: User, page: int, actor: Actor) -> Page:
    """One page (50) of the officer's participants, by code, with their workers.

    Raises:
        NotFound: the user is not an officer (audited).
    """
    if officer.role is not Role.OFFICER:
        raise await policy.denied(actor, "participant", "list")
    number = max(page, 1)
    query = policy.participants_for(officer)
    total = await query.count()
    rows = (
        await query.order_by("code")
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .prefetch_related("workers")
    )
    await record(
        actor=actor,
        action="participant.listed",
        object_type="participant",
        detail={"page": number, "count": len(rows)},
    )
    return Page(rows, number, number * PAGE_SIZE < total, total)


async def organisation_workers(*, user: User) -> list[User]:
    """The active workers of the user's organisation, who can be assigned."""
    return (
        await User.filter(organisation_id=user.organisation_id, role=Role.WORKER, is_active=True)
        .order_by("name")
        .all()
    )


async def assigned_worker_ids(participant: Participant) -> set[int]:
    return {int(w.id) for w in await participant.workers.all()}


async def create(
    *, officer: User, data: ParticipantInput, today: date, actor: Actor
) -> Participant:
    """Register a participant with a new pseudonymous code and a first consent record.

    Args:
        officer: the creating officer, who becomes responsible.
        data: the checked form (``forms.check_participant``).
        today: the officer's date; dates a refusal recorded without a date.

    Raises:
        NotFound: the user is not an officer (audited).
        IntegrityError: no free code after a few attempts (practically never).
    """
    if officer.role is not Role.OFFICER:
        raise await policy.denied(actor, "participant", "new")
    organisation = await Organisation.get(id=officer.organisation_id)
    workers = await _workers(officer, data.worker_ids)
    for attempt in range(CODE_ATTEMPTS):
        try:
            # The whole transaction is retried: on PostgreSQL a failed insert
            # aborts it, so there is nothing to continue.
            participant = await _insert(officer, organisation, data, workers, today, actor)
            break
        except IntegrityError:
            if attempt == CODE_ATTEMPTS - 1:
                raise
    return participant


async def _insert(
    officer: User,
    organisation: Organisation,
    data: ParticipantInput,
    workers: list[User],
    today: date,
    actor: Actor,
) -> Participant:
    async with in_transaction() as conn:
        participant = await Participant.create(
            using_db=conn,
            id=uuid.uuid4(),
            organisation=organisation,
            code=new_code(organisation.country.value),
            officer=officer,
            seq=await next_seq(conn),
            **_columns(data),
        )
        if workers:
            await participant.workers.add(*workers, using_db=conn)
        await ConsentRecord.create(
            using_db=conn,
            participant=participant,
            given=data.consent_given,
            on_date=data.consent_date or today,
            recorded_by=officer,
        )
        await record(
            actor=actor,
            action="participant.created",
            object_type="participant",
            object_id=str(participant.id),
            detail={"workers": len(workers)},
        )
        await _consent_recorded(actor, participant)
    return participant


async def update(
    *, officer: User, participant: Participant, data: ParticipantInput, today: date, actor: Actor
) -> Participant:
    """Change a participant's record; a change of consent adds to its history.

    Args:
        officer: the responsible officer.
        participant: from ``responsible_for`` (the access check).
        data: the checked form.
        today: the officer's date; dates a refusal recorded without a date.

    Returns:
        The stored participant (unchanged, and no change number, if nothing changed).
    """
    columns = _columns(data)
    changed = sorted(k for k, v in columns.items() if getattr(participant, k) != v)
    before = await assigned_worker_ids(participant)
    workers = await _workers(officer, data.worker_ids)
    if before != data.worker_ids:
        changed.append("workers")
    consent_changed = (participant.consent_given, participant.consent_date) != (
        data.consent_given,
        data.consent_date,
    )
    if not changed:
        return participant
    async with in_transaction() as conn:
        await policy.row(participant).using_db(conn).update(**columns, seq=await next_seq(conn))
        if "workers" in changed:
            await participant.workers.clear(using_db=conn)
            if workers:
                await participant.workers.add(*workers, using_db=conn)
        if consent_changed:
            await ConsentRecord.create(
                using_db=conn,
                participant=participant,
                given=data.consent_given,
                on_date=data.consent_date or today,
                recorded_by=officer,
            )
            if not data.consent_given:
                # Withdrawn consent ends every referral at once (docs/referrals.md).
                await referrals.withdraw_all(conn, participant, datetime.now(UTC), actor)
        await record(
            actor=actor,
            action="participant.updated",
            object_type="participant",
            object_id=str(participant.id),
            detail={"fields": changed},
        )
        updated = await policy.row(participant).get()
        if consent_changed:
            await _consent_recorded(actor, updated)
    return updated


async def consent_history(user: User, participant: Participant) -> list[ConsentRecord]:
    """The participant's consent records, newest first (the officer's only)."""
    return (
        await policy.consents_for(user)
        .filter(participant_id=participant.id)
        .order_by("-recorded_at", "-id")
    )


def _columns(data: ParticipantInput) -> dict[str, Any]:
    return {
        "full_name": data.full_name,
        "gender": data.gender,
        "date_of_birth": data.date_of_birth,
        "release_date": data.release_date,
        "language": data.language,
        "consent_given": data.consent_given,
        "consent_date": data.consent_date,
    }


async def _workers(officer: User, ids: frozenset[int]) -> list[User]:
    # Checked again here, not only in the form: a forged id of another
    # organisation's worker must never be assigned.
    if not ids:
        return []
    return await User.filter(
        id__in=list(ids),
        organisation_id=officer.organisation_id,
        role=Role.WORKER,
        is_active=True,
    )


async def _consent_recorded(actor: Actor, participant: Participant) -> None:
    await record(
        actor=actor,
        action="consent.recorded",
        object_type="participant",
        object_id=str(participant.id),
        detail={"given": participant.consent_given},
    )
