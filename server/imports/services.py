"""Importing a caseload: create a checked plan in one transaction, or nothing.

The preview keeps no state on the server: the page carries the file back
(base64 in a hidden field) and the confirmation reads and checks it again
from scratch (``checks.check``), so what is created is always what the
rules allow at that moment (a code taken or a worker disabled since the
preview stops it).
"""

from __future__ import annotations

import uuid
from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, Event, record_many
from server.errors import NotFound
from server.imports.checks import Plan
from server.orgs.models import Organisation
from server.participants.codes import new_code
from server.participants.models import ConsentRecord, Participant
from server.sync.sequence import take_seqs

ATTEMPTS = 5  # generated codes that clash: practically never, retried whole


class AlreadyImported(Exception):
    """This preview was confirmed before (a double tap, a reload): nothing added twice."""


def row_ids(batch: uuid.UUID, count: int) -> list[uuid.UUID]:
    """The participants' ids, made from the preview's batch id: confirming the
    same preview again makes the same ids, which the primary key refuses."""
    return [uuid.uuid5(batch, str(index)) for index in range(count)]


async def commit(
    *, user: User, plan: Plan, batch: uuid.UUID, today: date, actor: Actor
) -> list[Participant]:
    """Create every participant of a checked plan in one transaction, audited.

    Raises:
        NotFound: the user may not import, or the plan is not ok.
        AlreadyImported: this batch was imported before (or just now, concurrently).
        IntegrityError: a generated code clashed on every attempt (practically never).
    """
    if not policy.may_import(user) or not plan.ok:
        raise NotFound()
    organisation = await Organisation.get(id=user.organisation_id)
    ids = row_ids(batch, len(plan.rows))
    for attempt in range(ATTEMPTS):
        if await policy.imported_with_ids(user, ids[:1]).exists():
            raise AlreadyImported()
        try:
            return await _insert(user, organisation, plan, ids, today, actor)
        except IntegrityError:
            # The same batch committed meanwhile (checked above on the next
            # turn), or a generated code clashed: on PostgreSQL the
            # transaction is gone, so the whole batch retries.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _insert(
    user: User,
    organisation: Organisation,
    plan: Plan,
    ids: list[uuid.UUID],
    today: date,
    actor: Actor,
) -> list[Participant]:
    given = {row.code for row in plan.rows if row.code}
    async with in_transaction() as conn:
        first = await take_seqs(conn, len(plan.rows))
        made: list[Participant] = []
        for offset, row in enumerate(plan.rows):
            code = row.code or _fresh_code(organisation, given)
            made.append(
                Participant(
                    id=ids[offset],
                    organisation_id=organisation.id,
                    code=code,
                    full_name=row.full_name,
                    gender=row.gender,
                    date_of_birth=row.date_of_birth,
                    release_date=row.release_date,
                    language=row.language,
                    officer_id=row.officer.id,
                    consent_given=row.consent_date is not None,
                    consent_date=row.consent_date,
                    seq=first + offset,
                )
            )
        await Participant.bulk_create(made, using_db=conn)
        for participant, row in zip(made, plan.rows, strict=True):
            # bulk_create leaves instances marked unsaved; these rows are in
            # the database (this transaction), which is what ``add`` checks.
            participant._saved_in_db = True
            if row.workers:
                await participant.workers.add(*row.workers, using_db=conn)
        await ConsentRecord.bulk_create(
            [
                ConsentRecord(
                    participant_id=p.id,
                    given=p.consent_given,
                    # No date in the file: no consent on record as of today,
                    # as the form records "not given" (phones get no such record).
                    on_date=p.consent_date or today,
                    recorded_by_id=user.id,
                )
                for p in made
            ],
            using_db=conn,
        )
        events = [
            Event(
                "participant.created",
                "participant",
                str(p.id),
                {"workers": len(row.workers), "imported": True},
            )
            for p, row in zip(made, plan.rows, strict=True)
        ]
        events.append(
            Event(
                "caseload.imported",
                "organisation",
                str(organisation.id),
                {"rows": len(made), "format": plan.format},
            )
        )
        await record_many(conn, actor, events)
    return made


def _fresh_code(organisation: Organisation, taken: set[str]) -> str:
    while True:
        code = new_code(organisation.country.value)
        if code not in taken:
            taken.add(code)
            return code
