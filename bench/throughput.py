"""Framework overhead and page throughput: a worker's home and session form against their ceilings.

The app runs under uvicorn as `homeward serve` starts it (one process, access
log on, written to a file) on a fresh migrated SQLite database, and
`bench/load.py` keeps a fixed number of keep-alive connections busy over
loopback, sending `Accept-Encoding: gzip` as phones do, from the same machine.
The ceilings are a separate minimal app under the same uvicorn settings
(`bench/ceiling_app.py`): **A** is a plain-text Starlette endpoint with no
middleware; **B** is the page's own template rendered by the app's own Jinja2
environment from a fixed context, with no database, session, middleware or
compression. So page ÷ B is what the app's middleware, routing, database
reads and gzip leave of bare rendering, and page ÷ A is its share of what the
framework alone could serve.

Two pages of a signed-in worker whose account is in the page's language,
each in English and Arabic (right-to-left); each request resumes the sign-in
session from the database. The worker's home `/` reads their caseload of
eight participants with the last session logged for each, and their
appointments today and in the coming week. The family session form
(`/log/{participant}/family`) checks the participant is in the worker's
caseload and renders the form, labels and its JSON schema translated. The
workers, participants, appointments, session logs and sign-in sessions are
made in the database beforehand, as the tests do, in the shape the ceiling
app's home context has. Each page's ceiling B renders its template
(`sessions/home.html`, `forms/session.html`) from a context made once per
language at start, as the view makes it (the form's by the app's own
`form_context`), for a worker, participants and appointments that exist
nowhere.

Every endpoint is loaded once per round and the rounds are interleaved, so a
burst of noise from a neighbour lands on all of them alike; each ratio is the
median of the ratios within a round. The notes add requests per CPU-second
of the server and the same ratios on that basis: steadier than wall-clock
rates on a shared machine, because time the server spends waiting for a
neighbour is not counted. They also give latency percentiles over all runs
and the share of a core the server and the load generator used: a load
generator near 100% would mean the client, not the server, set the figure.

What limits the pages' ratios (profiled with py-spy under this load): the
app's pages cost several times their bare rendering because of the database
reads around it. The home makes three statements: the sign-in session, the
caseload with each participant's last contact (one aggregate), and the
appointments of the coming week. The last two cost 1.2 to 1.5 ms of CPU
each here, mostly Tortoise building their SQL through pypika, more than
SQLite running it or turning rows into models. The session's look-up, on
every signed-in request, builds its SQL once per process
(`server/prepared.py`, 0.2 ms where it took 0.9), and
SQLite's datetimes are parsed by ciso8601 when installed (Tortoise's own
choice), not by the pure-Python parser. Compression, the middleware and
sending the answer take about a tenth. The form page renders a heavier
template (the form, its labels and its JSON schema) after two statements,
so its ratio is higher. Closing the home's gap further means building the
caseload and appointment statements once as well, which needs the access
policy (`server/policy.py`) to hand out its conditions in a form that can be
prepared, or reading those rows without the ORM.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from tortoise import Tortoise

from bench import ceiling_app, load, proc
from bench.context import Context, Options
from bench.rows import Row, median, rate, ratio
from server import db
from server.accounts import sessions
from server.appointments.models import Appointment
from server.enums import Attendance, Pillar, Role
from server.forms import latest_form
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.live import LiveServer

GZIP = {"Accept-Encoding": "gzip"}  # what every phone sends; the app compresses pages
LANGUAGES = ("en", "ar")
FORM_PILLAR = "family"
TARGET = 0.5  # the issue's: a signed-in page ÷ its ceiling B
CARD = 'class="card"'  # one appointment or caseload entry on the worker's home


@dataclass(frozen=True)
class World:
    participant_id: str  # whose family form is loaded
    tokens: dict[str, str]  # sign-in session token of a worker per language


async def _world(database_url: str) -> World:
    """One signed-in worker per language, each with the ceiling app's caseload.

    Both workers are assigned the same participants; each has their own
    appointments and logged sessions, as ``appointment_filter`` shows a
    worker only the appointments they take part in.
    """
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        org = await world.organisation("Throughput NGO")
        officer = await world.user(org, Role.OFFICER)
        participants = [
            await world.participant(org, officer, full_name=f"Person {n + 1}")
            for n in range(ceiling_app.CASELOAD)
        ]
        form_version = latest_form(Pillar.FAMILY).version
        now = datetime.now(UTC)
        tokens = {}
        for language in LANGUAGES:
            worker = await world.user(org, Role.WORKER, language=language)
            for participant in participants:
                await participant.workers.add(worker)
            for slot in ceiling_app.home_slots(now, ZoneInfo(worker.time_zone)):
                await Appointment.create(
                    id=uuid.uuid4(),
                    participant=participants[slot.participant],
                    pillar=slot.pillar,
                    starts_at=slot.starts_at,
                    ends_at=slot.starts_at + timedelta(hours=1),
                    place=slot.place,
                    with_user=worker,
                    created_by=officer,
                )
            for participant, days in zip(participants, ceiling_app.LOGGED_DAYS_AGO, strict=False):
                await SessionLog.create(
                    id=uuid.uuid4(),
                    participant=participant,
                    pillar=Pillar.FAMILY,
                    form_version=form_version,
                    occurred_at=now - timedelta(days=days),
                    duration_minutes=60,
                    author=worker,
                    attendance=Attendance.ATTENDED,
                    engagement=4,
                    content_hash="0" * 64,
                )
            started = await sessions.start(
                user=worker, now=now, ip="127.0.0.1", device="throughput"
            )
            tokens[language] = started.token
        return World(str(participants[0].id), tokens)
    finally:
        await Tortoise.close_connections()


@dataclass(frozen=True)
class Endpoint:
    name: str  # as the table shows it, and the key other endpoints refer to it by
    measure: str
    server: LiveServer
    path: str
    expect: tuple[str, ...]  # what the answer must contain, so an error page is never measured
    headers: dict[str, str] = field(default_factory=dict)
    cards: int | None = None  # how many cards the answer must show, if it shows any
    ceilings: tuple[str, ...] = ()  # names of the endpoints this one is read against
    target: str = "—"  # the target for the first ratio, if it sets one

    def load_target(self) -> load.Target:
        return load.Target(self.server.port, self.path, {**GZIP, **self.headers})


@dataclass(frozen=True)
class Run:
    result: load.LoadResult
    server_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.result.per_second

    @property
    def per_cpu_second(self) -> float:
        # Steadier than wall-clock rates on a shared machine: time the server
        # spends waiting for a neighbour's process is not counted.
        return self.result.requests / self.server_cpu_seconds

    @property
    def server_cpu_share(self) -> float:
        return self.server_cpu_seconds / self.result.seconds


def _endpoints(context: Context, signed_in: World) -> list[Endpoint]:
    app, ceiling = context.servers.app, context.servers.ceiling
    endpoints = [
        Endpoint(
            "ceiling A",
            "Ceiling A: plain-text endpoint, minimal app",
            ceiling,
            "/plain",
            ("Hello",),
        )
    ]
    # Signed in (the sign-out button), the caseload listed, today's
    # appointments with their links to log them.
    home = ("/signout", "data-caseload", "?appointment=")
    # The form and its schema, for a signed-in user.
    form = ('id="form-schema"', "/signout")
    for language in LANGUAGES:
        endpoints.append(
            Endpoint(
                f"ceiling B home `{language}`",
                f"Ceiling B: worker home template from a fixed context, minimal app, `{language}`",
                ceiling,
                f"/home/{language}",
                (f'lang="{language}"', *home),
                cards=ceiling_app.HOME_CARDS,
                ceilings=("ceiling A",),
            )
        )
    for language in LANGUAGES:
        endpoints.append(
            Endpoint(
                f"home `{language}`",
                f"Worker home `/`, signed-in worker, {ceiling_app.CASELOAD} participants, "
                f"`{language}`",
                app,
                "/",
                (f'lang="{language}"', *home),
                {"Cookie": f"homeward_session={signed_in.tokens[language]}"},
                cards=ceiling_app.HOME_CARDS,
                ceilings=(f"ceiling B home `{language}`", "ceiling A"),
                target=f"≥ {TARGET:g} ÷ ceiling B",
            )
        )
    for language in LANGUAGES:
        endpoints.append(
            Endpoint(
                f"ceiling B form `{language}`",
                f"Ceiling B: {FORM_PILLAR} session form template from a fixed context, "
                f"minimal app, `{language}`",
                ceiling,
                f"/form/{language}",
                (f'lang="{language}"', *form),
                ceilings=("ceiling A",),
            )
        )
    for language in LANGUAGES:
        endpoints.append(
            Endpoint(
                f"form `{language}`",
                f"Session form page `/log/{{id}}/{FORM_PILLAR}`, signed-in worker, `{language}`",
                app,
                f"/log/{signed_in.participant_id}/{FORM_PILLAR}",
                (f'lang="{language}"', *form),
                {"Cookie": f"homeward_session={signed_in.tokens[language]}"},
                ceilings=(f"ceiling B form `{language}`", "ceiling A"),
                target=f"≥ {TARGET:g} ÷ ceiling B",
            )
        )
    return endpoints


def _check(endpoint: Endpoint) -> None:
    url = f"http://127.0.0.1:{endpoint.server.port}{endpoint.path}"
    answer = httpx.get(url, headers=endpoint.headers, timeout=10)
    missing = [text for text in endpoint.expect if text not in answer.text]
    cards = answer.text.count(CARD)
    if answer.status_code != 200 or missing:
        raise load.BadResponse(f"{url} answered {answer.status_code} without {missing!r}")
    if endpoint.cards is not None and cards != endpoint.cards:
        raise load.BadResponse(f"{url} showed {cards} cards, not {endpoint.cards}")


def _measure(endpoint: Endpoint, options: Options, seconds: float) -> Run:
    pid = endpoint.server.process.pid
    before = proc.cpu_seconds(pid)
    result = load.run(endpoint.load_target(), connections=options.connections, seconds=seconds)
    return Run(result, proc.cpu_seconds(pid) - before)


def _shares(runs: dict[str, list[Run]], endpoint: Endpoint, metric: str) -> list[float]:
    """For each ceiling, the median over rounds of endpoint ÷ ceiling."""
    value = attrgetter(metric)
    shares = []
    for ceiling in endpoint.ceilings:
        pairs = zip(runs[endpoint.name], runs[ceiling], strict=True)
        shares.append(median([value(a) / value(b) for a, b in pairs]))
    return shares


def _ratios(runs: dict[str, list[Run]], endpoint: Endpoint, metric: str) -> str:
    return " · ".join(ratio(share) for share in _shares(runs, endpoint, metric))


def _target(runs: dict[str, list[Run]], endpoint: Endpoint) -> str:
    if endpoint.target == "—":
        return "—"
    met = _shares(runs, endpoint, "per_second")[0] >= TARGET
    return f"{endpoint.target} ({'met' if met else 'not met'})"


def _notes(runs: dict[str, list[Run]], endpoint: Endpoint) -> str:
    own = runs[endpoint.name]
    notes = f"{median([run.per_cpu_second for run in own]):,.0f} req per server CPU-second"
    if endpoint.ceilings:
        notes += f" ({_ratios(runs, endpoint, 'per_cpu_second')} of the same)"
    cuts = statistics.quantiles([value for run in own for value in run.result.latencies], n=100)
    server = median([run.server_cpu_share for run in own])
    client = median([run.result.client_cpu_share for run in own])
    return (
        f"{notes}; latency p50 {cuts[49] * 1000:.1f} ms, p95 {cuts[94] * 1000:.1f} ms; "
        f"CPU: server {server:.0%}, load generator {client:.0%} of a core"
    )


def run(context: Context) -> list[Row]:
    options = context.options
    data_dir: Path = context.servers.log.parent
    signed_in = asyncio.run(_world(f"sqlite://{data_dir / 'bench.sqlite3'}"))
    endpoints = _endpoints(context, signed_in)
    for endpoint in endpoints:
        _check(endpoint)
        _measure(endpoint, options, options.warmup)  # first requests fill caches
    runs: dict[str, list[Run]] = {endpoint.name: [] for endpoint in endpoints}
    for _ in range(options.repeat):
        for endpoint in endpoints:
            runs[endpoint.name].append(_measure(endpoint, options, options.seconds))
    return [
        Row(
            "Throughput",
            endpoint.measure,
            rate([run.per_second for run in runs[endpoint.name]]),
            " · ".join(endpoint.ceilings) or "—",
            _ratios(runs, endpoint, "per_second") or "—",
            _target(runs, endpoint),
            _notes(runs, endpoint),
        )
        for endpoint in endpoints
    ]


def main() -> None:
    """Run only this benchmark and print its rows (``python -m bench.throughput``)."""
    import argparse
    import tempfile

    from bench.servers import running

    defaults = Options()
    top = argparse.ArgumentParser(prog="python -m bench.throughput")
    top.add_argument("--seconds", type=float, default=defaults.seconds, help="one load run")
    top.add_argument("--repeat", type=int, default=defaults.repeat, help="load runs per endpoint")
    top.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds per endpoint")
    top.add_argument("--connections", type=int, default=defaults.connections)
    args = top.parse_args()
    options = Options(args.seconds, args.repeat, args.warmup, args.connections)
    with (
        tempfile.TemporaryDirectory(prefix="homeward-throughput-") as tmp,
        running(Path(tmp)) as servers,
    ):
        rows = run(Context(servers, options))
    for row in rows:
        cells = (row.measure, row.result, row.reference, row.ratio, row.target, row.notes)
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
