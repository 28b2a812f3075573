"""Session logs: record (exactly once), correct, review.

The id of a log is made where it is first written — on the phone, or in the
form page the server rendered — and is the idempotency key: the same id
with the same content is "already stored"; the same id with different
content is a conflict kept for an officer, never an overwrite.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, Pillar, Role
from server.errors import Conflict as ConflictError
from server.errors import Invalid, NotFound
from server.forms.validator import Result
from server.i18n import N_
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from server.sync.sequence import next_seq

# Answers kept in the log's own columns; everything else the form asked is
# stored as the log's ``answers``.
COLUMNS = frozenset(
    {
        "participant",
        "occurred_on",
        "occurred_time",
        "attendance",
        "duration_minutes",
        "place",
        "engagement",
        "notes",
        "follow_up",
    }
)


class NotAuthor(ConflictError):
    code = "not_author"

    def __init__(self) -> None:
        super().__init__(
            N_("This entry was saved by another person and cannot be sent from your account.")
        )


class _Unfulfillable(NotFound):
    """The appointment a log names cannot be marked done by its author."""


class NoConsent(Invalid):
    code = "no_consent"

    def __init__(self) -> None:
        super().__init__(
            N_("This participant has withdrawn consent: no new session can be logged for them.")
        )


class NotReferred(Invalid):
    """A partner's log for a pillar its referral does not cover (docs/referrals.md)."""

    code = "pillar_not_referred"

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This participant was referred to you for other pillars: "
                "this session cannot be logged."
            )
        )


class Outcome(StrEnum):
    STORED = "stored"
    ALREADY_STORED = "already_stored"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    log: SessionLog | None


def content_hash(
    *, pillar: str, form_version: int, values: dict[str, Any], appointment_id: str | None
) -> str:
    """A digest of what the author said, independent of key order."""
    canonical = json.dumps(
        {
            "pillar": pillar,
            "form_version": form_version,
            "values": values,
            "appointment": appointment_id,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def columns(result: Result) -> dict[str, Any]:
    clean = result.clean
    values = result.as_json()
    return {
        "participant_id": clean["participant"],
        "occurred_at": result.occurred_at,
        "attendance": clean["attendance"],
        "duration_minutes": clean.get("duration_minutes") or 0,
        "place": clean.get("place") or "",
        "engagement": clean.get("engagement"),
        "notes": clean.get("notes") or "",
        "follow_up": bool(clean.get("follow_up")),
        "answers": {k: v for k, v in values.items() if k not in COLUMNS},
    }


async def record_log(
    *,
    author: User,
    log_id: uuid.UUID,
    result: Result,
    appointment_id: uuid.UUID | None,
    now: datetime,
    actor: Actor,
) -> Recorded:
    """Store a validated session log exactly once.

    Args:
        author: the signed-in worker; must have the participant in their caseload.
        log_id: the id made where the log was first written.
        result: a successful validation of the form the author filled in.
        appointment_id: the appointment this session fulfils, if any.

    Returns:
        What happened: stored, already stored (same content), or conflict.

    Raises:
        NotFound: the participant or appointment is outside the author's reach.
        Invalid: ``result`` has errors.
    """
    if not result.ok:
        raise Invalid()
    if author.role not in (Role.WORKER, Role.OFFICER):  # families and admins never log
        raise await policy.denied(actor, "session_log", str(log_id))
    participant = await policy.loggable_participant(author, result.clean["participant"], actor)
    if not participant.consent_given:
        # Consent withdrawn (or never given): nothing new is recorded about them.
        raise NoConsent()
    if result.form.pillar not in await policy.loggable_pillars(author, participant):
        # A partner's worker logs only the pillars the referral covers.
        raise NotReferred()
    digest = content_hash(
        pillar=result.form.pillar,
        form_version=result.form.version,
        values=result.as_json(),
        appointment_id=str(appointment_id) if appointment_id else None,
    )
    try:
        outcome = await _store_once(
            author, log_id, result, digest, appointment_id, participant, now, actor
        )
    except IntegrityError:
        # Another app server inserted the same id between our look-up and our
        # insert: look again, and it is "already stored" or a conflict.
        outcome = await _store_once(
            author, log_id, result, digest, appointment_id, participant, now, actor
        )
    except _Unfulfillable:
        # Audited here, after the log's transaction rolled back: inside it,
        # the refusal would have been rolled back too.
        raise await policy.denied(actor, "appointment", str(appointment_id)) from None
    return outcome


async def _store_once(
    author: User,
    log_id: uuid.UUID,
    result: Result,
    digest: str,
    appointment_id: uuid.UUID | None,
    participant: Any,
    now: datetime,
    actor: Actor,
) -> Recorded:
    async with in_transaction() as conn:
        existing = await policy.logs_with_ids([log_id]).using_db(conn).first()
        if existing is not None and existing.author_id != author.id:
            # An id belongs to the log's author: another user's version under
            # it is refused, never kept as a conflict that could replace it.
            raise NotAuthor()
        if existing is not None:
            if existing.content_hash == digest:
                outcome = Recorded(Outcome.ALREADY_STORED, existing)
            else:
                await _keep_conflict(
                    conn,
                    author,
                    log_id,
                    participant.organisation_id,
                    result,
                    digest,
                    appointment_id,
                    now,
                )
                outcome = Recorded(Outcome.CONFLICT, existing)
        else:
            if appointment_id is not None:
                await _fulfil(conn, author, appointment_id, participant.id)
            log = await SessionLog.create(
                using_db=conn,
                id=log_id,
                pillar=Pillar(result.form.pillar),
                form_version=result.form.version,
                author=author,
                content_hash=digest,
                appointment_id=appointment_id,
                seq=await next_seq(conn),
                **columns(result),
            )
            outcome = Recorded(Outcome.STORED, log)
        # In the same transaction: the log and its trail commit together.
        await record(
            actor=actor,
            action=f"session_log.{outcome.outcome.value}",
            object_type="session_log",
            object_id=str(log_id),
            detail={"pillar": result.form.pillar, "participant": str(participant.id)},
            # A partner's log is in the participant's organisation's trail too.
            object_organisation_id=_other(author, participant.organisation_id),
        )
    return outcome


def _other(user: User, organisation_id: int) -> int | None:
    return organisation_id if organisation_id != user.organisation_id else None


async def _keep_conflict(
    conn: Any,
    author: User,
    log_id: uuid.UUID,
    organisation_id: int,
    result: Result,
    digest: str,
    appointment_id: uuid.UUID | None,
    now: datetime,
) -> None:
    payload = {
        "pillar": result.form.pillar,
        "form_version": result.form.version,
        "values": result.as_json(),
        "appointment": str(appointment_id) if appointment_id else None,
    }
    await Conflict.keep(
        conn,
        record_type="session_log",
        record_id=log_id,
        organisation_id=organisation_id,
        author=author,
        payload=payload,
        content_hash=digest,
        received_at=now,
        seq=await next_seq(conn),
    )


async def _fulfil(
    conn: Any, author: User, appointment_id: uuid.UUID, participant_id: uuid.UUID
) -> None:
    # Only an open appointment of this participant that the author may mark
    # done (a worker: their own), checked and changed in one statement.
    updated = (
        await policy.fulfillable_appointments(author, participant_id)
        .filter(id=appointment_id)
        .using_db(conn)
        .update(status=AppointmentStatus.DONE, seq=await next_seq(conn))
    )
    if not updated:
        raise _Unfulfillable()


async def visible_log(*, user: User, log_id: Any, actor: Actor) -> SessionLog:
    """A log the user may read (``policy.logs_for``), with the read audited."""
    log = await policy.log_for(user, log_id, actor)
    await record(
        actor=actor, action="session_log.read", object_type="session_log", object_id=str(log.id)
    )
    return log


async def editable_log(*, user: User, log_id: Any, actor: Actor) -> SessionLog:
    """A log the user may correct (its author), with the read audited; else NotFound."""
    log = await visible_log(user=user, log_id=log_id, actor=actor)
    if not policy.may_correct(user, log):
        raise await policy.denied(actor, "session_log", str(log.id))
    return log


async def correct_log(
    *, editor: User, log: SessionLog, result: Result, now: datetime, actor: Actor
) -> SessionLog:
    """The author corrects their log before review; the old version is kept."""
    if not policy.may_correct(editor, log):
        raise await policy.denied(actor, "session_log", str(log.id))
    if log.reviewed_at is not None:
        raise ConflictError(
            N_("This session log was already reviewed and can no longer be changed.")
        )
    if not result.ok:
        raise Invalid()
    async with in_transaction() as conn:
        await replace_content(log=log, result=result, editor=editor, now=now, conn=conn)
        await record(
            actor=actor,
            action="session_log.corrected",
            object_type="session_log",
            object_id=str(log.id),
            detail={"revision": log.revision + 1},
        )
    return await policy.row(log).get()


async def replace_content(
    *, log: SessionLog, result: Result, editor: User, now: datetime, conn: Any
) -> None:
    """Give ``log`` new content inside ``conn``, keeping the old as a revision."""
    await SessionLogRevision.create(
        using_db=conn,
        session_log=log,
        revision=log.revision,
        snapshot=snapshot(log),
        edited_by=editor,
    )
    digest = content_hash(
        pillar=log.pillar.value,
        form_version=result.form.version,
        values=result.as_json(),
        appointment_id=str(log.appointment_id) if log.appointment_id else None,
    )
    changed = columns(result)
    changed.pop("participant_id")  # a log never moves to another participant
    await (
        policy.row(log)
        .filter(revision=log.revision)
        .using_db(conn)
        .update(
            **changed,
            form_version=result.form.version,
            content_hash=digest,
            revision=log.revision + 1,
            seq=await next_seq(conn),
            updated_at=now,
        )
    )


def snapshot(log: SessionLog) -> dict[str, Any]:
    return {
        "form_version": log.form_version,
        "occurred_at": log.occurred_at.isoformat(),
        "attendance": log.attendance.value,
        "duration_minutes": log.duration_minutes,
        "place": log.place,
        "engagement": log.engagement,
        "notes": log.notes,
        "follow_up": log.follow_up,
        "answers": log.answers,
    }


async def review_log(
    *, officer: User, log_id: Any, comment: str, now: datetime, actor: Actor
) -> SessionLog:
    """Mark a log reviewed, with the officer's comment."""
    log = await policy.reviewable_log(officer, log_id, actor)
    if len(comment) > 2_000:
        raise Invalid(N_("Please keep the comment under 2,000 characters."))
    async with in_transaction() as conn:
        await (
            policy.row(log)
            .using_db(conn)
            .update(
                reviewed_at=now,
                reviewed_by=officer,
                review_comment=comment.strip(),
                seq=await next_seq(conn),
            )
        )
        await record(
            actor=actor,
            action="session_log.reviewed",
            object_type="session_log",
            object_id=str(log.id),
        )
    return await policy.row(log).get()


async def review_queue(*, officer: User, limit: int = 50) -> list[SessionLog]:
    """Logs of the officer's participants not yet reviewed, oldest first."""
    return (
        await policy.caseload_logs(officer)
        .filter(participant__officer_id=officer.id, reviewed_at=None)
        .order_by("occurred_at")
        .limit(limit)
        .prefetch_related("participant", "author")
    )
