"""A working day squeezed into a minute: 200 workers browsing and syncing at once.

Each simulated user is a worker with a session of their own (made in the
database, as the tests do, since a passkey ceremony is not what is being
measured) and the same participant in their caseload. For 60 s each one
loops: open the home page, open the family session form, or push one to
three sealed session logs as the outbox does, then pauses 2 to 6 s (a far
busier person than any real one). Every answer must be a 200, and every pushed record
`stored`; anything else, a timeout included, counts as an error. At the end
the server's count of session logs must equal the records it acknowledged:
nothing lost, nothing doubled.

The load is bounded (a fixed number of users, a fixed time) and stays on
loopback, against the same single uvicorn process and SQLite file as the
other figures. Latency is from sending a request to reading its whole
answer, as the user waits for it; throughput is answered requests per
second over the minute.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

from bench import proc
from bench.context import Context, Options
from bench.rows import Row
from bench.servers import postgres_server, running
from server import db
from server.accounts import sessions
from server.enums import Role
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.live import LiveServer
from tests.support.sealing import family_values, session_log_entry

USERS = 200
SECONDS = 60.0
# Seconds between one user's requests: a request every 4 s on average is a
# far busier worker than any real one, yet leaves the single process short
# of saturation, so the latencies are of serving rather than of queueing.
THINK = (2.0, 6.0)
TIMEOUT = 30.0
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    acknowledged: int = 0

    def took(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


@dataclass(frozen=True)
class Worker:
    user_id: int
    token: str


async def _world(database_url: str, users: int) -> tuple[str, list[Worker]]:
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        org = await world.organisation("Load run NGO")
        officer = await world.user(org, Role.OFFICER)
        participant = await world.participant(org, officer)
        workers = []
        for _ in range(users):
            user = await world.user(org, Role.WORKER)
            await participant.workers.add(user)
            started = await sessions.start(
                user=user, now=datetime.now(UTC), ip="127.0.0.1", device="load run"
            )
            workers.append(Worker(user.id, started.token))
        return str(participant.id), workers
    finally:
        await Tortoise.close_connections()


async def _stored(database_url: str) -> int:
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        return await SessionLog.all().count()
    finally:
        await Tortoise.close_connections()


@dataclass
class Session:
    """One simulated user's open app: their client, the sealing key, the CSRF token."""

    worker: Worker
    client: httpx.AsyncClient
    key: dict[str, str]
    push_headers: dict[str, str]


async def _open(base: str, origin: str, worker: Worker, gate: asyncio.Semaphore) -> Session:
    client = httpx.AsyncClient(
        base_url=base,
        timeout=TIMEOUT,
        cookies={"homeward_session": worker.token},
        headers={"Accept-Encoding": "gzip"},
        # Below uvicorn's 5 s keep-alive: otherwise a request after a long
        # pause can race the server closing the idle connection.
        limits=httpx.Limits(keepalive_expiry=4.0),
    )
    async with gate:
        home = await client.get("/")
        key = (await client.get("/api/sync/key")).json()
    match = CSRF.search(home.text)
    if home.status_code != 200 or match is None:
        await client.aclose()
        raise RuntimeError(f"worker {worker.user_id} could not open the app: {home.status_code}")
    return Session(worker, client, key, {"origin": origin, "x-csrf-token": match.group(1)})


def _records(session: Session, participant_id: str) -> list[dict[str, Any]]:
    values = family_values(participant_id, occurred_time="10:00", notes="Load run.")
    return [
        session_log_entry(author=session.worker.user_id, values=values, key=session.key)
        for _ in range(random.randint(1, 3))
    ]


async def _user(session: Session, participant_id: str, deadline: float, tally: Tally) -> None:
    client = session.client
    # Users start spread over the first pause, not all in one burst.
    await asyncio.sleep(random.uniform(0, THINK[1]))
    while time.monotonic() < deadline:
        kind = random.choices(("home", "form", "sync"), weights=(4, 3, 3))[0]
        records = _records(session, participant_id) if kind == "sync" else []
        started = time.perf_counter()
        try:
            if kind == "home":
                response = await client.get("/")
            elif kind == "form":
                response = await client.get(f"/log/{participant_id}/family")
            else:
                response = await client.post(
                    "/api/sync/push", json={"records": records}, headers=session.push_headers
                )
        except httpx.HTTPError as error:
            tally.errors[f"{kind}: {type(error).__name__}"] += 1
            continue
        tally.took(kind, time.perf_counter() - started)
        if response.status_code != 200:
            tally.errors[f"{kind}: HTTP {response.status_code}"] += 1
        elif kind == "sync":
            statuses = [r["status"] for r in response.json()["results"]]
            tally.acknowledged += statuses.count("stored")
            tally.errors.update(f"sync: {s}" for s in statuses if s != "stored")
        await asyncio.sleep(random.uniform(*THINK))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def _run(
    base: str, origin: str, pid: int, database_url: str, users: int, seconds: float
) -> list[Row]:
    label = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    participant_id, workers = await _world(database_url, users)
    before = await _stored(database_url)
    # Everyone opens the app before the clock starts, a few at a time: 200
    # simultaneous first visits are a different test from a working day.
    gate = asyncio.Semaphore(10)
    opened = await asyncio.gather(*(_open(base, origin, w, gate) for w in workers))
    tally = Tally()
    started = time.monotonic()
    cpu = proc.cpu_seconds(pid), time.process_time()
    deadline = started + seconds
    try:
        await asyncio.gather(*(_user(s, participant_id, deadline, tally) for s in opened))
    finally:
        for session in opened:
            await session.client.aclose()
    elapsed = time.monotonic() - started
    server_cpu = (proc.cpu_seconds(pid) - cpu[0]) / elapsed
    client_cpu = (time.process_time() - cpu[1]) / elapsed
    stored = await _stored(database_url) - before
    every = [s for values in tally.latencies.values() for s in values]
    errors = sum(tally.errors.values())
    lost = tally.acknowledged - stored
    by_kind = "; ".join(
        f"{kind} {len(values):,} (p50 {_ms(statistics.median(values))}, "
        f"p99 {_ms(_percentile(values, 0.99))})"
        for kind, values in sorted(tally.latencies.items())
    )
    detail = ", ".join(f"{n} × {what}" for what, n in tally.errors.most_common()) or "none"
    area = "Load run"
    return [
        Row(
            area,
            f"{users} simulated workers for {seconds:g} s: errors",
            f"{errors}",
            target="0",
            notes=f"{tally.requests:,} requests answered; errors: {detail}",
        ),
        Row(
            area,
            "Latency p99 over every request (home page, session form, sync push)",
            _ms(_percentile(every, 0.99)) if every else "—",
            notes=f"p50 {_ms(statistics.median(every))}; by kind: {by_kind}" if every else "",
        ),
        Row(
            area,
            f"Throughput while {users} workers browse and sync ({label}, one process)",
            f"{tally.requests / elapsed:,.0f} req/s",
            notes=f"{tally.acknowledged:,} session logs acknowledged as stored "
            f"({tally.acknowledged / elapsed:,.1f}/s); CPU: server {server_cpu:.0%}, "
            f"load generator {client_cpu:.0%} of a core; pauses {THINK[0]:g}–{THINK[1]:g} s",
        ),
        Row(
            area,
            "Session logs lost or doubled: acknowledged minus found in the database",
            f"{lost}",
            target="0",
            notes=f"acknowledged {tally.acknowledged:,}, in the database {stored:,}",
        ),
    ]


def run(context: Context, users: int = USERS, seconds: float = SECONDS) -> list[Row]:
    data_dir: Path = context.servers.log.parent
    return against(context.servers.app, f"sqlite://{data_dir / 'bench.sqlite3'}", users, seconds)


def against(app: LiveServer, database_url: str, users: int, seconds: float) -> list[Row]:
    """The load run against ``app``, a server on ``database_url``."""
    # Connect to the address uvicorn listens on; the origin is the one it expects.
    base = f"http://127.0.0.1:{app.port}"
    return asyncio.run(_run(base, app.url, app.process.pid, database_url, users, seconds))


def _on_postgres(users: int, seconds: float) -> list[Row]:
    """The same run on a throwaway PostgreSQL database (``--postgres``)."""
    with postgres_server("load") as (app, url):
        return against(app, url, users, seconds)


def main() -> None:
    """Run only this benchmark and print its rows (``python -m bench.load_run``)."""
    top = argparse.ArgumentParser(prog="python -m bench.load_run")
    top.add_argument("--users", type=int, default=USERS)
    top.add_argument("--seconds", type=float, default=SECONDS)
    top.add_argument("--postgres", action="store_true", help="at HOMEWARD_TEST_POSTGRES_URL")
    args = top.parse_args()
    if args.postgres:
        rows = _on_postgres(args.users, args.seconds)
    else:
        with (
            tempfile.TemporaryDirectory(prefix="homeward-load-") as tmp,
            running(Path(tmp)) as servers,
        ):
            rows = run(Context(servers, Options()), args.users, args.seconds)
    for row in rows:
        print(f"| {row.area} | {row.measure} | {row.result} | {row.target} | {row.notes} |")


if __name__ == "__main__":
    main()
