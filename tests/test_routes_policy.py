# ruff: noqa: E501  (the table below is easier to check with one row per line)
"""Every route by every kind of user, against answers written here by hand.

The expected status of each cell comes from the table below, never from the
code under test (not from the decorators' ``.access``): a route added
without a row fails ``test_the_table_has_a_row_for_every_route``, and a
rule loosened or tightened in the code fails the walk.

Columns — who asks, and how they stand to the records of the world:

  O   officer responsible for participant P        Op  officer, same organisation
  Oa  officer of another organisation
  W   worker assigned to P, with appointment A      Wp  worker, same organisation
  Wa  worker of another organisation
  F   family member linked to P                     Fp  family member, not linked
  Fa  family member of another organisation
  A   administrator                                 Aa  administrator elsewhere
  N   nobody signed in

A cell is a status, or ``x``: refused as if the record did not exist (404)
with the refusal written to the audit trail.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from server.accounts.models import Passkey, User
from server.appointments.models import Appointment
from server.audit.models import AuditEvent
from server.enums import Attendance, GoalStatus, Pillar, Role
from server.participants.models import PlanGoal
from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.support import world
from tests.support.web import ORIGIN, signed_in

COLUMNS = ("O", "Op", "Oa", "W", "Wp", "Wa", "F", "Fp", "Fa", "A", "Aa", "N")


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the path exactly as in the app's route table
    url: str  # the request, with {P} {A} {A2} {L} {G} {C} {U} {UK} {K} {NEW} filled in
    cells: str  # one answer per column, in COLUMNS order
    body: dict[str, Any] | None = None


FORM = {"kind": "form"}

# Walked top to bottom by every user: changes that would alter later answers
# (cancelling, reviewing, disabling, removing a passkey, signing out) come last.
TABLE: tuple[Row, ...] = (
    #   method route / request                                   O   Op  Oa  W   Wp  Wa  F   Fp  Fa  A   Aa  N
    Row("GET", "/", "/",                                        "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/healthz", "/healthz",                          "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/signin", "/signin",                            "303 303 303 303 303 303 303 303 303 303 303 200"),
    Row("POST", "/api/auth/signin/options", "/api/auth/signin/options",
                                                                "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("POST", "/api/auth/signin/verify", "/api/auth/signin/verify",
                                                                "422 422 422 422 422 422 422 422 422 422 422 422", {}),
    Row("GET", "/enrol/{token}", "/enrol/not-a-real-token",     "410 410 410 410 410 410 410 410 410 410 410 410"),
    Row("POST", "/api/auth/enrol/{token}/options", "/api/auth/enrol/not-a-real-token/options",
                                                                "410 410 410 410 410 410 410 410 410 410 410 410"),
    Row("POST", "/api/auth/enrol/{token}/verify", "/api/auth/enrol/not-a-real-token/verify",
                                                                "422 422 422 422 422 422 422 422 422 422 422 422", {}),
    Row("GET", "/api/openapi.json", "/api/openapi.json",        "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/calendar/{token}.ics", "/calendar/not-a-real-token.ics",
                                                                "404 404 404 404 404 404 404 404 404 404 404 404"),
    Row("GET", "/metrics", "/metrics",                          "404 404 404 404 404 404 404 404 404 200 200 404"),
    Row("GET", "/sw.js", "/sw.js",                              "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/manifest.webmanifest", "/manifest.webmanifest",
                                                                "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/app/shell", "/app/shell",                      "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/i18n/{lang}.json", "/i18n/kk.json",            "200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/i18n/{lang}/calendar.json", "/i18n/kk/calendar.json",
                                                                "200 200 200 200 200 200 200 200 200 200 200 200"),
    # Own account.
    Row("GET", "/account", "/account",                          "200 200 200 200 200 200 200 200 200 200 200 303"),
    Row("GET", "/api/me", "/api/me",                            "200 200 200 200 200 200 200 200 200 200 200 401"),
    Row("POST", "/account/language", "/account/language",       "303 303 303 303 303 303 303 303 303 303 303 303",
        {"language": "en"} | FORM),
    Row("POST", "/api/account/passkeys/options", "/api/account/passkeys/options",
                                                                "200 200 200 200 200 200 200 200 200 200 200 401"),
    Row("POST", "/api/account/passkeys/verify", "/api/account/passkeys/verify",
                                                                "422 422 422 422 422 422 422 422 422 422 422 401", {}),
    Row("POST", "/account/passkeys/{passkey_id:int}/rename", "/account/passkeys/{K}/rename",
                                                                "303 303 303 303 303 303 303 303 303 303 303 303",
        {"name": "Work phone"} | FORM),
    # Someone else's passkey is nobody else's to rename.
    Row("POST", "/account/passkeys/{passkey_id:int}/rename", "/account/passkeys/{UK}/rename",
                                                                "404 404 404 404 404 404 404 404 404 404 404 303",
        {"name": "Taken"} | FORM),
    # Invitations: officers invite workers and families (of their own participants).
    Row("GET", "/invitations/new", "/invitations/new",          "200 200 200 x   x   x   x   x   x   200 200 303"),
    Row("POST", "/invitations", "/invitations",                 "200 422 422 x   x   x   x   x   x   422 422 303",
        {"role": "family", "name": "Amina Relative", "language": "en", "participant": "{P}"} | FORM),
    # Administration of the organisation's users and audit trail.
    Row("GET", "/admin/users", "/admin/users",                  "x   x   x   x   x   x   x   x   x   200 200 303"),
    Row("GET", "/admin/audit", "/admin/audit",                  "x   x   x   x   x   x   x   x   x   200 200 303"),
    Row("GET", "/admin/organisation", "/admin/organisation",    "x   x   x   x   x   x   x   x   x   200 200 303"),
    Row("POST", "/admin/organisation", "/admin/organisation",   "x   x   x   x   x   x   x   x   x   422 422 303", FORM),
    # Bringing the caseload from a spreadsheet: officers and admins.
    Row("GET", "/import", "/import",                            "200 200 200 x   x   x   x   x   x   200 200 303"),
    Row("GET", "/import/template.csv", "/import/template.csv",  "200 200 200 x   x   x   x   x   x   200 200 303"),
    Row("POST", "/import/preview", "/import/preview",           "422 422 422 x   x   x   x   x   x   422 422 303", FORM),
    Row("POST", "/import/confirm", "/import/confirm",           "422 422 422 x   x   x   x   x   x   422 422 303", FORM),
    # Participants.
    Row("GET", "/participants", "/participants",                "200 200 200 x   x   x   x   x   x   x   x   303"),
    Row("GET", "/participants/new", "/participants/new",        "200 200 200 x   x   x   x   x   x   x   x   303"),
    Row("POST", "/participants/new", "/participants/new",       "422 422 422 x   x   x   x   x   x   x   x   303", FORM),
    Row("GET", "/participants/{id}", "/participants/{P}",       "200 x   x   200 x   x   x   x   x   x   x   303"),
    Row("GET", "/participants/{id}/edit", "/participants/{P}/edit",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("POST", "/participants/{id}/edit", "/participants/{P}/edit",
                                                                "422 x   x   x   x   x   x   x   x   x   x   303", FORM),
    Row("POST", "/participants/{id}/goals", "/participants/{P}/goals",
                                                                "303 x   x   x   x   x   x   x   x   x   x   303",
        {"pillar": "education", "text": "Finish the literacy course"} | FORM),
    Row("POST", "/goals/{id}", "/goals/{G}",                    "303 x   x   x   x   x   x   x   x   x   x   303",
        {"text": "Finish the literacy course by June"} | FORM),
    Row("GET", "/participants/{id}/subject-access.json", "/participants/{P}/subject-access.json",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("GET", "/participants/{id}/subject-access", "/participants/{P}/subject-access",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("GET", "/participants/{id}/progress", "/participants/{P}/progress",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("GET", "/participants/{id}/reviews/new", "/participants/{P}/reviews/new",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("POST", "/participants/{id}/reviews/new", "/participants/{P}/reviews/new",
                                                                "422 x   x   x   x   x   x   x   x   x   x   303", FORM),
    # Needs assessments: the responsible officer only. Taking a proposal
    # names an assessment; none is sent here, so the officer's answer is 404.
    Row("GET", "/participants/{id}/assessments", "/participants/{P}/assessments",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("GET", "/participants/{id}/assessments/new", "/participants/{P}/assessments/new",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("POST", "/participants/{id}/assessments/new", "/participants/{P}/assessments/new",
                                                                "422 x   x   x   x   x   x   x   x   x   x   303", FORM),
    Row("POST", "/participants/{id}/assessments/goals", "/participants/{P}/assessments/goals",
                                                                "404 x   x   x   x   x   x   x   x   x   x   303",
        {"pillar": "education"} | FORM),
    # Referrals (docs/referrals.md; by relationship: tests/test_routes_referrals.py).
    # The world has no referral: deciding or ending an unknown one is refused.
    Row("GET", "/referrals", "/referrals",                      "200 200 200 x   x   x   x   x   x   200 200 303"),
    Row("GET", "/participants/{id}/referrals", "/participants/{P}/referrals",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("POST", "/participants/{id}/referrals", "/participants/{P}/referrals",
                                                                "422 x   x   x   x   x   x   x   x   x   x   303", FORM),
    Row("POST", "/referrals/{id}/accept", "/referrals/{NEW}/accept",
                                                                "x   x   x   x   x   x   x   x   x   x   x   303", FORM),
    Row("POST", "/referrals/{id}/decline", "/referrals/{NEW}/decline",
                                                                "x   x   x   x   x   x   x   x   x   x   x   303",
        {"reason": "Full"} | FORM),
    Row("POST", "/referrals/{id}/end", "/referrals/{NEW}/end",  "x   x   x   x   x   x   x   x   x   x   x   303",
        {"reason": "Done"} | FORM),
    Row("GET", "/dashboard", "/dashboard",                      "200 200 200 x   x   x   x   x   x   x   x   303"),
    Row("GET", "/indicators", "/indicators",                    "200 200 200 x   x   x   x   x   x   200 200 303"),
    Row("GET", "/indicators/export.csv", "/indicators/export.csv",
                                                                "200 200 200 x   x   x   x   x   x   200 200 303"),
    Row("POST", "/indicators/session-logs.csv", "/indicators/session-logs.csv",
                                                                "200 200 200 x   x   x   x   x   x   x   x   303", FORM),
    # The programme view: coordinators only (tests/test_routes_coordinator.py).
    Row("GET", "/programme", "/programme",                      "x   x   x   x   x   x   x   x   x   x   x   303"),
    Row("GET", "/programme/export.csv", "/programme/export.csv",
                                                                "x   x   x   x   x   x   x   x   x   x   x   303"),
    # Appointments: the officer manages; the worker sees the ones they take part in.
    Row("GET", "/participants/{id}/appointments/new", "/participants/{P}/appointments/new",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("POST", "/participants/{id}/appointments/new", "/participants/{P}/appointments/new",
                                                                "422 x   x   x   x   x   x   x   x   x   x   303", FORM),
    Row("GET", "/appointments/{id}", "/appointments/{A}",       "200 x   x   200 x   x   x   x   x   x   x   303"),
    Row("GET", "/appointments/{id}/edit", "/appointments/{A}/edit",
                                                                "200 x   x   x   x   x   x   x   x   x   x   303"),
    Row("POST", "/appointments/{id}/edit", "/appointments/{A}/edit",
                                                                "422 x   x   x   x   x   x   x   x   x   x   303", FORM),
    # Logging sessions and reading them.
    Row("GET", "/log", "/log",                                  "200 200 200 200 200 200 x   x   x   x   x   303"),
    Row("GET", "/log/{id}", "/log/{P}",                         "200 x   x   200 x   x   x   x   x   x   x   303"),
    Row("GET", "/log/{id}/{pillar}", "/log/{P}/family?appointment={A}",
                                                                "200 x   x   200 x   x   x   x   x   x   x   303"),
    Row("POST", "/log/{id}/{pillar}", "/log/{P}/family?log={NEW}&appointment={A}",
                                                                "422 x   x   422 x   x   x   x   x   x   x   303",
        {"form_version": "1"} | FORM),
    Row("GET", "/sessions/{id}", "/sessions/{L}",               "200 x   x   200 x   x   x   x   x   x   x   303"),
    Row("GET", "/sessions/{id}/edit", "/sessions/{L}/edit",     "x   x   x   200 x   x   x   x   x   x   x   303"),
    Row("POST", "/sessions/{id}/edit", "/sessions/{L}/edit",    "x   x   x   422 x   x   x   x   x   x   x   303",
        {"form_version": "1"} | FORM),
    Row("GET", "/review", "/review",                            "200 200 200 x   x   x   x   x   x   x   x   303"),
    Row("GET", "/api/forms", "/api/forms",                      "200 200 200 200 200 200 x   x   x   x   x   401"),
    # Conflicts: the responsible officer resolves them.
    Row("GET", "/conflicts", "/conflicts",                      "200 200 200 x   x   x   x   x   x   x   x   303"),
    # Sync: phones of staff and families.
    Row("GET", "/api/sync/key", "/api/sync/key",                "200 200 200 200 200 200 200 200 200 x   x   401"),
    Row("POST", "/api/sync/push", "/api/sync/push",             "200 200 200 200 200 200 200 200 200 x   x   401",
        {"records": []}),
    Row("GET", "/api/sync/pull", "/api/sync/pull",              "200 200 200 200 200 200 200 200 200 x   x   401"),
    # Families: their relative's family-visible appointments.
    Row("GET", "/family/appointments/{id}/calendar.ics", "/family/appointments/{A}/calendar.ics",
                                                                "x   x   x   x   x   x   200 x   x   x   x   303"),
    Row("POST", "/family/appointments/{id}/response", "/family/appointments/{A}/response",
                                                                "x   x   x   x   x   x   303 x   x   x   x   303",
        {"response": "coming", "message": "We will come"} | FORM),
    Row("GET", "/family/calendar", "/family/calendar",          "x   x   x   x   x   x   200 200 200 x   x   303"),
    Row("POST", "/family/calendar", "/family/calendar",         "x   x   x   x   x   x   200 200 200 x   x   303", FORM),
    Row("POST", "/family/calendar/revoke", "/family/calendar/revoke",
                                                                "x   x   x   x   x   x   303 303 303 x   x   303", FORM),
    # Reminders on a family member's own phone (Web Push).
    Row("GET", "/api/family/reminders/key", "/api/family/reminders/key",
                                                                "x   x   x   x   x   x   200 200 200 x   x   401"),
    Row("POST", "/api/family/reminders", "/api/family/reminders",
                                                                "x   x   x   x   x   x   422 422 422 x   x   401", {}),
    Row("POST", "/api/family/reminders/off", "/api/family/reminders/off",
                                                                "x   x   x   x   x   x   422 422 422 x   x   401", {}),
    # Changes that alter what later rows would answer.
    Row("POST", "/conflicts/{id:int}", "/conflicts/{C}",        "303 x   x   x   x   x   x   x   x   x   x   303",
        {"choice": "keep"} | FORM),
    Row("POST", "/sessions/{id}/review", "/sessions/{L}/review",
                                                                "303 x   x   x   x   x   x   x   x   x   x   303",
        {"comment": "Seen, thank you"} | FORM),
    Row("POST", "/appointments/{id}/cancel", "/appointments/{A2}/cancel",
                                                                "303 x   x   x   x   x   x   x   x   x   x   303", FORM),
    Row("POST", "/admin/users/{id:int}/disable", "/admin/users/{U}/disable",
                                                                "x   x   x   x   x   x   x   x   x   303 404 303", FORM),
    Row("POST", "/admin/users/{id:int}/enable", "/admin/users/{U}/enable",
                                                                "x   x   x   x   x   x   x   x   x   303 404 303", FORM),
    Row("POST", "/admin/users/{id:int}/recovery", "/admin/users/{U}/recovery",
                                                                "x   x   x   x   x   x   x   x   x   200 404 303", FORM),
    Row("POST", "/admin/passkeys/{id:int}/revoke", "/admin/passkeys/{UK}/revoke",
                                                                "x   x   x   x   x   x   x   x   x   303 404 303", FORM),
    Row("POST", "/language", "/language",                       "303 303 303 303 303 303 303 303 303 303 303 303",
        {"language": "fr"} | FORM),
    Row("POST", "/account/passkeys/{passkey_id:int}/remove", "/account/passkeys/{K}/remove",
                                                                "303 303 303 303 303 303 303 303 303 303 303 303", FORM),
    Row("POST", "/signout", "/signout",                         "303 303 303 303 303 303 303 303 303 303 303 303", FORM),
)  # fmt: skip


def expected(row: Row, column: str) -> str:
    cells = row.cells.split()
    assert len(cells) == len(COLUMNS), f"{row.method} {row.url}: {len(cells)} cells"
    return cells[COLUMNS.index(column)]


def test_the_table_has_a_row_for_every_route(app: Starlette) -> None:
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or {"GET"}
        if method != "HEAD"
    }
    tabled = {(row.method, row.route) for row in TABLE}
    assert served - tabled == set(), "routes without a row in the table"
    assert tabled - served == set(), "rows for routes the app does not have"
    for row in TABLE:
        expected(row, "N")  # every row has all its cells


def test_every_route_is_wrapped_by_an_access_rule(app: Starlette) -> None:
    # Only that a rule is declared (server/access.py); what it allows is
    # checked against the table above, never read from it.
    missing = [
        route.path
        for route in app.routes
        if isinstance(route, Route) and not hasattr(route.endpoint, "access")
    ]
    assert missing == []


@dataclass
class World:
    users: dict[str, User]
    ids: dict[str, str]


async def passkey(user: User) -> Passkey:
    raw = secrets.token_bytes(16)
    return await Passkey.create(
        user=user, credential_id=raw, credential_key=raw.hex(), public_key=b"key", name="phone"
    )


async def build_world() -> World:
    home = await world.organisation("Home NGO")
    away = await world.organisation("Away NGO")
    users = {
        "O": await world.user(home, Role.OFFICER, name="Joseph Okello"),
        "Op": await world.user(home, Role.OFFICER, name="Peer Officer"),
        "Oa": await world.user(away, Role.OFFICER, name="Away Officer"),
        "W": await world.user(home, Role.WORKER, name="Brenda Achieng"),
        "Wp": await world.user(home, Role.WORKER, name="Peer Worker"),
        "Wa": await world.user(away, Role.WORKER, name="Away Worker"),
        "F": await world.user(home, Role.FAMILY, name="Aisha Relative"),
        "Fp": await world.user(home, Role.FAMILY, name="Peer Family"),
        "Fa": await world.user(away, Role.FAMILY, name="Away Family"),
        "A": await world.user(home, Role.ADMIN, name="Home Admin"),
        "Aa": await world.user(away, Role.ADMIN, name="Away Admin"),
    }
    # Everyone's own two passkeys (one may go), and a bystander the
    # administrators act on.
    for user in users.values():
        await passkey(user)
        await passkey(user)
    bystander = await world.user(home, Role.WORKER, name="Bystander Worker")
    bystander_key = await passkey(bystander)
    participant = await world.participant(home, users["O"], full_name="Dana Serikova")
    await participant.workers.add(users["W"])
    await participant.family.add(users["F"])
    # The peers have participants of their own, so their empty answers mean something.
    peers = await world.participant(home, users["Op"])
    await peers.workers.add(users["Wp"])
    await peers.family.add(users["Fp"])
    soon = datetime.now(UTC) + timedelta(hours=2)

    async def appointment() -> Appointment:
        return await Appointment.create(
            participant=participant,
            pillar=Pillar.FAMILY,
            starts_at=soon,
            ends_at=soon + timedelta(hours=1),
            place="Community centre",
            with_user=users["W"],
            family_visible=True,
            created_by=users["O"],
        )

    first, second = await appointment(), await appointment()
    log = await SessionLog.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        form_version=1,
        occurred_at=datetime.now(UTC) - timedelta(days=1),
        duration_minutes=45,
        author=users["W"],
        attendance=Attendance.ATTENDED,
        content_hash="0" * 64,
    )
    goal = await PlanGoal.create(
        participant=participant, pillar=Pillar.EDUCATION, text="Literacy", status=GoalStatus.OPEN
    )
    conflict = await Conflict.create(
        record_type="session_log",
        record_id=log.id,
        organisation_id=home.id,
        author=users["W"],
        payload={"pillar": "family", "form_version": 1, "values": {}, "appointment": None},
        content_hash="1" * 64,
        received_at=datetime.now(UTC),
    )
    ids = {
        "P": str(participant.id),
        "A": str(first.id),
        "A2": str(second.id),
        "L": str(log.id),
        "G": str(goal.id),
        "C": str(conflict.id),
        "U": str(bystander.id),
        "UK": str(bystander_key.id),
        "NEW": str(uuid.uuid4()),
    }
    return World(users, ids)


async def denials() -> int:
    return await AuditEvent.filter(action="access.denied").count()


def fill(template: str, values: dict[str, str]) -> str:
    for key in sorted(values, key=len, reverse=True):  # {UK} before {U}
        template = template.replace("{" + key + "}", values[key])
    return template


async def ask(
    client: httpx.AsyncClient, row: Row, values: dict[str, str], token: str
) -> httpx.Response:
    headers = {"origin": ORIGIN, "x-csrf-token": token}
    url = fill(row.url, values)
    if row.body is None:
        return await client.request(row.method, url, headers=headers)
    body = {key: fill(str(value), values) for key, value in row.body.items() if key != "kind"}
    if row.body.get("kind") == "form":
        return await client.request(
            row.method, url, data={**body, "csrf_token": token}, headers=headers
        )
    return await client.request(row.method, url, json=row.body, headers=headers)


@pytest.mark.parametrize("column", COLUMNS)
async def test_each_user_meets_each_route_as_the_table_says(app: Starlette, column: str) -> None:
    built = await build_world()
    values = dict(built.ids)
    if column == "N":
        values["K"] = values["UK"]
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=ORIGIN
        )
    else:
        user = built.users[column]
        own_key = await Passkey.filter(user=user).first()
        assert own_key is not None
        values["K"] = str(own_key.id)
        client = await signed_in(app, user)
    wrong: list[str] = []
    async with client:
        page = await client.get("/")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        for row in TABLE:
            if row.route == "/signout":  # removing a passkey may have ended the session
                page = await client.get("/")
                token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            want = expected(row, column)
            before = await denials()
            response = await ask(client, row, values, token)
            got = str(response.status_code)
            audited = await denials() - before
            if want == "x":
                if got != "404" or audited < 1:
                    wrong.append(f"{row.method} {row.url}: {got} (audited {audited}), want x")
            elif got != want:
                wrong.append(f"{row.method} {row.url}: {got}, want {want}")
    assert wrong == [], f"{column}:\n" + "\n".join(wrong)
