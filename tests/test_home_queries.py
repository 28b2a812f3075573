"""The worker's home reads: the caseload in one query, the session look-up
with its SQL built once (server/sessions/queries.py, server/prepared.py).

Expected values are written by hand; both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.accounts import sessions
from server.accounts.models import LoginSession
from server.appointments.models import Appointment
from server.enums import Attendance, Pillar, Role
from server.forms import latest_form
from server.participants.models import Participant
from server.prepared import PLACEHOLDER, Prepared
from server.sessions import queries
from server.sessions.models import SessionLog
from tests.support import world

LIFETIMES = sessions.Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def _log(participant: Participant, author: object, at: datetime) -> None:
    await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        form_version=latest_form(Pillar.FAMILY).version,
        occurred_at=at,
        duration_minutes=60,
        author=author,
        attendance=Attendance.ATTENDED,
        engagement=3,
        content_hash="0" * 64,
    )


async def _participant(org: object, officer: object, code: str) -> Participant:
    # A code of our own, so the expected order is known.
    person = await world.participant(org, officer)  # type: ignore[arg-type]
    await Participant.filter(id=person.id).update(code=code)
    person.code = code
    return person


async def test_caseload_lists_each_participant_once_with_the_latest_log(orm: None) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    colleague = await world.user(org, Role.WORKER)
    often = await _participant(org, officer, "UG-AAAAA1")
    never = await _participant(org, officer, "UG-BBBBB2")
    theirs = await _participant(org, officer, "UG-CCCCC3")
    for person in (often, never):
        await person.workers.add(worker)
    await theirs.workers.add(colleague)
    # Three logs, one by a colleague: the last contact is anyone's latest.
    await _log(often, worker, datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    await _log(often, colleague, datetime(2026, 11, 23, 16, 45, tzinfo=UTC))
    await _log(often, worker, datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    await _log(theirs, colleague, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))

    rows = await queries.caseload(worker)

    assert [(row.participant.code, row.last_contact) for row in rows] == [
        ("UG-AAAAA1", datetime(2026, 11, 23, 16, 45, tzinfo=UTC)),
        ("UG-BBBBB2", None),
    ]
    assert rows[0].participant.full_name == "Test Participant"
    # An aware time, as every other datetime the app reads.
    assert rows[0].last_contact is not None and rows[0].last_contact.utcoffset() == timedelta(0)


async def test_an_officer_and_an_admin_get_their_own_caseload(orm: None) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    other_officer = await world.user(org, Role.OFFICER)
    admin = await world.user(org, Role.ADMIN)
    mine = await _participant(org, officer, "UG-DDDDD4")
    await _participant(org, other_officer, "UG-EEEEE5")
    await _log(mine, officer, datetime(2026, 11, 22, 7, 15, tzinfo=UTC))

    officers = await queries.caseload(officer)

    assert [(row.participant.code, row.last_contact) for row in officers] == [
        ("UG-DDDDD4", datetime(2026, 11, 22, 7, 15, tzinfo=UTC))
    ]
    assert await queries.caseload(admin) == []


async def test_the_session_look_up_reads_the_session_its_user_and_organisation(
    orm: None,
) -> None:
    org = await world.organisation("Look-up NGO")
    worker = await world.user(org, Role.WORKER, name="Amina Look-up")
    started = await sessions.start(user=worker, now=NOW, ip="10.0.0.7", device="phone")
    await sessions.start(user=worker, now=NOW, ip="10.0.0.8", device="other phone")

    for _ in range(2):  # built the first time, reused the second
        found = await sessions.resume(token=started.token, now=NOW, lifetimes=LIFETIMES)
        assert found is not None
        assert found.ip == "10.0.0.7" and found.device == "phone"
        assert found.csrf_token == started.session.csrf_token
        assert found.user.name == "Amina Look-up"
        assert found.user.organisation.name == "Look-up NGO"
        assert found.created_at == NOW


async def test_the_session_look_up_finds_nothing_for_another_token(orm: None) -> None:
    org = await world.organisation()
    worker = await world.user(org, Role.WORKER)
    await sessions.start(user=worker, now=NOW, ip="", device="")
    # Quotes and the placeholder's own text are values, never SQL.
    for token in ("not-a-token", "' OR 1=1 --", PLACEHOLDER):
        assert await sessions.resume(token=token, now=NOW, lifetimes=LIFETIMES) is None
    assert await LoginSession.all().count() == 1


async def test_a_prepared_query_takes_its_value_exactly_once(orm: None) -> None:
    twice = Prepared(lambda value: LoginSession.filter(token_hash=value).filter(csrf_token=value))
    with pytest.raises(ValueError, match="exactly once"):
        await twice.all("x")
    never = Prepared(lambda value: LoginSession.filter(ip="127.0.0.1"))
    with pytest.raises(ValueError, match="exactly once"):
        await never.all("x")


async def test_a_prepared_query_is_one_plain_select(orm: None) -> None:
    prefetching = Prepared(
        lambda value: LoginSession.filter(token_hash=value).prefetch_related("user")
    )
    with pytest.raises(ValueError, match="one plain select"):
        await prefetching.all("x")


async def test_a_prepared_query_returns_what_the_queryset_returns(orm: None) -> None:
    org = await world.organisation()
    worker = await world.user(org, Role.WORKER)
    for device in ("a", "b", "c"):
        await sessions.start(user=worker, now=NOW, ip="10.1.1.1", device=device)
    await sessions.start(user=worker, now=NOW, ip="10.2.2.2", device="d")
    by_ip = Prepared(lambda ip: LoginSession.filter(ip=ip).order_by("device"))

    assert [s.device for s in await by_ip.all("10.1.1.1")] == ["a", "b", "c"]
    assert [s.device for s in await by_ip.all("10.2.2.2")] == ["d"]
    assert await by_ip.all("10.3.3.3") == []
    assert await by_ip.first("10.3.3.3") is None
    first = await by_ip.first("10.1.1.1")
    assert first is not None and first.device == "a"


async def _appointment(
    participant: Participant, with_user: object, officer: object, at: datetime, **extra: Any
) -> None:
    await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=at,
        ends_at=at + timedelta(hours=1),
        place=str(extra.pop("place", "Office")),
        with_user=with_user,
        created_by=officer,
        **extra,
    )


async def test_appointments_between_keep_the_workers_own_in_the_window(orm: None) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    colleague = await world.user(org, Role.WORKER)
    first = await _participant(org, officer, "UG-FFFFF6")
    second = await _participant(org, officer, "UG-GGGGG7")
    outside = await _participant(org, officer, "UG-HHHHH8")
    for person in (first, second):
        await person.workers.add(worker, colleague)
    await outside.workers.add(colleague)
    day = datetime(2026, 11, 25, tzinfo=UTC)
    await _appointment(second, worker, officer, day + timedelta(hours=15), place="Market")
    await _appointment(first, worker, officer, day + timedelta(hours=9), place="Home")
    await _appointment(first, worker, officer, day + timedelta(days=3), place="School")
    await _appointment(first, colleague, officer, day + timedelta(hours=10), place="Theirs")
    await _appointment(outside, worker, officer, day + timedelta(hours=11), place="Not mine")
    await _appointment(
        first, worker, officer, day + timedelta(hours=12), place="Off", status="cancelled"
    )
    await _appointment(first, worker, officer, day - timedelta(minutes=1), place="Before")
    await _appointment(first, worker, officer, day + timedelta(days=8), place="After")
    rows = await queries.caseload(worker)

    found = await queries.appointments_between(worker, day, day + timedelta(days=8), rows)

    assert [(a.place, a.participant.code) for a in found] == [
        ("Home", "UG-FFFFF6"),
        ("Market", "UG-GGGGG7"),
        ("School", "UG-FFFFF6"),
    ]
    # Only the caseload handed in counts: a participant missing from it is
    # left out rather than shown without its participant.
    only_first = [row for row in rows if row.participant.code == "UG-FFFFF6"]
    partial = await queries.appointments_between(worker, day, day + timedelta(days=8), only_first)
    assert [a.place for a in partial] == ["Home", "School"]
