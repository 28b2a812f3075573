"""Storing many session logs at once: what a phone's sync batch needs.

The rules are those of ``services.record_log`` (caseload, consent, exactly
once, conflicts kept); only the cost differs. The common case — a new log,
in the author's caseload, for no appointment — is checked with one query
for the whole batch and written in one transaction with one block of change
numbers and its audit events, so a phone's 100 entries cost one commit, not
two hundred. Everything else (an id already on the server, an appointment
to fulfil, an id twice in the batch, a refusal to audit) takes the
one-record path, which answers it exactly as before.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, Event, record_many
from server.enums import Pillar, Role
from server.errors import AppError
from server.forms.validator import Result
from server.sessions.models import SessionLog
from server.sessions.services import Outcome, Recorded, columns, content_hash, record_log
from server.sync.sequence import take_seqs


@dataclass(frozen=True)
class NewLog:
    """A validated log as the phone made it."""

    log_id: uuid.UUID
    result: Result
    appointment_id: uuid.UUID | None = None


@dataclass
class Summary:
    """The caller's audit summary of the whole request, to write with the
    batch when it holds: ``possible`` when it assumed every log would be
    stored here; ``written`` once it was, in the batch's transaction."""

    event: Event
    possible: bool = False
    written: bool = False


# What each log came to: an outcome, or the refusal ``record_log`` raised.
Answer = Recorded | AppError

# Errors that come from one record's content (a value the database or the
# date arithmetic cannot take), never from the database being unreachable:
# those (tortoise's OperationalError, a lost connection) propagate, so the
# phone gets a 5xx and sends again instead of a permanent refusal.
RECORD_FAULTS = (ArithmeticError, ValueError, TypeError, LookupError)
# SQLSTATE class 22, "data exception": PostgreSQL could not take a value.
DATA_EXCEPTION = "22"


def record_fault(error: BaseException) -> bool:
    """True when ``error`` comes from one record's content, not from the server.

    The driver's wrapping (tortoise's ``OperationalError`` around a value
    the database refused) is looked through; a lost connection, a timeout
    or a locked database is never a record's fault.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, RECORD_FAULTS):
            return True
        if str(getattr(seen, "sqlstate", "") or "").startswith(DATA_EXCEPTION):
            return True
        # Only explicit causes (``raise … from``), as the drivers chain them:
        # an outage raised while handling some earlier error is no record's.
        seen = seen.__cause__
    return False


logger = logging.getLogger(__name__)


class RecordFault(AppError):
    """One log could not be stored because of what is in it."""

    status = 422
    code = "malformed"


async def record_logs(
    *,
    author: User,
    logs: Sequence[NewLog],
    now: datetime,
    actor: Actor,
    summary: Summary | None = None,
) -> list[Answer]:
    """Store validated logs exactly once each, answering in their order.

    Returns:
        For each log, in order: what happened (stored, already stored,
        conflict), or the error ``record_log`` would have raised for it
        (``NotFound`` outside the caseload, ``NoConsent``).
    """
    answers: list[Answer] = []
    quick = await _quick(author, logs)
    # The summary holds only if every log takes the batch path and is new.
    whole = summary if summary and summary.possible and len(quick) == len(logs) else None
    try:
        args = (author, [logs[i] for i in quick.values()], actor)
        stored = await (_store_new(*args, summary=whole.event) if whole else _store_new(*args))
    except IntegrityError:
        # Another app server stored one of these ids since we looked: the
        # transaction rolled back whole, and each log takes the careful path.
        stored = {}
    except Exception as error:
        if not record_fault(error):
            raise
        # One log's content failed the shared insert: each takes its own path.
        logger.warning("batch insert failed on a record; storing one by one", exc_info=True)
        stored = {}
    if whole is not None and stored and len(stored) == len(logs):
        whole.written = True  # committed with the logs
    for index, log in enumerate(logs):
        row = stored.get(log.log_id)
        if row is not None and quick.get(log.log_id) == index:
            answers.append(Recorded(Outcome.STORED, row))
            continue
        try:
            answer: Answer = await record_log(
                author=author,
                log_id=log.log_id,
                result=log.result,
                appointment_id=log.appointment_id,
                now=now,
                actor=actor,
            )
        except AppError as error:
            answer = error
        except Exception as error:
            if not record_fault(error):
                raise  # the server's fault: a 5xx, and the phone sends again
            logger.warning("sync log refused: it could not be stored", exc_info=True)
            answer = RecordFault()
        answers.append(answer)
    return answers


async def _quick(author: User, logs: Sequence[NewLog]) -> dict[uuid.UUID, int]:
    """The logs the batch path may take: id → position in the batch."""
    if author.role not in (Role.WORKER, Role.OFFICER) or not logs:
        return {}
    wanted = {log.result.clean["participant"] for log in logs if log.result.ok}
    # Only participants of the author's own organisation: a referred one's
    # logs take ``record_log``, which checks the referred pillars.
    reachable = await policy.loggable_participants(author).filter(
        id__in=wanted, consent_given=True, organisation_id=author.organisation_id
    )
    allowed = {p.id for p in reachable}
    quick: dict[uuid.UUID, int] = {}
    seen: set[uuid.UUID] = set()
    for index, log in enumerate(logs):
        first = log.log_id not in seen
        seen.add(log.log_id)
        if (
            first
            and log.result.ok
            and log.appointment_id is None
            and log.result.clean["participant"] in allowed
        ):
            quick[log.log_id] = index
    return quick


async def _store_new(
    author: User, logs: list[NewLog], actor: Actor, summary: Event | None = None
) -> dict[uuid.UUID, SessionLog]:
    """Insert the logs whose ids are new, with their change numbers and audit
    events; ``summary`` too, last, when every one of ``logs`` was new."""
    if not logs:
        return {}
    async with in_transaction() as conn:
        ids = [log.log_id for log in logs]
        known = set(await policy.logs_with_ids(ids).using_db(conn).values_list("id", flat=True))
        new = [log for log in logs if log.log_id not in known]
        if not new:
            return {}
        first = await take_seqs(conn, len(new))
        rows = [_row(author, log, first + offset) for offset, log in enumerate(new)]
        await SessionLog.bulk_create(rows, using_db=conn)
        events = [_event(row) for row in rows]
        if summary is not None and len(new) == len(logs):
            events.append(summary)
        await record_many(conn, actor, events)
    return {row.id: row for row in rows}


def _row(author: User, log: NewLog, seq: int) -> SessionLog:
    result = log.result
    return SessionLog(
        id=log.log_id,
        pillar=Pillar(result.form.pillar),
        form_version=result.form.version,
        author=author,
        content_hash=content_hash(
            pillar=result.form.pillar,
            form_version=result.form.version,
            values=result.as_json(),
            appointment_id=None,
        ),
        appointment_id=None,
        seq=seq,
        **columns(result),
    )


def _event(row: SessionLog) -> Event:
    # The same event ``record_log`` writes for a stored log.
    return Event(
        action=f"session_log.{Outcome.STORED.value}",
        object_type="session_log",
        object_id=str(row.id),
        detail={"pillar": row.pillar.value, "participant": str(row.participant_id)},
    )
