"""The HTML form routes fuzzed with Hypothesis: whatever a form posts (or a
link asks for), the answer is never a server error.

Each route is driven with the field names its real form has, plus extra and
repeated keys, and values that have broken things before: huge numbers,
dates at the ends of the calendar, control and direction characters, text
past every length limit, and arbitrary Unicode. The real app runs on a loop
of its own (Hypothesis drives plain synchronous tests), with signed-in
officer, worker and admin clients and real records behind every id.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from server.accounts import sessions
from server.app import create_app
from server.appointments.forms import FIELDS as APPOINTMENT_FIELDS
from server.appointments.models import Appointment
from server.enums import Attendance, Pillar, Role
from server.forms import latest_form
from server.participants.forms import PARTICIPANT_FIELDS
from server.participants.models import PlanGoal
from server.reviews.forms import FIELDS as REVIEW_FIELDS
from server.sessions.models import SessionLog
from server.settings import Settings
from tests.conftest import _empty_tables
from tests.support import world
from tests.support.web import ORIGIN, csrf_token

T = TypeVar("T")

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "abc",
    "99999999999999999999",
    "1e309",
    "NaN",
    "٣",
    "0001-01-01",
    "9999-12-31",
    "2030-02-30",
    "24:00",
    "23:59",
    "00:00",
    "\x00",
    "a\x00b",
    "\u202eevil",
    "=1+1",
    "yes",
    "on",
    "1",
    "Ә" * 201,
    "ع" * 5_001,
    "x" * 100_001,
]
VALUE = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=50),
    st.integers().map(str),
)


class Running:
    """The app and three signed-in clients, on a loop in another thread."""

    def __init__(self, app_settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app: Starlette = create_app(app_settings)
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.csrf: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    async def start(self) -> None:
        await self.lifespan.__aenter__()
        await _empty_tables()
        org = await world.organisation()
        people = {
            "officer": await world.user(org, Role.OFFICER),
            "worker": await world.user(org, Role.WORKER),
            "admin": await world.user(org, Role.ADMIN),
        }
        participant = await world.participant(org, people["officer"])
        await participant.workers.add(people["worker"])
        now = datetime.now(UTC)
        appointment = await Appointment.create(
            id=uuid.uuid4(),
            participant=participant,
            pillar=Pillar.FAMILY,
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=2, hours=1),
            created_by=people["officer"],
            with_user=people["worker"],
        )
        log = await SessionLog.create(
            id=uuid.uuid4(),
            participant=participant,
            pillar=Pillar.FAMILY,
            form_version=latest_form(Pillar.FAMILY).version,
            occurred_at=now - timedelta(days=1),
            duration_minutes=30,
            author=people["worker"],
            attendance=Attendance.ATTENDED,
            content_hash="x",
        )
        goal = await PlanGoal.create(
            id=uuid.uuid4(), participant=participant, pillar=Pillar.EDUCATION, text="Read"
        )
        self.ids = {
            "p": str(participant.id),
            "a": str(appointment.id),
            "l": str(log.id),
            "g": str(goal.id),
        }
        for role, user in people.items():
            started = await sessions.start(user=user, now=now, ip="127.0.0.1", device="fuzz")
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=False),
                base_url=ORIGIN,
            )
            client.cookies.set("homeward_session", started.token)
            self.clients[role] = client
            self.csrf[role] = await csrf_token(client)

    async def stop(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        await self.lifespan.__aexit__(None, None, None)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def running(settings: Settings) -> Iterator[Running]:
    app = Running(settings)
    app.run(app.start())
    yield app
    app.run(app.stop())
    app.close()


def log_keys(pillar: Pillar) -> tuple[str, ...]:
    return (*(f.key for f in latest_form(pillar).fields), "form_version", "participant")


# (who, method, path, field names): the real forms and links.
ROUTES = [
    ("officer", "POST", "/participants/new", (*PARTICIPANT_FIELDS, "workers")),
    ("officer", "POST", "/participants/{p}/edit", (*PARTICIPANT_FIELDS, "workers")),
    ("officer", "POST", "/participants/{p}/goals", ("pillar", "text")),
    ("officer", "POST", "/goals/{g}", ("status", "text")),
    ("officer", "POST", "/participants/{p}/appointments/new", APPOINTMENT_FIELDS),
    ("officer", "POST", "/appointments/{a}/edit", (*APPOINTMENT_FIELDS, "version")),
    ("officer", "POST", "/participants/{p}/reviews/new", REVIEW_FIELDS),
    ("officer", "POST", "/invitations", ("role", "name", "language", "participant")),
    ("officer", "POST", "/indicators/session-logs.csv", ("from", "to", "full_names", "confirm")),
    ("officer", "POST", "/sessions/{l}/review", ("comment",)),
    ("officer", "GET", "/participants", ("page",)),
    ("officer", "GET", "/indicators", ("from", "to")),
    ("officer", "GET", "/indicators/export.csv", ("from", "to")),
    ("worker", "POST", "/log/{p}/family", log_keys(Pillar.FAMILY)),
    ("worker", "POST", "/log/{p}/education", log_keys(Pillar.EDUCATION)),
    ("worker", "POST", "/sessions/{l}/edit", log_keys(Pillar.FAMILY)),
    ("worker", "GET", "/log/{p}/family", ("appointment", "log")),
    ("admin", "POST", "/invitations", ("role", "name", "language", "participant")),
    ("admin", "GET", "/admin/audit", ("action", "actor", "from", "to", "page")),
    ("officer", "POST", "/appointments/{a}/cancel", ("version",)),
]


def fields(keys: tuple[str, ...], in_url: bool) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Some of the form's keys with nasty values, sometimes a key twice or a stranger.

    A link cannot carry 100 KB (the client refuses to send it): values in
    a query string stay under 4,000 characters.
    """
    value = VALUE.filter(lambda v: len(v) < 4_000) if in_url else VALUE
    chosen = st.lists(st.sampled_from(keys), max_size=len(keys) + 2)
    extra = st.lists(st.tuples(st.text(max_size=10), value), max_size=2)
    return st.tuples(
        chosen, st.lists(value, min_size=len(keys) + 2, max_size=len(keys) + 2), extra
    ).map(lambda parts: [*zip(parts[0], parts[1], strict=False), *parts[2]])


@pytest.mark.parametrize(("who", "method", "path", "keys"), ROUTES, ids=lambda v: str(v)[:40])
def test_form_routes_never_answer_a_server_error(
    running: Running, who: str, method: str, path: str, keys: tuple[str, ...]
) -> None:
    url = path.format(**running.ids)
    if path.startswith("/log/") and method == "POST":
        url += f"?log={uuid.uuid4()}"

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: a red build is reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(pairs=fields(keys, in_url=method == "GET"))
    def fuzz(pairs: list[tuple[str, str]]) -> None:
        client = running.clients[who]
        if method == "GET":
            request = client.build_request("GET", url, params=pairs)
        else:
            body = [*pairs, ("csrf_token", running.csrf[who])]
            request = client.build_request(
                "POST", url, data=_form(body), headers={"origin": ORIGIN}
            )
        response = running.run(client.send(request))
        assert response.status_code < 500, (pairs, response.text[:500])

    fuzz()


def _form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """httpx sends a list value as the same key repeated, in order."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped
