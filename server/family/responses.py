"""Answers to "will you come?" that arrive through the sync outbox.

Exactly once, like session logs: the same id and content again is
"already stored". An answer given to an appointment that has changed since
the phone saw it (moved by the officer, or answered by another family
member) is not applied over the newer state: it is kept as a conflict for
the officer, and both versions stay visible.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import i18n, policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, FamilyResponse, Role
from server.errors import AppError
from server.family.models import AppointmentResponse
from server.family.services import MESSAGE_MAX, TOO_LONG, appointment
from server.i18n import N_
from server.sync.models import Conflict
from server.sync.sequence import next_seq

# What the family reads on their phone when an answer is refused for good:
# what happened and what to do, in their words (a worker's entry has others).
REASONS = {
    "not_allowed": N_(
        "This appointment is no longer shown to you, so the answer was not sent."
        " If you have a question, please call the organisation."
    ),
    "malformed": N_("The answer could not be read on the server. Please give your answer again."),
    "invalid": TOO_LONG,
    "not_author": N_(
        "This answer was given by another person, so it cannot be sent from your account."
        " Please give your own answer."
    ),
}


class Refused(Exception):
    """The answer cannot be taken; ``code`` is a sync rejection code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def reason(self) -> str:
        """The family's explanation, in the current language."""
        return i18n.gettext(REASONS.get(self.code, REASONS["malformed"]))


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


async def take(
    *, user: User, record_id: uuid.UUID, content: dict[str, Any], now: datetime, actor: Actor
) -> str:
    """Apply one sealed answer; returns "stored", "already_stored" or "conflict".

    Raises:
        Refused: not a family member, malformed, or an appointment they may not see.
    """
    if user.role is not Role.FAMILY:
        raise Refused("not_allowed")
    try:
        answer = FamilyResponse(str(content.get("response")))
        base_version = int(content.get("base_version", -1))
    except (ValueError, TypeError):
        raise Refused("malformed") from None
    # The version column is a 32-bit integer and an applied answer stores
    # base_version + 1, so that must fit too (PostgreSQL refuses 2**31 with a
    # server error the phone would retry for ever). A phone never sends more.
    if not 0 <= base_version < 2**31 - 1:
        raise Refused("malformed")
    message = str(content.get("message") or "").replace("\x00", "").strip()
    if len(message) > MESSAGE_MAX:
        raise Refused("invalid")
    try:
        shown = await appointment(user=user, appointment_id=content.get("appointment"), actor=actor)
    except AppError:  # NotFound, audited by the service: outside the family's reach
        # Only this is final. A database or server error propagates (a 500),
        # so the phone keeps the answer waiting and sends it again.
        raise Refused("not_allowed") from None
    fields = {
        "appointment": str(shown.id),
        "response": answer.value,
        "message": message,
        "base_version": base_version,
    }
    digest = _digest(fields)
    # The answer and its trail commit together; a retry after a race runs
    # in a savepoint of this transaction.
    async with in_transaction():
        try:
            outcome = await _take_once(
                user, record_id, shown.id, answer, message, base_version, fields, digest, now
            )
        except IntegrityError:
            # The same answer arrived through another app server at the same
            # moment: look again, it is now "already stored" (or a conflict).
            outcome = await _take_once(
                user, record_id, shown.id, answer, message, base_version, fields, digest, now
            )
        if outcome == "already_stored":
            return outcome
        await record(
            actor=actor,
            action=f"appointment.family_response.{outcome}",
            object_type="appointment",
            object_id=str(shown.id),
            detail={"response": answer.value},
        )
    return outcome


async def _take_once(
    user: User,
    record_id: uuid.UUID,
    appointment_id: uuid.UUID,
    answer: FamilyResponse,
    message: str,
    base_version: int,
    fields: dict[str, Any],
    digest: str,
    now: datetime,
) -> str:
    async with in_transaction() as conn:
        existing = await policy.response_with_id(record_id).using_db(conn).first()
        if existing is not None and existing.author_id != user.id:
            raise Refused("not_author")  # an id belongs to its author, never a conflict
        if existing is not None:
            if existing.content_hash == digest:
                return "already_stored"
            await _conflict(conn, user, record_id, fields, digest, now)
            return "conflict"
        # Applied only over the very version the phone showed: a conditional
        # update, so two answers racing from two phones cannot both win.
        applied = await (
            policy.appointments_for(user)
            .filter(id=appointment_id, version=base_version)
            .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.DONE])
            .using_db(conn)
            .update(
                family_response=answer,
                family_message=message,
                status=AppointmentStatus.CONFIRMED
                if answer is FamilyResponse.COMING
                else AppointmentStatus.SCHEDULED,
                version=base_version + 1,
                seq=await next_seq(conn),
                updated_at=now,
            )
        )
        await AppointmentResponse.create(
            using_db=conn,
            id=record_id,
            appointment_id=appointment_id,
            author=user,
            response=answer.value,
            message=message,
            base_version=base_version,
            content_hash=digest,
            outcome="applied" if applied else "conflict",
            received_at=now,
        )
        if not applied:
            await _conflict(conn, user, record_id, fields, digest, now)
    return "stored" if applied else "conflict"


async def _conflict(
    conn: Any,
    user: User,
    record_id: uuid.UUID,
    fields: dict[str, Any],
    digest: str,
    now: datetime,
) -> None:
    await Conflict.keep(
        conn,
        record_type="appointment_response",
        record_id=record_id,
        organisation_id=user.organisation_id,
        author=user,
        payload=fields,
        content_hash=digest,
        received_at=now,
        seq=await next_seq(conn),
    )
