"""A client written from docs/client.md alone follows it step by step against a
live server: enrol from an invitation link, add a passkey, sign out and in,
pull, seal and push session logs, push the same batch again, pull its own
logs back, sign out.

The client (tests/independent_client/) has its own WebAuthn authenticator,
its own sealing and its own HTTP; only the setup here (an organisation, a
participant, the invitation through the CLI) and the counts checked in the
database use the app's code. Expected numbers are written by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import schemathesis
from starlette.applications import Starlette

from server.accounts.models import LoginSession, Passkey, User
from server.app import create_app
from server.appointments import services as appointments
from server.appointments.forms import AppointmentInput
from server.appointments.models import Appointment
from server.audit.services import SYSTEM
from server.enums import Pillar, Role
from server.participants.models import Participant
from server.sessions.models import SessionLog
from server.settings import ROOT, Settings
from server.sync import openapi
from server.sync.models import Conflict
from tests.conftest import _empty_tables
from tests.independent_client.authenticator import Authenticator
from tests.independent_client.client import ApiError, Client
from tests.independent_client.sealing import seal
from tests.support import world
from tests.support.live import LiveServer

CLIENT_DOC = ROOT / "docs" / "client.md"


def documented_cookies() -> dict[str, tuple[str, str]]:
    """The cookie table of docs/client.md: what → (https name, http name)."""
    rows = re.findall(
        r"^ *\| (session|anonymous CSRF|ceremony|language) \| `([^`]+)` \| `([^`]+)` \|",
        CLIENT_DOC.read_text(),
        re.MULTILINE,
    )
    return {what: (https, http) for what, https, http in rows}


def invite(live: LiveServer, settings: Settings, organisation: int, name: str) -> str:
    """The invitation link, as an admin makes it: `homeward invite` (README)."""
    env = {
        **os.environ,
        "HOMEWARD_DATA_DIR": str(settings.data_dir),
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
        "HOMEWARD_ORIGIN": live.url,
    }
    command = [sys.executable, "-m", "server.cli", "invite", "--organisation", str(organisation)]
    command += ["--role", "worker", "--name", name]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    link = done.stdout.strip()
    assert link.startswith(f"{live.url}/enrol/"), link
    return link


async def schedule_visit(officer: User, participant: Participant, worker: User) -> Appointment:
    """An appointment the officer plans with the worker, tomorrow."""
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    data = AppointmentInput(
        pillar=Pillar.COUNSELLING,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place="Community centre",
        with_user_id=worker.id,
        what_to_bring="",
        family_visible=False,
    )
    return await appointments.schedule(
        officer=officer, participant=participant, data=data, actor=SYSTEM
    )


def recorded(phone: Client) -> list[httpx.Response]:
    """Every answer the client gets (read whole), for checking against the document."""
    answers: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        answers.append(response)

    phone.http.event_hooks["response"].append(keep)
    return answers


def conforms_to_the_document(answers: list[httpx.Response], origin: str) -> None:
    """Each answer has a status and a body the served OpenAPI document describes."""
    document = openapi.schema(origin)
    described = schemathesis.openapi.from_dict(document)
    templates = {re.sub(r"\{[^}]+\}", "[^/]+", path): path for path in document["paths"]}
    checked = set()
    for response in answers:
        path = response.request.url.path
        template = next(t for pattern, t in templates.items() if re.fullmatch(pattern, path))
        method = response.request.method
        assert (
            str(response.status_code) in document["paths"][template][method.lower()]["responses"]
        ), (method, path, response.status_code)
        described[template][method].validate_response(response)
        checked.add((method, template))
    assert len(checked) == 12, sorted(checked)  # every route the walk uses


def missed_session(form: dict[str, Any], participant: str, day: str) -> dict[str, Any]:
    """The answers for a session that did not take place (docs/client.md §6)."""
    values = {
        "participant": participant,
        "occurred_on": day,
        "occurred_time": "09:00",
        "attendance": "missed",
        "attendance_reason": "Ill, phoned the office.",
        "follow_up": "no",
    }
    keys = {f["key"] for f in form["fields"]}
    assert set(values) <= keys, set(values) - keys
    return values


async def test_a_client_written_from_the_docs_enrols_syncs_and_signs_out(
    app: Starlette, live_server: LiveServer, settings: Settings
) -> None:
    cookies = documented_cookies()
    assert cookies == {
        "session": ("__Host-homeward", "homeward_session"),
        "anonymous CSRF": ("__Host-homeward_csrf", "homeward_csrf"),
        "ceremony": ("homeward_ceremony", "homeward_ceremony"),
        "language": ("homeward_lang", "homeward_lang"),
    }
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer)
    link = invite(live_server, settings, org.id, "Dana Client")

    phone = Client(live_server.url)
    answers = recorded(phone)
    device, spare = Authenticator(), Authenticator()
    try:
        # §1-2: enrol from the link; the cookies are the documented ones.
        assert await phone.enrol(link, device, "fr") == {"ok": True, "redirect": "/"}
        jar = {cookie.name for cookie in phone.http.cookies.jar}
        assert cookies["session"][1] in jar and cookies["anonymous CSRF"][1] in jar
        assert cookies["language"][1] in jar
        assert cookies["ceremony"][1] not in jar  # cleared once used
        me = await phone.me()
        assert (me["name"], me["role"], me["language"]) == ("Dana Client", "worker", "fr")
        user = await User.get(id=me["id"])
        await participant.workers.add(user)  # the officer's part, done here
        visit = await schedule_visit(officer, participant, user)

        # §2: a second passkey; sign out; sign in with it.
        assert await phone.add_passkey(spare) == {"ok": True, "redirect": "/account"}
        assert await Passkey.filter(user_id=me["id"]).count() == 2
        await phone.sign_out()
        assert await LoginSession.filter(user_id=me["id"]).count() == 0
        assert await phone.sign_in(spare) == {"ok": True, "redirect": "/"}

        # §5: the first pull brings the caseload and the forms.
        first = await phone.pull()
        assert first["participants"] == [
            {
                "id": str(participant.id),
                "code": participant.code,
                "gender": "female",
                "pillars": ["counselling", "education", "family", "vocational"],
            }
        ]
        assert first["records"] == [] and first["conflicts"] == []
        assert [(a["id"], a["status"]) for a in first["appointments"]] == [
            (str(visit.id), "scheduled")
        ]
        assert phone.forms["language"] == "fr"
        version = phone.forms["latest"]["counselling"]
        form = next(
            f
            for f in phone.forms["forms"]
            if (f["pillar"], f["version"]) == ("counselling", version)
        )

        # §6: seal four logs: one dated before 2000, one fulfilling the visit.
        key = await phone.sealing_key()
        local = datetime.now(ZoneInfo(me["time_zone"]))
        yesterday = (local - timedelta(days=1)).date().isoformat()
        ids = [str(uuid.uuid4()) for _ in range(4)]
        days = [yesterday, yesterday, "1999-12-31", yesterday]
        visits: list[str | None] = [None, None, None, str(visit.id)]

        def record(
            record_id: str, day: str, reason: str = "", appointment: str | None = None
        ) -> dict[str, Any]:
            values = missed_session(form, str(participant.id), day)
            if reason:
                values["attendance_reason"] = reason
            content = {
                "author": me["id"],
                "pillar": "counselling",
                "form_version": version,
                "values": values,
                "appointment": appointment,
            }
            return {"id": record_id, "type": "session_log", "sealed": seal(content, record_id, key)}

        batch = [record(i, d, appointment=v) for i, d, v in zip(ids, days, visits, strict=True)]
        results = await phone.push(batch)
        assert [r["status"] for r in results] == ["stored", "stored", "rejected", "stored"]
        assert results[2]["code"] == "invalid"
        assert set(results[2]["errors"]) == {"occurred_on"}
        assert await SessionLog.filter(author_id=me["id"]).count() == 3

        # §6: the same batch again (an answer lost on the way): nothing doubles.
        again = await phone.push(batch)
        assert [r["status"] for r in again] == [
            "already_stored",
            "already_stored",
            "rejected",
            "already_stored",
        ]
        assert await SessionLog.filter(author_id=me["id"]).count() == 3

        # §6.4: the same id twice in one batch is answered twice.
        twice = record(str(uuid.uuid4()), yesterday)
        assert [r["status"] for r in await phone.push([twice, twice])] == [
            "stored",
            "already_stored",
        ]
        assert await SessionLog.filter(author_id=me["id"]).count() == 4
        ids.append(twice["id"])

        # §6-7: the same id with other content is a conflict, a body moved to
        # another id does not open, another author's content is refused.
        changed = record(ids[0], yesterday, reason="Travelling, will call back.")
        moved = {**batch[1], "id": str(uuid.uuid4())}
        content = {"author": me["id"] + 1000, "pillar": "counselling", "form_version": version}
        other_id = str(uuid.uuid4())
        foreign = {"id": other_id, "type": "session_log", "sealed": seal(content, other_id, key)}
        refused = await phone.push([changed, moved, foreign])
        assert [(r["status"], r.get("code")) for r in refused] == [
            ("conflict", None),
            ("rejected", "unreadable"),
            ("rejected", "not_author"),
        ]
        assert await SessionLog.filter(author_id=me["id"]).count() == 4
        assert await Conflict.filter(author_id=me["id"]).count() == 1

        # §5: the next pull, from the cursor, brings the client's own logs.
        second = await phone.pull()
        assert second["cursor"] > first["cursor"]
        assert "forms" not in second  # the hash it sent is current
        assert sorted((r["id"], r["status"]) for r in second["records"]) == sorted(
            [(ids[0], "stored"), (ids[1], "stored"), (ids[3], "stored"), (ids[4], "stored")]
        )
        assert second["conflicts"] == [{"id": ids[0], "resolved": False}]
        # The visit the fourth log fulfilled comes back done: the client drops it.
        assert [(a["id"], a["status"]) for a in second["appointments"]] == [(str(visit.id), "done")]

        # §9: sign out; the session is over for the server and for the client.
        response = await phone.sign_out()
        assert response.headers["location"] == "/?signed_out=1"
        assert cookies["session"][1] not in {c.name for c in phone.http.cookies.jar}
        with pytest.raises(ApiError) as ended:
            await phone.me()
        assert (ended.value.status, ended.value.code) == (401, "sign_in_required")
        assert phone.waited == []  # no rate limit was met on the way
        conforms_to_the_document(answers, live_server.url)
    finally:
        await phone.close()


async def test_on_https_the_cookies_have_the_documented_host_names(settings: Settings) -> None:
    """The same client, enrolling on an https origin (in process): ``__Host-`` names."""
    origin = "https://homeward.example.org"
    application = create_app(replace(settings, origin=origin))
    cookies = documented_cookies()
    async with application.router.lifespan_context(application):
        await _empty_tables()
        org = await world.organisation()
        token = await world.invitation_token(org, Role.WORKER, name="Aruzhan")
        phone = Client(origin, transport=httpx.ASGITransport(app=application))
        try:
            await phone.enrol(f"{origin}/enrol/{token}", Authenticator(), "kk")
            jar = {cookie.name: cookie for cookie in phone.http.cookies.jar}
            assert set(jar) == {
                cookies["session"][0],
                cookies["anonymous CSRF"][0],
                cookies["language"][0],
            }
            assert all(cookie.secure for cookie in jar.values())
            assert (await phone.me())["language"] == "kk"
            await phone.sign_out()
            assert set(c.name for c in phone.http.cookies.jar) == {
                cookies["anonymous CSRF"][0],
                cookies["language"][0],
            }
        finally:
            await phone.close()
