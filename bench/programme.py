"""Programme view: the coordinator's page at national scale, and at a tenth of it.

A world of 30 organisations (ten each in Kazakhstan, Tunisia and Uganda,
each in its own country's time zone), 30,000 participants and 3,000,000
session logs spread over the two years before the clock (25 November 2026,
so the page shows 2026-Q3, about an eighth of the logs); one log in fifty
is written by a worker of another organisation of the same country (a
referral), and each participant has one progress review. The same world at
a tenth (3,000 participants, 300,000 logs, the same 30 organisations) is
the reference. Each world goes into a PostgreSQL database of its own
(created, migrated, bulk-loaded with COPY through `bench.worldgen`,
vacuumed and analysed, dropped after), and is served by the whole app in a
child process; a coordinator of the three countries asks for
`/programme` over ASGI, one request at a time. The first request counts
the quarter and keeps its counts for a day (server/programme/services.py):
its time is reported alone; after four more uncounted warm-up requests the
next ones give the p50 and p95.

    .venv/bin/python -m bench.programme [--requests 30] [--participants 30000 --logs 3000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from bench import worldgen
from bench.worldgen import Dialect, _load, _uuid_text, _write
from server import db
from server.accounts import sessions
from server.accounts.models import User
from server.app import create_app
from server.enums import Attendance, Country, Gender, Pillar, ReviewStatus, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.programme.models import CoordinatorCountry
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog
from server.settings import ROOT, Settings
from tests.support import pg

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HISTORY_MINUTES = 730 * 24 * 60
ZONES = {
    Country.KAZAKHSTAN: "Asia/Almaty",
    Country.TUNISIA: "Africa/Tunis",
    Country.UGANDA: "Africa/Kampala",
}
PER_COUNTRY = 10
WORKERS = 5
REFERRED = 0.02
WARMUP = 5
TARGET_MS = 300.0


async def build(participants: int, logs: int, seed: int = 5) -> User:
    """The world; returns its coordinator."""
    rng = random.Random(seed)
    programme = await Organisation.create(
        name="Programme office",
        country=Country.UGANDA,
        default_language="en",
        time_zone="Africa/Kampala",
        is_programme=True,
    )

    async def user(org: Organisation, role: Role, name: str) -> User:
        return await User.create(
            organisation=org,
            name=name,
            role=role,
            language="en",
            time_zone=org.time_zone,
            webauthn_handle=rng.randbytes(32),
        )

    coordinator = await user(programme, Role.COORDINATOR, "Coordinator")
    orgs: list[tuple[Organisation, list[int], int]] = []
    for country, zone in ZONES.items():
        await CoordinatorCountry.create(user=coordinator, country=country)
        for n in range(PER_COUNTRY):
            org = await Organisation.create(
                name=f"{country.value} NGO {n}",
                country=country,
                default_language="en",
                time_zone=zone,
            )
            officer = await user(org, Role.OFFICER, f"Officer {country.value}{n}")
            workers = [(await user(org, Role.WORKER, f"Worker {i}")).id for i in range(WORKERS)]
            orgs.append((org, workers, officer.id))
    homes = [orgs[i % len(orgs)] for i in range(participants)]
    ids = [_uuid_text(rng) for _ in range(participants)]
    genders = [g.value for g in Gender]
    pillars = [p.value for p in Pillar]
    attendances = [
        a.value for a in [Attendance.ATTENDED] * 8 + [Attendance.MISSED, Attendance.CANCELLED]
    ]
    statuses = [s.value for s in ReviewStatus]
    # Other organisations of the same country, for referrals.
    neighbours = {
        org.id: [o for o in orgs if o[0].country is org.country and o[0].id != org.id]
        for org, _, _ in orgs
    }

    def people(d: Dialect) -> Any:
        for i, pid in enumerate(ids):
            org, _, officer = homes[i]
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(17_000))
            yield (
                pid, org.id, f"{org.country.value}-P{i:07d}", f"Participant {i}",
                rng.choice(genders), d.day(born), "en", officer, d.flag(True),
            )  # fmt: skip

    def reviews(d: Dialect) -> Any:
        for i, pid in enumerate(ids):
            _, _, officer = homes[i]
            on = NOW.date() - timedelta(days=rng.randrange(730))
            yield (
                _uuid_text(rng),
                pid,
                officer,
                d.day(on),
                *(rng.choice(statuses) for _ in pillars),
            )

    def session_logs(d: Dialect) -> Any:
        unhashed = "0" * 64
        for _ in range(logs):
            i = rng.randrange(participants)
            org, workers, _ = homes[i]
            if rng.random() < REFERRED:
                workers = rng.choice(neighbours[org.id])[1]
            attendance = rng.choice(attendances)
            occurred = d.when(NOW - timedelta(minutes=rng.randrange(HISTORY_MINUTES)))
            yield (
                _uuid_text(rng), ids[i], rng.choice(pillars), 1, occurred, 45,
                rng.choice(workers), attendance, None, d.flag(False), unhashed, occurred, occurred,
            )  # fmt: skip

    person = (
        *("id", "organisation_id", "code", "full_name", "gender", "date_of_birth"),
        *("language", "officer_id", "consent_given"),
    )
    review = ("id", "participant_id", "officer_id", "reviewed_on", *pillars)
    async with _load(("participant", "progress_review", "session_log")) as d:
        await _write(Participant, person, people(d))
        await _write(ProgressReview, review, reviews(d))
        await _write(SessionLog, worldgen.LOG_COLUMNS, session_logs(d))
    return coordinator


async def serve(url: str, participants: int, logs: int, requests: int) -> None:
    """Build one world at ``url`` and print the page's times (ms) as JSON."""
    import tempfile
    from pathlib import Path

    await db.migrate(url)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env(
            {
                "HOMEWARD_DATA_DIR": str(Path(data_dir)),
                "HOMEWARD_DATABASE_URL": url,
                "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
            }
        )
        app = create_app(settings, clock=lambda: NOW)
        async with app.router.lifespan_context(app):
            started = time.monotonic()
            coordinator = await build(participants, logs)
            built = time.monotonic() - started
            signed = await sessions.start(user=coordinator, now=NOW, ip="", device="bench")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.origin) as client:
                client.cookies.set("homeward_session", signed.token)
                times = []
                for _ in range(WARMUP + requests):
                    begun = time.perf_counter()
                    response = await client.get("/programme")
                    assert response.status_code == 200, response.status_code
                    times.append((time.perf_counter() - begun) * 1000)
    # The first request counts the quarter (and keeps the counts for a day):
    # reported on its own; the warm-up after it is not counted.
    print(json.dumps({"built_s": built, "cold_ms": times[0], "ms": times[WARMUP:]}), flush=True)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def world(participants: int, logs: int, requests: int) -> dict[str, Any]:
    name = f"homeward_bench_programme_{secrets.token_hex(4)}"
    url = asyncio.run(pg.create_database(name))
    try:
        command = [sys.executable, "-m", "bench.programme", "--serve", url]
        command += ["--participants", str(participants), "--logs", str(logs)]
        command += ["--requests", str(requests)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return answer
    finally:
        asyncio.run(pg.drop_database(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=30_000)
    parser.add_argument("--logs", type=int, default=3_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.participants, args.logs, args.requests))
        return
    small = world(args.participants // 10, args.logs // 10, args.requests)
    large = world(args.participants, args.logs, args.requests)
    for label, result in (("tenth", small), ("full", large)):
        ms = result["ms"]
        print(
            f"{label}: built in {result['built_s']:.0f} s; first request (counting)"
            f" {result['cold_ms']:.0f} ms; then p50 {statistics.median(ms):.0f} ms,"
            f" p95 {p95(ms):.0f} ms over {len(ms)} requests"
        )
    ratio = p95(large["ms"]) / p95(small["ms"])
    verdict = "met" if p95(large["ms"]) <= TARGET_MS else "NOT met"
    print(f"ratio full / tenth (p95): {ratio:.1f}; target p95 <= {TARGET_MS:.0f} ms {verdict}")


if __name__ == "__main__":
    main()
