"""Who reaches which record (server/policy.py), asked of every query builder
for every kind of user in one small world, against a table written by hand.

The world: organisation A with an admin, two officers, two workers (one
more, disabled) and a family member; its participants p1 (officer 1,
workers 1 and 2, the family member), p2 (officer 2, worker 2), p3 (officer
1, worker 1, erased) and p4 (officer 1, worker 1, no consent); organisation
B with its own staff and participant pb, and px, a record of B wrongly
naming A's officer 1, worker 1 and family member: the organisation check
must hold even then.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from server import policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.audit.services import Actor
from server.enums import (
    AppointmentStatus,
    Attendance,
    Pillar,
    ReviewStatus,
    Role,
)
from server.errors import NotFound
from server.family.models import AppointmentResponse, PushSubscription
from server.orgs.models import Organisation
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from tests.support import world

pytestmark = pytest.mark.usefixtures("orm")

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FROM = Actor(None, None, "10.0.0.9", "Pixel 7")
USERS = ("admin", "off1", "off2", "wk1", "wk2", "fam1", "offb", "wkb", "famb")


@dataclass
class World:
    a: Organisation
    b: Organisation
    people: dict[str, User]
    rows: dict[str, Any]

    def names(self, found: list[Any]) -> set[str]:
        by_id = {(type(row), row.pk): name for name, row in self.rows.items()}
        return {by_id[type(row), row.pk] for row in found}

    def __getitem__(self, name: str) -> Any:
        return self.people[name] if name in self.people else self.rows[name]


async def participant(org: Organisation, officer: User, *workers: User, **extra: Any) -> Any:
    family = extra.pop("family", ())
    made = await world.participant(org, officer, **extra)
    for worker in workers:
        await made.workers.add(worker)
    for relative in family:
        await made.family.add(relative)
    return made


async def appointment(p: Participant, with_user: User, **extra: Any) -> Appointment:
    return await Appointment.create(
        participant=p,
        pillar=Pillar.FAMILY,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        with_user=with_user,
        created_by=with_user,
        **extra,
    )


async def session_log(p: Participant, author: User, **extra: Any) -> SessionLog:
    return await SessionLog.create(
        id=uuid.uuid4(),
        participant=p,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=NOW,
        duration_minutes=30,
        author=author,
        attendance=Attendance.ATTENDED,
        content_hash="h",
        **extra,
    )


@pytest.fixture
async def w() -> World:
    a = await world.organisation("A")
    b = await world.organisation("B")
    people = {
        "admin": await world.user(a, Role.ADMIN),
        "off1": await world.user(a, Role.OFFICER),
        "off2": await world.user(a, Role.OFFICER),
        "wk1": await world.user(a, Role.WORKER),
        "wk2": await world.user(a, Role.WORKER),
        "wk3": await world.user(a, Role.WORKER),
        "fam1": await world.user(a, Role.FAMILY),
        "offb": await world.user(b, Role.OFFICER),
        "wkb": await world.user(b, Role.WORKER),
        "famb": await world.user(b, Role.FAMILY),
        "adminb": await world.user(b, Role.ADMIN),
    }
    await User.filter(id=people["wk3"].id).update(is_active=False)
    u = people
    rows: dict[str, Any] = {}
    rows["p1"] = await participant(a, u["off1"], u["wk1"], u["wk2"], family=[u["fam1"]])
    rows["p2"] = await participant(a, u["off2"], u["wk2"])
    rows["p3"] = await participant(a, u["off1"], u["wk1"], erased_at=NOW)
    rows["p4"] = await participant(a, u["off1"], u["wk1"], consent_given=False)
    rows["pb"] = await participant(b, u["offb"], u["wkb"], family=[u["famb"]])
    rows["px"] = await participant(b, u["off1"], u["wk1"], family=[u["fam1"]])
    p = rows
    rows["a1"] = await appointment(p["p1"], u["wk1"], family_visible=True)
    rows["a2"] = await appointment(p["p1"], u["wk2"])
    rows["a3"] = await appointment(p["p2"], u["wk2"], family_visible=True)
    rows["a4"] = await appointment(p["p1"], u["wk1"], status=AppointmentStatus.DONE)
    rows["a5"] = await appointment(p["p1"], u["wk1"], status=AppointmentStatus.CONFIRMED)
    rows["a6"] = await appointment(p["p1"], u["wk1"], status=AppointmentStatus.CANCELLED)
    rows["ab"] = await appointment(p["pb"], u["wkb"], family_visible=True)
    rows["ax"] = await appointment(p["px"], u["wk1"], family_visible=True)
    rows["l1"] = await session_log(p["p1"], u["wk1"])
    rows["l2"] = await session_log(p["p1"], u["wk2"])
    rows["l3"] = await session_log(p["p2"], u["wk2"])
    rows["l4"] = await session_log(p["p2"], u["off1"])  # written before p2 changed hands
    rows["lb"] = await session_log(p["pb"], u["wkb"])
    rows["lx"] = await session_log(p["px"], u["wk1"])
    for name in ("p1", "p2", "pb", "px"):
        rows[f"c_{name}"] = await ConsentRecord.create(
            participant=p[name], given=True, on_date=date(2026, 1, 1)
        )
    for name in ("p1", "p2", "pb", "px"):
        rows[f"g_{name}"] = await PlanGoal.create(
            id=uuid.uuid4(), participant=p[name], pillar=Pillar.FAMILY, text="Find work"
        )
        rows[f"r_{name}"] = await ProgressReview.create(
            id=uuid.uuid4(),
            participant=p[name],
            officer=u["off1"],
            family=ReviewStatus.ON_TRACK,
            education=ReviewStatus.ON_TRACK,
            vocational=ReviewStatus.ON_TRACK,
            counselling=ReviewStatus.ON_TRACK,
            reviewed_on=date(2026, 2, 1),
        )
    for name in ("l1", "l3", "lb", "lx"):
        rows[f"v_{name}"] = await SessionLogRevision.create(
            session_log=rows[name], revision=1, snapshot={}, edited_by=u["wk1"]
        )
    for name, appt in (("q1", "a1"), ("q3", "a3"), ("qb", "ab"), ("qx", "ax")):
        rows[name] = await AppointmentResponse.create(
            id=uuid.uuid4(),
            appointment=rows[appt],
            author=u["fam1"],
            response="coming",
            base_version=1,
            content_hash="h",
            outcome="applied",
            received_at=NOW,
        )
    return World(a, b, people, rows)


async def each(w: World, build: Any) -> dict[str, set[str]]:
    return {name: w.names(await build(w[name])) for name in USERS}


async def test_participants_by_role(w: World) -> None:
    assert await each(w, policy.participants_for) == {
        "admin": set(),
        "off1": {"p1", "p3", "p4"},
        "off2": {"p2"},
        "wk1": {"p1", "p3", "p4"},
        "wk2": {"p1", "p2"},
        "fam1": {"p1"},
        "offb": {"pb"},
        "wkb": {"pb"},
        "famb": {"pb"},
    }
    assert await each(w, policy.loggable_participants) == {
        "admin": set(),
        "off1": {"p1", "p4"},
        "off2": {"p2"},
        "wk1": {"p1", "p4"},
        "wk2": {"p1", "p2"},
        "fam1": set(),
        "offb": {"pb"},
        "wkb": {"pb"},
        "famb": set(),
    }
    assert await each(w, policy.pull_participants) == {
        "admin": set(),
        "off1": {"p1"},
        "off2": {"p2"},
        "wk1": {"p1"},
        "wk2": {"p1", "p2"},
        "fam1": set(),
        "offb": {"pb"},
        "wkb": {"pb"},
        "famb": set(),
    }
    assert await each(w, policy.organisation_participants) == {
        "admin": {"p1", "p2", "p3", "p4"},
        "off1": {"p1", "p2", "p3", "p4"},
        "off2": {"p1", "p2", "p3", "p4"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"pb", "px"},
        "wkb": set(),
        "famb": set(),
    }
    assert await each(w, policy.consents_for) == {
        "admin": set(),
        "off1": {"c_p1"},
        "off2": {"c_p2"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"c_pb"},
        "wkb": set(),
        "famb": set(),
    }


async def test_appointments_by_role(w: World) -> None:
    assert await each(w, policy.appointments_for) == {
        "admin": set(),
        "off1": {"a1", "a2", "a4", "a5", "a6"},
        "off2": {"a3"},
        "wk1": {"a1", "a4", "a5", "a6"},
        "wk2": {"a2", "a3"},
        "fam1": {"a1"},
        "offb": {"ab"},
        "wkb": {"ab"},
        "famb": {"ab"},
    }

    async def of_p1(user: User) -> list[Appointment]:
        return await policy.fulfillable_appointments(user, w["p1"].id)

    assert await each(w, of_p1) == {
        "admin": set(),
        "off1": {"a1", "a2", "a5"},
        "off2": set(),
        "wk1": {"a1", "a5"},
        "wk2": {"a2"},
        "fam1": set(),
        "offb": set(),
        "wkb": set(),
        "famb": set(),
    }
    assert await each(w, policy.responses_for) == {
        "admin": set(),
        "off1": {"q1"},
        "off2": {"q3"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"qb"},
        "wkb": set(),
        "famb": set(),
    }
    assert w.names(await policy.response_with_id(w["qx"].id)) == {"qx"}


async def test_logs_by_role(w: World) -> None:
    assert await each(w, policy.logs_for) == {
        "admin": set(),
        "off1": {"l1", "l2", "l4"},
        "off2": {"l3", "l4"},
        # Not "lx": a log of another organisation's participant is its
        # author's to read only while a referral is live (docs/referrals.md).
        "wk1": {"l1"},
        "wk2": {"l2", "l3"},
        "fam1": set(),
        "offb": {"lb"},
        "wkb": {"lb"},
        "famb": set(),
    }
    assert await each(w, policy.caseload_logs) == {
        "admin": set(),
        "off1": {"l1", "l2"},
        "off2": {"l3", "l4"},
        "wk1": {"l1", "l2"},
        "wk2": {"l1", "l2", "l3", "l4"},
        "fam1": set(),
        "offb": {"lb"},
        "wkb": {"lb"},
        "famb": set(),
    }
    assert await each(w, policy.revisions_for) == {
        "admin": set(),
        "off1": {"v_l1"},
        "off2": {"v_l3"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"v_lb"},
        "wkb": set(),
        "famb": set(),
    }
    assert await each(w, policy.organisation_logs) == {
        "admin": {"l1", "l2", "l3", "l4"},
        "off1": {"l1", "l2", "l3", "l4"},
        "off2": {"l1", "l2", "l3", "l4"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"lb", "lx"},
        "wkb": set(),
        "famb": set(),
    }
    ids = [w["l1"].id, w["lb"].id]
    assert w.names(await policy.logs_with_ids(ids)) == {"l1", "lb"}
    assert w.names(await policy.conflicting_log(Conflict(record_id=w["lx"].id))) == {"lx"}


async def test_goals_and_reviews_by_role(w: World) -> None:
    assert await each(w, policy.goals_for) == {
        "admin": set(),
        "off1": {"g_p1"},
        "off2": {"g_p2"},
        "wk1": {"g_p1"},
        "wk2": {"g_p1", "g_p2"},
        "fam1": set(),
        "offb": {"g_pb"},
        "wkb": {"g_pb"},
        "famb": set(),
    }
    assert await each(w, policy.reviews_for) == {
        "admin": set(),
        "off1": {"r_p1"},
        "off2": {"r_p2"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"r_pb"},
        "wkb": set(),
        "famb": set(),
    }
    assert await each(w, policy.organisation_reviews) == {
        "admin": {"r_p1", "r_p2"},
        "off1": {"r_p1", "r_p2"},
        "off2": {"r_p1", "r_p2"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": {"r_pb", "r_px"},
        "wkb": set(),
        "famb": set(),
    }
    goal = await policy.goal_for(w["off1"], str(w["g_p1"].id), FROM)
    assert goal.participant.id == w["p1"].id  # attached
    for user, goal_name in (("wk1", "g_p1"), ("off1", "g_p2")):
        with pytest.raises(NotFound):
            await policy.goal_for(w[user], w[goal_name].id, FROM)
    denied = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [(e.object_type, e.object_id) for e in denied] == [
        ("goal", str(w["g_p1"].id)),
        ("goal", str(w["g_p2"].id)),
    ]


async def test_one_record_or_an_audited_refusal(w: World) -> None:
    found = await policy.participant_for(w["wk2"], str(w["p2"].id), FROM)
    assert found.id == w["p2"].id
    assert (await policy.responsible_for(w["off2"], w["p2"].id, FROM)).id == w["p2"].id
    assert (await policy.loggable_participant(w["wk1"], w["p4"].id, FROM)).id == w["p4"].id
    refusals = [
        (policy.participant_for, "wk1", "p2"),
        (policy.responsible_for, "wk2", "p2"),  # a worker is never the responsible one
        (policy.loggable_participant, "wk1", "p3"),  # erased
        (policy.participant_for, "off1", "px"),  # another organisation
    ]
    for ask, who, what in refusals:
        with pytest.raises(NotFound):
            await ask(w[who], w[what].id, FROM)
    with pytest.raises(NotFound):
        await policy.participant_for(w["off1"], "not-an-id", FROM)
    denied = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [(e.object_type, e.object_id, e.object_organisation_id) for e in denied] == [
        ("participant", str(w["p2"].id), w.a.id),
        ("participant", str(w["p2"].id), w.a.id),
        ("participant", str(w["p3"].id), w.a.id),
        ("participant", str(w["px"].id), w.b.id),
        ("participant", "not-an-id", None),
    ]
    assert {(e.ip, e.device) for e in denied} == {("10.0.0.9", "Pixel 7")}


async def test_appointments_one_by_one(w: World) -> None:
    seen = await policy.appointment_for(w["wk1"], str(w["a1"].id), FROM)
    assert seen.participant.organisation.name == "A"  # attached for the page
    assert seen.with_user.id == w["wk1"].id
    managed = await policy.managed_appointment(w["off1"], w["a2"].id, FROM)
    assert managed.participant.organisation.name == "A"
    assert managed.with_user.id == w["wk2"].id
    done = await policy.fulfillable_appointment(w["wk1"], w["p1"].id, w["a5"].id, FROM)
    assert done.id == w["a5"].id
    refusals = [
        (policy.appointment_for, ("wk1", "a2")),
        (policy.managed_appointment, ("wk1", "a1")),
        (policy.managed_appointment, ("off2", "a1")),
    ]
    for ask, (who, what) in refusals:
        with pytest.raises(NotFound):
            await ask(w[who], w[what].id, FROM)
    with pytest.raises(NotFound):
        await policy.fulfillable_appointment(w["wk1"], w["p1"].id, w["a4"].id, FROM)  # done
    denied = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [(e.object_type, e.object_id, e.object_organisation_id) for e in denied] == [
        ("appointment", str(w["a2"].id), w.a.id),
        ("appointment", str(w["a1"].id), w.a.id),
        ("appointment", str(w["a1"].id), w.a.id),
        ("appointment", str(w["a4"].id), w.a.id),
    ]


async def test_reading_and_reviewing_logs(w: World) -> None:
    read = await policy.log_for(w["off2"], w["l4"].id, FROM)
    assert (read.participant.id, read.author.id) == (w["p2"].id, w["off1"].id)
    reviewable = await policy.reviewable_log(w["off2"], str(w["l3"].id), FROM)
    assert reviewable.id == w["l3"].id
    # off1 wrote l4 and still reads it, but p2 is off2's now: no review.
    for who, what in (("off1", "l4"), ("wk2", "l3"), ("off1", "l3")):
        with pytest.raises(NotFound):
            await policy.reviewable_log(w[who], w[what].id, FROM)
    denied = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [(e.object_type, e.object_id) for e in denied] == [
        ("session_log", str(w["l4"].id)),
        ("session_log", str(w["l3"].id)),
        ("session_log", str(w["l3"].id)),
    ]
    assert [e.object_organisation_id for e in denied] == [w.a.id] * 3
    l4 = await policy.log_for(w["off1"], w["l4"].id, FROM)
    assert policy.may_correct(w["off1"], l4)
    assert not policy.may_correct(w["off2"], l4)
    assert not policy.may_review(w["off1"], l4)
    assert policy.may_review(w["off2"], l4)
    l4.participant.officer_id = w["wk2"].id  # a worker named as officer: still no
    assert not policy.may_review(w["wk2"], l4)


async def test_a_refusal_is_audited_for_the_organisation_holding_the_record(w: World) -> None:
    long_id = "x" * 80
    error = await policy.denied(FROM, "participant", long_id)
    assert isinstance(error, NotFound)
    error = await policy.denied(FROM, "appointment", str(w["ab"].id))
    error = await policy.denied(FROM, "participant", str(uuid.uuid4()))
    error = await policy.denied(FROM, "unknown_kind", str(w["p1"].id))
    error = await policy.denied(FROM, "participant", str(w["p1"].id), owner_organisation_id=99)
    denied = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [(e.object_type, e.object_id, e.object_organisation_id) for e in denied] == [
        ("participant", "x" * 64, None),
        ("appointment", str(w["ab"].id), w.b.id),
        ("participant", denied[2].object_id, None),
        ("unknown_kind", str(w["p1"].id), None),
        ("participant", str(w["p1"].id), 99),
    ]


def test_ids_are_parsed_or_refused() -> None:
    assert policy.parse_id("00000000-0000-0000-0000-00000000000a") == uuid.UUID(int=10)
    assert policy.parse_id(uuid.UUID(int=5)) == uuid.UUID(int=5)
    assert policy.parse_id("nope") is None
    assert policy.parse_id(None) is None


async def test_users_invitations_and_import(w: World) -> None:
    invite = {
        name: {r for r in Role if policy.can_invite(w[name], r)}
        for name in ("admin", "off1", "wk1", "fam1")
    }
    assert invite == {
        "admin": {Role.ADMIN, Role.OFFICER, Role.WORKER, Role.FAMILY},
        "off1": {Role.WORKER, Role.FAMILY},
        "wk1": set(),
        "fam1": set(),
    }
    assert [policy.can_manage_users(w[n]) for n in ("admin", "off1", "wk1")] == [
        True,
        False,
        False,
    ]
    assert policy.same_organisation(w["off1"], w["wk1"])
    assert not policy.same_organisation(w["off1"], w["offb"])
    assert [policy.may_import(w[n]) for n in ("admin", "off1", "wk1", "fam1")] == [
        True,
        True,
        False,
        False,
    ]
    codes = [w["p1"].code, w["pb"].code, "NOPE-1"]
    assert w.names(await policy.taken_codes(w["off1"], codes)) == {"p1", "pb"}
    assert await policy.taken_codes(w["wk1"], codes) == []
    assert await policy.taken_codes(w["off1"], []) == []
    staff = {u.id for u in await policy.importable_staff(w["admin"])}
    assert staff == {w["off1"].id, w["off2"].id, w["wk1"].id, w["wk2"].id}
    assert await policy.importable_staff(w["wk1"]) == []
    ids = [w["p1"].id, w["pb"].id]
    assert w.names(await policy.imported_with_ids(w["off1"], ids)) == {"p1"}
    assert await policy.imported_with_ids(w["wk1"], ids) == []
    assert await policy.imported_with_ids(w["off1"], []) == []
    assert (await policy.organisation_for(w["admin"], FROM)).id == w.a.id
    with pytest.raises(NotFound):
        await policy.organisation_for(w["off1"], FROM)
    [event] = await AuditEvent.filter(action="access.denied")
    assert (event.object_type, event.object_id) == ("organisation", str(w.a.id))


async def test_pulls_read_one_window(w: World) -> None:
    await Appointment.filter(id=w["a1"].id).update(seq=5)
    await Appointment.filter(id=w["a4"].id).update(seq=10)
    await Appointment.filter(id=w["a5"].id).update(seq=3)
    await Appointment.filter(id=w["a6"].id).update(seq=2)
    await SessionLog.filter(id=w["l1"].id).update(seq=5)
    await SessionLog.filter(id=w["l2"].id).update(seq=6)  # wk2's: never wk1's pull
    await SessionLog.filter(id=w["lx"].id).update(seq=10)
    p1 = w["p1"].id

    async def pulled(since: int, bound: int, renewed: list[uuid.UUID]) -> set[str]:
        query = policy.pull_appointments(w["wk1"], [p1], since=since, bound=bound, renewed=renewed)
        return w.names(await query)

    assert await pulled(4, 10, []) == {"a1", "a4"}
    assert await pulled(5, 10, []) == {"a4"}
    assert await pulled(4, 9, []) == {"a1"}
    # A renewed participant brings every open appointment up to the bound.
    assert await pulled(5, 10, [p1]) == {"a1", "a4", "a5"}  # not a6: cancelled
    assert await pulled(5, 10, [w["p2"].id]) == {"a4"}
    other = policy.pull_appointments(w["wk1"], [w["px"].id], since=0, bound=99, renewed=[])
    assert await other == []

    # "lx" (seq 10) is of another organisation's participant with no live
    # referral: never pulled (docs/referrals.md); "l1" (seq 5) is not after 5.
    logs = policy.pull_logs(w["wk1"], since=5, bound=10)
    assert w.names(await logs) == set()
    assert w.names(await policy.pull_logs(w["wk1"], since=4, bound=10)) == {"l1"}
    assert w.names(await policy.pull_logs(w["wk1"], since=4, bound=9)) == {"l1"}
    conflict = await Conflict.create(
        record_type="session_log",
        record_id=w["l1"].id,
        organisation_id=w.a.id,
        author=w["wk1"],
        payload={},
        content_hash="h",
        received_at=NOW,
        seq=7,
    )
    w.rows["k1"] = conflict
    assert w.names(await policy.pull_conflicts(w["wk1"], since=6, bound=7)) == {"k1"}
    assert await policy.pull_conflicts(w["wk1"], since=7, bound=9) == []
    assert await policy.pull_conflicts(w["wk1"], since=0, bound=6) == []
    assert await policy.pull_conflicts(w["wk2"], since=0, bound=9) == []
    assert w.names(await policy.own_conflicts(w["wk1"], "session_log")) == {"k1"}
    assert await policy.own_conflicts(w["wk1"], "appointment_response") == []
    assert await policy.own_conflicts(w["wk2"], "session_log") == []


async def test_conflicts_go_to_the_responsible_officer(w: World) -> None:
    async def conflict(name: str, record_type: str, record: str, org: Organisation) -> None:
        payload = {"appointment": str(w["a1"].id)} if record_type != "session_log" else {}
        w.rows[name] = await Conflict.create(
            record_type=record_type,
            record_id=w[record].id,
            organisation_id=org.id,
            author=w["wk1"],
            payload=payload,
            content_hash=name,
            received_at=NOW,
        )

    await conflict("k_l1", "session_log", "l1", w.a)
    await conflict("k_l3", "session_log", "l3", w.a)
    await conflict("k_q1", "appointment_response", "q1", w.a)
    await conflict("k_q3", "appointment_response", "q3", w.a)
    await conflict("k_lx", "session_log", "lx", w.b)
    await conflict("k_mix", "appointment_response", "l1", w.a)  # type and id disagree
    await conflict("k_mix2", "session_log", "q1", w.a)
    await conflict("k_l1b", "session_log", "l1", w.b)  # filed under another organisation
    assert await each(w, policy.conflicts_to_resolve) == {
        "admin": set(),
        "off1": {"k_l1", "k_q1"},
        "off2": {"k_l3", "k_q3"},
        "wk1": set(),
        "wk2": set(),
        "fam1": set(),
        "offb": set(),
        "wkb": set(),
        "famb": set(),
    }
    about = w.rows["k_q1"]
    assert w.names(await policy.conflicting_appointment(w["off1"], about)) == {"a1"}
    assert await policy.conflicting_appointment(w["off2"], about) == []
    assert await policy.conflicting_appointment(w["wk1"], about) == []
    await AppointmentResponse.create(
        id=uuid.uuid4(),
        appointment=w["a1"],
        author=w["fam1"],
        response="coming",
        base_version=3,
        content_hash="h",
        outcome="applied",
        received_at=NOW,
    )
    await AppointmentResponse.create(
        id=uuid.uuid4(),
        appointment=w["a1"],
        author=w["fam1"],
        response="coming",
        base_version=4,
        content_hash="h",
        outcome="conflict",
        received_at=NOW,
    )
    applied = policy.applied_family_answers(w["a1"].id, from_version=3)
    assert [r.base_version for r in await applied] == [3]
    assert len(await policy.applied_family_answers(w["a1"].id, from_version=1)) == 2
    assert await policy.applied_family_answers(w["a2"].id, from_version=0) == []


async def test_row_and_attendance_stay_on_the_record_given(w: World) -> None:
    assert w.names(await policy.row(w["l2"])) == {"l2"}
    await SessionLog.filter(id=w["l2"].id).update(appointment_id=w["a2"].id)
    taken = await policy.attendance_of(w["a2"])
    assert [(t.id, t.attendance) for t in taken] == [(w["l2"].id, Attendance.ATTENDED)]
    assert await policy.attendance_of(w["a1"]) == []


async def test_reminder_subscriptions_are_the_family_members_own(w: World) -> None:
    async def subscribe(name: str, who: str) -> None:
        w.rows[name] = await PushSubscription.create(
            user=w[who],
            endpoint_hash=name * 8,
            endpoint=f"https://push.example/{name}",
            p256dh="k",
            auth="a",
            created_at=NOW,
        )

    await subscribe("s_fam1", "fam1")
    await subscribe("s_famb", "famb")
    await subscribe("s_wk1", "wk1")  # staff never hold one: refused all the same
    assert await each(w, policy.push_subscriptions_for) == {
        "admin": set(),
        "off1": set(),
        "off2": set(),
        "wk1": set(),
        "wk2": set(),
        "fam1": {"s_fam1"},
        "offb": set(),
        "wkb": set(),
        "famb": {"s_famb"},
    }
    own = await policy.own_push_subscription(w["fam1"], "s_fam1" * 8, FROM)
    assert own.id == w["s_fam1"].id
    for who, name in (("famb", "s_fam1"), ("wk1", "s_wk1")):
        with pytest.raises(NotFound):
            await policy.own_push_subscription(w[who], name * 8, FROM)
    denied = await AuditEvent.filter(action="access.denied").order_by("id")
    assert [(e.object_type, e.object_id, e.ip) for e in denied] == [
        ("push_subscription", ("s_fam1" * 8)[:16], "10.0.0.9"),
        ("push_subscription", ("s_wk1" * 8)[:16], "10.0.0.9"),
    ]
    assert w.names(await policy.push_subscription_with_endpoint("s_famb" * 8)) == {"s_famb"}
    assert w.names(await policy.every_push_subscription()) == {"s_fam1", "s_famb", "s_wk1"}
