"""A change and its audit event commit together or not at all.

Each test makes the audit insert fail for one action (a crash between the
change and its trail) and checks that the change itself was rolled back.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from tortoise.transactions import in_transaction

from server.accounts import invitations
from server.accounts import services as accounts
from server.accounts.models import Invitation, Passkey
from server.appointments import services as appointments
from server.appointments.forms import AppointmentInput
from server.appointments.models import Appointment
from server.audit import services as audit
from server.audit.models import AuditEvent
from server.audit.services import Actor
from server.enums import AppointmentStatus, FamilyResponse, Gender, Pillar, ReviewStatus, Role
from server.errors import NotFound
from server.family import services as family
from server.participants import services as participants
from server.participants.forms import ParticipantInput
from server.participants.models import ConsentRecord, Participant
from server.reviews import services as reviews
from server.reviews.forms import ReviewInput
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog, SessionLogRevision
from server.settings import ROOT
from tests.support import world
from tests.support.web import post_form, signed_in
from tests.test_sessions import fill_family, setting

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ACTOR = Actor(1, 1, "10.0.0.3", "office laptop")


class Crash(Exception):
    """The process dies between writing the change and writing its trail."""


@pytest.fixture
def crash_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def arm(action: str) -> None:
        real = AuditEvent.bulk_create

        async def failing(rows: list[AuditEvent], *args: Any, **kwargs: Any) -> Any:
            if any(row.action == action for row in rows):
                raise Crash(action)
            return await real(rows, *args, **kwargs)

        monkeypatch.setattr(AuditEvent, "bulk_create", failing)

    yield arm


async def officer_world() -> tuple[Any, Any, Participant]:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    return org, officer, await world.participant(org, officer)


def slot(days: int = 3) -> AppointmentInput:
    start = NOW + timedelta(days=days)
    return AppointmentInput(
        pillar=Pillar.FAMILY,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place="Community centre",
        with_user_id=None,
        what_to_bring="",
        family_visible=True,
    )


async def test_appointment_create_rolls_back(orm: None, crash_on: Any) -> None:
    _, officer, participant = await officer_world()
    crash_on("appointment.created")
    with pytest.raises(Crash):
        await appointments.schedule(
            officer=officer, participant=participant, data=slot(), actor=ACTOR
        )
    assert await Appointment.all().count() == 0
    assert await AuditEvent.all().count() == 0


async def test_appointment_cancel_rolls_back(orm: None, crash_on: Any) -> None:
    _, officer, participant = await officer_world()
    made = await appointments.schedule(
        officer=officer, participant=participant, data=slot(), actor=ACTOR
    )
    crash_on("appointment.cancelled")
    with pytest.raises(Crash):
        await appointments.cancel(appointment=made, actor=ACTOR)
    kept = await Appointment.get(id=made.id)
    assert kept.status is AppointmentStatus.SCHEDULED and kept.version == 1


async def test_review_rolls_back(orm: None, crash_on: Any) -> None:
    _, officer, participant = await officer_world()
    data = ReviewInput(
        statuses={pillar: ReviewStatus.ON_TRACK for pillar in Pillar},
        summary="Steady progress",
        next_review_on=date(2026, 6, 1),
    )
    crash_on("review.created")
    with pytest.raises(Crash):
        await reviews.create(
            officer=officer, participant=participant, data=data, today=NOW.date(), actor=ACTOR
        )
    assert await ProgressReview.all().count() == 0


async def test_consent_withdrawal_rolls_back(orm: None, crash_on: Any) -> None:
    _, officer, participant = await officer_world()
    data = ParticipantInput(
        full_name=participant.full_name,
        gender=Gender.FEMALE,
        date_of_birth=None,
        release_date=None,
        language="en",
        consent_given=False,
        consent_date=date(2026, 3, 1),
        worker_ids=frozenset(),
    )
    crash_on("consent.recorded")
    with pytest.raises(Crash):
        await participants.update(
            officer=officer, participant=participant, data=data, today=NOW.date(), actor=ACTOR
        )
    assert (await Participant.get(id=participant.id)).consent_given is True
    assert await ConsentRecord.filter(participant_id=participant.id).count() == 0
    assert await AuditEvent.filter(action="participant.updated").count() == 0


async def test_invitation_rolls_back(orm: None, crash_on: Any) -> None:
    org = await world.organisation()
    crash_on("invitation.create")
    with pytest.raises(Crash):
        await invitations.issue(
            actor=ACTOR,
            organisation=org,
            role=Role.WORKER,
            name="Amina Nakato",
            language="en",
            valid_hours=72,
        )
    assert await Invitation.all().count() == 0


async def test_passkey_removal_rolls_back(orm: None, crash_on: Any) -> None:
    org = await world.organisation()
    user = await world.user(org, Role.WORKER)
    keys = [
        await Passkey.create(
            user=user,
            credential_id=bytes([n]) * 16,
            credential_key=f"key-{n}",
            public_key=b"pk",
            name=f"phone {n}",
        )
        for n in (1, 2)
    ]
    crash_on("passkey.removed")
    with pytest.raises(Crash):
        await accounts.remove_passkey(user=user, passkey_id=keys[0].id, now=NOW, actor=ACTOR)
    assert (await Passkey.get(id=keys[0].id)).revoked_at is None


async def test_family_answer_rolls_back(orm: None, crash_on: Any) -> None:
    org, officer, participant = await officer_world()
    relative = await world.user(org, Role.FAMILY)
    await participant.family.add(relative)
    made = await appointments.schedule(
        officer=officer, participant=participant, data=slot(), actor=ACTOR
    )
    crash_on("appointment.family_response")
    with pytest.raises(Crash):
        await family.respond(
            user=relative,
            appointment_id=made.id,
            response=FamilyResponse.COMING.value,
            message="We will come",
            now=NOW,
            actor=ACTOR,
        )
    kept = await Appointment.get(id=made.id)
    assert kept.family_response is None and kept.status is AppointmentStatus.SCHEDULED


async def test_session_log_edit_rolls_back(app: Starlette, crash_on: Any) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        action, data = await fill_family(client, participant)
        assert (await post_form(client, action, data)).status_code == 303
        log = await SessionLog.get(participant=participant)
        crash_on("session_log.corrected")
        corrected = {**data, "notes": "Changed without a trail"}
        response = await post_form(client, f"/sessions/{log.id}/edit", corrected)
        assert response.status_code == 500
    kept = await SessionLog.get(id=log.id)
    assert kept.revision == 1 and kept.notes == "Mother and brother present."
    assert await SessionLogRevision.all().count() == 0


async def test_change_recorded_outside_a_transaction_is_flagged(orm: None) -> None:
    with pytest.warns(audit.OutsideTransaction):
        await audit.record(actor=ACTOR, action="test.changed")
    # Reads and refusals are not changes: they stand alone without a warning.
    await audit.record(actor=ACTOR, action="participant.read", object_id=str(uuid.uuid4()))
    async with in_transaction():
        await audit.record(actor=ACTOR, action="test.changed")
    assert await AuditEvent.all().count() == 3


# Helpers whose every caller holds the transaction; the runtime check
# (OutsideTransaction, an error under pytest) covers their callers.
CALLED_INSIDE = {
    ("server/appointments/services.py", "_audit"),
    ("server/participants/services.py", "_consent_recorded"),
    ("server/referrals/services.py", "_audit"),
}


def _inside_transaction(parents: list[ast.AST]) -> bool:
    return any(
        isinstance(node, ast.AsyncWith)
        and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", "") == "in_transaction"
            for item in node.items
        )
        for node in parents
    )


def _record_calls(tree: ast.AST) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
    def walk(node: ast.AST, parents: list[ast.AST]) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "record":
            yield node, parents
        for child in ast.iter_child_nodes(node):
            yield from walk(child, [*parents, node])

    yield from walk(tree, [])


def test_every_change_is_recorded_inside_its_transaction() -> None:
    outside = []
    for path in sorted(ROOT.glob("server/**/*.py")):
        if path.parts[-2] == "audit":
            continue
        relative = str(path.relative_to(ROOT))
        for call, parents in _record_calls(ast.parse(path.read_text())):
            action = next((k.value for k in call.keywords if k.arg == "action"), None)
            if isinstance(action, ast.Constant) and audit.standalone(str(action.value)):
                continue
            function = next(
                (p.name for p in reversed(parents) if isinstance(p, ast.AsyncFunctionDef)), ""
            )
            if _inside_transaction(parents) or (relative, function) in CALLED_INSIDE:
                continue
            outside.append(f"{relative}:{call.lineno} {ast.unparse(action or call)}")
    assert outside == []


async def test_refused_appointment_inside_the_log_transaction_stays_audited(orm: None) -> None:
    from server.forms.definitions import latest_form
    from server.forms.validator import validate
    from server.sessions import services as sessions

    org, officer, participant = await officer_world()
    worker, colleague = await world.user(org, Role.WORKER), await world.user(org, Role.WORKER)
    await participant.workers.add(worker, colleague)
    theirs = await appointments.schedule(
        officer=officer,
        participant=participant,
        data=replace(slot(-1), with_user_id=colleague.id),
        actor=ACTOR,
    )
    answers = {
        "participant": str(participant.id),
        "occurred_on": (NOW - timedelta(days=1)).date().isoformat(),
        "occurred_time": "10:30",
        "attendance": "attended",
        "duration_minutes": "45",
        "place": "Family home",
        "engagement": "4",
        "notes": "",
        "follow_up": "no",
        "family_present": ["mother"],
        "setting": "home_visit",
        "family_readiness": "3",
        "family_concerns": ["housing"],
    }
    result = validate(latest_form("family"), answers, now=NOW)
    assert result.ok, result.errors
    # The colleague's appointment is refused where the log is stored, inside
    # its transaction; the refusal must survive that transaction's rollback.
    with pytest.raises(NotFound):
        await sessions.record_log(
            author=worker,
            log_id=uuid.uuid4(),
            result=result,
            appointment_id=theirs.id,
            now=NOW,
            actor=Actor(worker.id, org.id, "10.0.0.9", "phone"),
        )
    assert await SessionLog.all().count() == 0
    denied = await AuditEvent.filter(action="access.denied", object_id=str(theirs.id))
    assert [event.actor_id for event in denied] == [worker.id]
    assert (await Appointment.get(id=theirs.id)).status is AppointmentStatus.SCHEDULED
