"""The sync protocol: phones push sealed records and pull what changed.

Each pushed record gets its own answer, committed before the answer is
sent (new session logs of one batch share one transaction, see
``server/sessions/batch.py``): ``stored``, ``already_stored`` (same id, same
content), ``conflict`` (same id, other content: both kept) or ``rejected``
(a machine code and a reason in the user's language). Pushing the same
batch again is always safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from babel.support import NullTranslations

from server import i18n, policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.services import Actor, Event, record
from server.enums import Role
from server.errors import AppError, Invalid
from server.family import responses
from server.family import services as family
from server.forms import get_form
from server.forms.gender import grammatical_gender
from server.forms.schema import all_forms_schema
from server.forms.validator import validate
from server.i18n import N_
from server.ops.metrics import record_sync
from server.sessions import batch
from server.sync.keys import KeyRing
from server.sync.sealing import Unreadable, unseal
from server.sync.sequence import high_water

MAX_RECORDS = 100
RECORD_TYPES = ("session_log", "appointment_response")

REASONS = {
    "malformed": N_("This entry is damaged and cannot be read. Please write it again."),
    "unreadable": N_("This entry could not be opened on the server. Please write it again."),
    "not_author": N_(
        "This entry was saved by another person and cannot be sent from your account."
    ),
    "not_allowed": N_("You no longer work with this participant, so this entry cannot be saved."),
    "unknown_form": N_("This form is not known. Please update the app and try again."),
    "invalid": N_("Some answers need to be checked before this entry can be saved."),
    "no_consent": N_(
        "This participant has withdrawn consent: no new session can be logged for them."
    ),
    "pillar_not_referred": N_(
        "This participant was referred to you for other pillars: this session cannot be logged."
    ),
}


# Refusals that carry their own code (``AppError.code``) to the phone.
OWN_REASONS = frozenset({"no_consent", "not_author", "malformed", "pillar_not_referred"})

logger = logging.getLogger(__name__)


class Status(StrEnum):
    STORED = "stored"
    ALREADY_STORED = "already_stored"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass
class RecordResult:
    id: str
    status: Status
    code: str = ""
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.status is Status.REJECTED:
            data.update(code=self.code, message=self.message, errors=self.errors)
        return data


class BatchTooLarge(AppError):
    status = 413
    code = "batch_too_large"


def _rejected(record_id: str, code: str, errors: dict[str, str] | None = None) -> RecordResult:
    return RecordResult(record_id, Status.REJECTED, code, i18n.gettext(REASONS[code]), errors or {})


async def push(
    *, user: User, records: Any, ring: KeyRing, now: datetime, actor: Actor
) -> list[RecordResult]:
    """Store a batch of sealed records, answering for each one.

    Raises:
        Invalid: ``records`` is not a list of objects.
        BatchTooLarge: more than ``MAX_RECORDS`` records.
    """
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Invalid(N_("The request could not be understood. Please try again."))
    if len(records) > MAX_RECORDS:
        raise BatchTooLarge(N_("Send at most 100 entries at a time."))
    opened = [_open_one(user, item, ring, now) for item in records]
    logs = [o for o in opened if isinstance(o, batch.NewLog)]
    # The usual batch: new logs and refusals only. Should every log be
    # stored in the batch's transaction, this summary is exactly right and
    # is written there, saving a transaction (and a turn on the chain's
    # head) per push; otherwise it is written afterwards, counted.
    rejected = sum(isinstance(o, RecordResult) for o in opened)
    expected = _push_detail({Status.STORED: len(logs), Status.REJECTED: rejected})
    summary = batch.Summary(
        Event(action="sync.push", object_type="batch", detail=expected),
        possible=len(logs) + rejected == len(opened),
    )
    # One answer per log, in the logs' order.
    logged = iter(
        await batch.record_logs(author=user, logs=logs, now=now, actor=actor, summary=summary)
    )
    results: list[RecordResult] = []
    for o in opened:
        if isinstance(o, RecordResult):
            results.append(o)
        elif isinstance(o, batch.NewLog):
            results.append(_answer(str(o.log_id), next(logged)))
        else:
            results.append(await _respond(user, o, now, actor))
    record_sync(r.status.value for r in results)
    if not summary.written:
        counts = {status: sum(r.status is status for r in results) for status in Status}
        detail = _push_detail(counts)
        await record(actor=actor, action="sync.push", object_type="batch", detail=detail)
    return results


def _push_detail(counts: dict[Status, int]) -> dict[str, int]:
    """The audit summary of one push: how many records came to what."""
    return {status.value: counts.get(status, 0) for status in Status}


@dataclass(frozen=True)
class _Response:
    """An opened answer to an appointment ("will you come?")."""

    record_id: uuid.UUID
    content: dict[str, Any]


def _open_one(
    user: User, item: dict[str, Any], ring: KeyRing, now: datetime
) -> RecordResult | batch.NewLog | _Response:
    """``_open``, with anything unforeseen in one record refused for that record.

    Opening touches no database, so an error here is about the record's
    content (a date past the calendar's end in some zone…), never an outage:
    refusing it cannot turn a server fault into a permanent refusal.
    """
    try:
        return _open(user, item, ring, now)
    except Exception:  # one record's content must never fail the others
        logger.warning("sync record refused: it could not be opened", exc_info=True)
        return _rejected(str(item.get("id"))[:64], "malformed")


def _open(
    user: User, item: dict[str, Any], ring: KeyRing, now: datetime
) -> RecordResult | batch.NewLog | _Response:
    """Unseal and validate one record: what to store, or why it is refused.

    Only checks that need no database happen here; the caseload, consent and
    "already stored?" are settled for the whole batch afterwards.
    """
    raw_id = item.get("id")
    try:
        record_id = uuid.UUID(str(raw_id))
    except ValueError:
        return _rejected(str(raw_id)[:64], "malformed")
    key = str(record_id)
    if item.get("type") not in RECORD_TYPES:
        return _rejected(key, "malformed")
    try:
        content = unseal(item.get("sealed"), record_id=key, ring=ring)
    except Unreadable:
        return _rejected(key, "unreadable")
    if content.get("author") != user.id:
        return _rejected(key, "not_author")
    if item.get("type") == "appointment_response":
        return _Response(record_id, content)
    try:
        form = get_form(str(content.get("pillar")), int(content.get("form_version", 0)))
    except (AppError, TypeError, ValueError):
        return _rejected(key, "unknown_form")
    values = content.get("values")
    if not isinstance(values, dict):
        return _rejected(key, "malformed")
    try:
        result = validate(form, values, now=now, tz=i18n.current().tz)
    except AppError:
        return _rejected(key, "malformed")
    if not result.ok:
        errors = {name: message.text(i18n.current()) for name, message in result.errors.items()}
        return _rejected(key, "invalid", errors)
    appointment = content.get("appointment")
    try:
        appointment_id = uuid.UUID(str(appointment)) if appointment else None
    except ValueError:
        return _rejected(key, "not_allowed")
    return batch.NewLog(record_id, result, appointment_id)


def _answer(key: str, answer: batch.Answer) -> RecordResult:
    if isinstance(answer, AppError):
        # The refusals with their own reason; any other (NotFound…) means the
        # participant or appointment is out of reach.
        code = answer.code if answer.code in OWN_REASONS else "not_allowed"
        return _rejected(key, code)
    return RecordResult(key, Status(answer.outcome.value))


async def _respond(user: User, response: _Response, now: datetime, actor: Actor) -> RecordResult:
    key = str(response.record_id)
    try:
        status = await responses.take(
            user=user, record_id=response.record_id, content=response.content, now=now, actor=actor
        )
    except responses.Refused as refused:
        # Worded for a family member (issue 17): what happened and what to do.
        return RecordResult(key, Status.REJECTED, refused.code, refused.reason())
    except Exception as error:
        if not batch.record_fault(error):
            raise  # the server's fault: a 5xx, and the phone sends again
        # Something in this answer's content, not the database: refused alone.
        logger.warning("sync answer refused: it could not be stored", exc_info=True)
        return _rejected(key, "malformed")
    return RecordResult(key, Status(status))


async def _family_pull(*, user: User, now: datetime) -> dict[str, Any]:
    """A family's phone gets the allow-listed appointment view, nothing else:
    what the offline card draws (docs/sync.md, "A family's pull"). Cancelled
    ones come too, so the card can say so until they are over."""
    upcoming, _recent = await family.appointments(user=user, now=now, include_cancelled=True)
    conflicts = await policy.own_conflicts(user, "appointment_response")
    return {
        "cursor": 0,
        "appointments": [
            {
                "id": str(a.id),
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat(),
                "place": a.place,
                "organisation": a.organisation,
                "with": a.worker_first_name,
                "what_to_bring": a.what_to_bring,
                "status": a.status,
                "response": a.response,
                "version": a.version,
                "pillar": a.pillar,
                "contact_phone": a.contact_phone,
                "latitude": a.latitude,
                "longitude": a.longitude,
                "moved_from": a.moved_from.isoformat() if a.moved_from else None,
                "answerable": a.answerable,
            }
            for a in upcoming
        ],
        "conflicts": [
            {"id": str(c.record_id), "resolved": c.resolved_at is not None} for c in conflicts
        ],
    }


async def pull(
    *, user: User, since: int, forms_hash: str, now: datetime, actor: Actor | None = None
) -> dict[str, Any]:
    """What the phone needs, and what changed since its cursor ``since``.

    Every row is read up to one bound, the committed high-water mark of the
    change numbers, read first; it is the new cursor (docs/sync.md, "Pull").
    The caseload list is always complete, so a participant taken off the
    worker's caseload disappears from the phone at the next pull; one whose
    record changed since the cursor (put back, consent given again) comes
    with all their open appointments. Only pseudonymous codes travel: names
    are not needed offline.
    """
    if user.role is Role.FAMILY:
        return await _family_pull(user=user, now=now)
    bound = await high_water()
    # Only participants work may be recorded for: after consent is withdrawn
    # (or the record erased) they leave the phone at its next pull, so the
    # offline screens cannot start a log for them either.
    # Only the columns the answer carries: a phone pulls after every batch,
    # and building whole rows (answers, dates parsed) was half of a pull.
    participants = await (
        policy.pull_participants(user)
        .order_by("code")
        .values_list("id", "code", "seq", "gender", "organisation_id")
    )
    ids = [pid for pid, _code, _seq, _gender, _org in participants]
    renewed = [pid for pid, _code, seq, _gender, _org in participants if seq > since]
    # What the offline form may offer for each: every pillar in the user's
    # own organisation, the referred ones of another's (docs/referrals.md).
    pillars = await policy.pull_pillars(user, [(p[0], p[4]) for p in participants])
    appointments = await policy.pull_appointments(
        user, ids, since=since, bound=bound, renewed=renewed
    ).order_by("seq")
    holds = await policy.pull_open_appointment_ids(user, ids).values_list("id", flat=True)
    logs = await (
        policy.pull_logs(user, since=since, bound=bound)
        .order_by("seq")
        .values_list("id", "reviewed_at", "revision")
    )
    conflicts = await (
        policy.pull_conflicts(user, since=since, bound=bound)
        .order_by("seq")
        .values_list("record_id", "resolved_at")
    )
    schema, digest = _forms(i18n.current())
    body: dict[str, Any] = {
        "cursor": max(since, bound),
        # The gender only as the grammar needs it ("female", "male" or None):
        # the offline form words its questions about the participant with it.
        "participants": [
            {
                "id": str(pid),
                "code": code,
                "gender": grammatical_gender(gender),
                "pillars": sorted(pillars[pid]),
            }
            for pid, code, _seq, gender, _org in participants
        ],
        "appointments": [_appointment(a) for a in appointments],
        # Complete, like the caseload: an appointment moved to another
        # worker changes where this worker's pull cannot see it.
        "open_appointments": sorted(str(a) for a in holds),
        "records": [
            {"id": str(log_id), "status": "reviewed" if reviewed else "stored", "revision": rev}
            for log_id, reviewed, rev in logs
        ],
        "conflicts": [
            {"id": str(record_id), "resolved": resolved is not None}
            for record_id, resolved in conflicts
        ],
        "forms_hash": digest,
    }
    if forms_hash != body["forms_hash"]:
        body["forms"] = schema
    if actor is not None:  # one event per pull: who took which caseload onto a phone
        await record(
            actor=actor,
            action="sync.pull",
            object_type="caseload",
            detail={"participants": len(body["participants"]), "since": since},
        )
        await _audit_referred(actor, user, participants)
    return body


async def _audit_referred(actor: Actor, user: User, participants: list[Any]) -> None:
    """A pull that takes another organisation's participants onto a partner's
    phone is in that organisation's trail too, once per organisation."""
    counts: dict[int, int] = {}
    for _pid, _code, _seq, _gender, org in participants:
        if org != user.organisation_id:
            counts[org] = counts.get(org, 0) + 1
    for org, count in sorted(counts.items()):
        await record(
            actor=actor,
            action="referral.caseload.read",
            object_type="caseload",
            detail={"participants": count},
            object_organisation_id=org,
        )


# The forms' schema and its hash, per catalogue, language and country (what
# ``schema_of`` words them by): the forms are fixed for the life of the
# process, and hashing their JSON on every pull cost more than the pull's
# own queries.
_FORMS: weakref.WeakKeyDictionary[
    NullTranslations, dict[tuple[str, str | None], tuple[dict[str, Any], str]]
] = weakref.WeakKeyDictionary()


def _forms(translator: i18n.Translator) -> tuple[dict[str, Any], str]:
    made = _FORMS.setdefault(translator.translations, {})
    key = (translator.language, translator.territory)
    if key not in made:
        schema = all_forms_schema(translator)
        digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]
        made[key] = (schema, digest)
    return made[key]


def _appointment(a: Appointment) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "participant": str(a.participant_id),
        "pillar": a.pillar.value,
        "starts_at": a.starts_at.isoformat(),
        "ends_at": a.ends_at.isoformat(),
        "place": a.place,
        "what_to_bring": a.what_to_bring,
        "status": a.status.value,
        "version": a.version,
    }
