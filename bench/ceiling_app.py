"""The ceilings Homeward's pages are read against, as a separate minimal app.

- ``/plain``: a plain-text Starlette response, no middleware (ceiling A): what
  uvicorn and Starlette alone can serve on this machine.
- ``/home/{language}``: the signed-in worker's home (``sessions/home.html``)
  rendered by ``server.web.templating``'s environment from a fixed context, with
  no database, session or middleware (ceiling B): what rendering alone costs.
  The context is made once per language at start as
  ``server.sessions.views.worker_home`` makes it for each request, from
  unsaved models: a worker with a caseload of ``CASELOAD`` participants, the
  appointments of ``home_slots`` and the last sessions of ``LOGGED_DAYS_AGO``
  (the shape ``bench/throughput.py`` gives its workers in the database).
- ``/form/{language}``: the same for the family session form page
  (``forms/session.html``), the form page's ceiling B: its context is made
  once per language at start by the app's own ``form_context``, for a
  signed-in worker (an unsaved ``User``) and one participant, as
  ``server.sessions.views`` makes it for each request.

It runs under uvicorn with the same settings as ``homeward serve``, so the
difference to the app is the app's own work.
"""

from __future__ import annotations

import argparse
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from server import i18n
from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import AppointmentStatus, Pillar, Role
from server.forms import form_context, latest_form
from server.participants.codes import new_code
from server.participants.models import Participant
from server.sessions.labels import PILLARS
from server.sessions.queries import CaseloadRow
from server.settings import LANGUAGES, ROOT
from server.web.templating import templates

# The signed-in worker of every ceiling page: a user that exists nowhere, in
# the time zone ``tests.support.world`` gives its organisations and users.
WORKER_NAME = "Worker 4f2a"
TIME_ZONE = "Africa/Kampala"
# What the app's middleware puts in the request state, fixed here.
STATE = {"csp_nonce": "bench-nonce-0123456789", "csrf_token": "bench-csrf-" + "x" * 32}

# The form page's fixed request: a participant that exists nowhere.
FORM_PILLAR = Pillar.FAMILY
FORM_PARTICIPANT = ("6f1d2c4e-8a3b-4c5d-9e7f-0a1b2c3d4e5f", "UG-7Q2K9D")
FORM_LOG_ID = "0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"

# The worker home's caseload, here and in the benchmark's database: a small
# but realistic day. Appointments are (local hour, pillar, place) today and
# (days ahead, local hour, pillar, place) in the coming week; the first
# participants have a session logged so many days ago, the others none yet.
CASELOAD = 8
TODAY = ((9, Pillar.FAMILY, "Family home"), (14, Pillar.EDUCATION, ""))
WEEK = (
    (1, 10, Pillar.VOCATIONAL, "Workshop"),
    (3, 11, Pillar.COUNSELLING, "Community centre"),
    (5, 15, Pillar.FAMILY, "Family home"),
)
LOGGED_DAYS_AGO = (1, 2, 4, 6, 9, 13)
HOME_CARDS = CASELOAD + len(TODAY) + len(WEEK)  # the cards the home page shows


@dataclass(frozen=True)
class Slot:
    """One appointment of the worker home: when, what, where, with whom."""

    starts_at: datetime
    pillar: Pillar
    place: str
    participant: int  # index into the caseload, in the order it was made


def home_slots(now: datetime, tz: tzinfo) -> list[Slot]:
    """The appointments of ``TODAY`` and ``WEEK``, for the day ``now`` is in ``tz``."""
    today = datetime.combine(now.astimezone(tz).date(), time(), tz)
    when = [(0, hour, pillar, place) for hour, pillar, place in TODAY] + list(WEEK)
    return [
        Slot((today + timedelta(days=days, hours=hour)).astimezone(UTC), pillar, place, index)
        for index, (days, hour, pillar, place) in enumerate(when)
    ]


def worker_home_context(now: datetime, tz: tzinfo) -> dict[str, Any]:
    """What ``server.sessions.views.worker_home`` renders the home from, with no database.

    The same split into today and the coming week as the view, over unsaved
    models read back as the database gives them (UTC times, the caseload in
    code order, appointments soonest first).
    """
    rng = random.Random(CASELOAD)  # the same participants every run
    participants = [
        Participant.construct(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            code=new_code("UG", rng),
            full_name=f"Person {n + 1}",
            language="en",
            consent_given=True,
        )
        for n in range(CASELOAD)
    ]
    appointments = []
    for slot in home_slots(now, tz):
        participant = participants[slot.participant]
        appointment = Appointment.construct(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            participant=participant,
            pillar=slot.pillar,
            starts_at=slot.starts_at,
            ends_at=slot.starts_at + timedelta(hours=1),
            place=slot.place,
            status=AppointmentStatus.SCHEDULED,
        )
        # Readable as ``prefetch_related("participant")`` leaves it. Tortoise
        # adds the relation's property only once connected to a database, so
        # here it is a plain attribute (and the property's setter if there is one).
        object.__setattr__(appointment, "participant", participant)
        appointments.append(appointment)
    last = {
        participant.id: now - timedelta(days=days)
        for participant, days in zip(participants, LOGGED_DAYS_AGO, strict=False)
    }
    today = datetime.combine(now.astimezone(tz).date(), time(), tz)
    return {
        "today": [a for a in appointments if a.starts_at < today + timedelta(days=1)],
        "week": [a for a in appointments if a.starts_at >= today + timedelta(days=1)],
        "caseload": [
            CaseloadRow(p, last.get(p.id)) for p in sorted(participants, key=lambda p: p.code)
        ],
        "pillars": PILLARS,
    }


def form_contexts(translators: dict[str, i18n.Translator]) -> dict[str, dict[str, Any]]:
    """Per language, what ``server.sessions.views`` renders the family form page from."""
    form = latest_form(FORM_PILLAR)
    participant_id = FORM_PARTICIPANT[0]
    contexts = {}
    for language, translator in translators.items():
        context = form_context(
            form,
            participants=[FORM_PARTICIPANT],
            user_name=WORKER_NAME,
            action=f"/log/{participant_id}/{FORM_PILLAR.value}?log={FORM_LOG_ID}",
            translator=translator,
        )
        if not context["values"].get("participant"):
            context["values"]["participant"] = participant_id
        contexts[language] = context
    return contexts


async def plain(request: Request) -> Response:
    return PlainTextResponse("Hello, world")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    catalogues = i18n.load_catalogues(ROOT / "locales")
    # As the app's locale middleware makes them for a signed-in user.
    translators = {code: i18n.Translator(code, catalogues[code], TIME_ZONE) for code in LANGUAGES}

    forms = form_contexts(translators)
    now = datetime.now(UTC)
    homes = {code: worker_home_context(now, translators[code].tz) for code in LANGUAGES}
    workers = {
        code: User(name=WORKER_NAME, role=Role.WORKER, language=code, time_zone=TIME_ZONE)
        for code in LANGUAGES
    }

    def signed_in(request: Request) -> str:
        language = request.path_params["language"]
        i18n.activate(translators[language])
        # Read by the app's own context processors, as its middleware would set them.
        request.scope.setdefault("state", {}).update(STATE, user=workers[language])
        return str(language)

    async def home(request: Request) -> Response:
        language = signed_in(request)
        # A copy each time, as a view makes a new one: Starlette adds to it.
        return templates.TemplateResponse(request, "sessions/home.html", dict(homes[language]))

    async def form(request: Request) -> Response:
        language = signed_in(request)
        return templates.TemplateResponse(request, "forms/session.html", dict(forms[language]))

    return Starlette(
        routes=[
            Route("/plain", plain),
            Route("/home/{language}", home),
            Route("/form/{language}", form),
            Route("/healthz", healthz),
        ]
    )


def main() -> None:
    top = argparse.ArgumentParser(description=__doc__)
    top.add_argument("--port", type=int, required=True)
    args = top.parse_args()
    # The same arguments as server.cli.cmd_serve, access log included.
    uvicorn.run(
        "bench.ceiling_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
