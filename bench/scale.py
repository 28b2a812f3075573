"""Scale: the officer dashboard and a participant page on a small and a large world.

A world of 10,000 participants (officers of 200 each) is generated with
``bench.worldgen`` into a fresh SQLite database, with 10,000 session logs;
both pages are timed; then logs are added up to the large size and both are
timed again. Requests go through the whole app (middleware, sign-in session,
audit, templates) in this process over ASGI, one at a time, so the figures
are the server's own time per page without the network. The first requests
warm the caches and are not counted.

    .venv/bin/python -m bench.scale --participants 10000 --small 10000 --large 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import worldgen
from bench.context import Context
from bench.rows import Row, ratio
from server import db
from server.accounts import sessions
from server.accounts.models import User
from server.app import create_app
from server.participants.models import Participant
from server.settings import Settings

PARTICIPANTS = 10_000
SMALL_LOGS = 10_000
# The 1,000,000 logs take about three minutes to generate on the
# two-core benchmark machine, too long for every `bench.run`; the full size
# is one flag away (see the module docstring).
LARGE_LOGS = 100_000
REQUESTS = 40
WARMUP = 5


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float

    def text(self) -> str:
        return f"{self.p50:.0f} / {self.p95:.0f} ms"


@dataclass(frozen=True)
class Sizes:
    participants: int = PARTICIPANTS
    small: int = SMALL_LOGS
    large: int = LARGE_LOGS
    # Also create the indexes proposed for the models (not yet migrated).
    proposed_indexes: bool = False


async def _time(client: httpx.AsyncClient, path: str) -> Timing:
    samples = []
    for index in range(WARMUP + REQUESTS):
        started = time.perf_counter()
        response = await client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        if index >= WARMUP:
            samples.append(elapsed)
    cuts = statistics.quantiles(samples, n=20)
    return Timing(statistics.median(samples), cuts[18])


async def _pages(client: httpx.AsyncClient, participant: Participant) -> dict[str, Timing]:
    return {
        "dashboard": await _time(client, "/dashboard"),
        "participant": await _time(client, f"/participants/{participant.id}"),
    }


async def measure(
    sizes: Sizes, data_dir: Path
) -> tuple[dict[str, Timing], dict[str, Timing], float]:
    """Timings on the small world, on the large one, and the seconds spent generating."""
    url = f"sqlite://{data_dir / 'scale.sqlite3'}"
    await db.migrate(url)
    settings = Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": str(data_dir),
            "HOMEWARD_DATABASE_URL": url,
            "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
        }
    )
    app = create_app(settings, clock=lambda: worldgen.NOW)
    async with app.router.lifespan_context(app):
        started = time.monotonic()
        world = await worldgen.build(participants=sizes.participants)
        await worldgen.add_logs(world, count=sizes.small)
        if sizes.proposed_indexes:
            await worldgen.add_proposed_indexes()
        generating = time.monotonic() - started
        officer = await User.get(id=world.officers[0])
        participant = await Participant.filter(officer_id=officer.id).order_by("code").first()
        assert participant is not None
        signed = await sessions.start(user=officer, now=worldgen.NOW, ip="", device="bench")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.origin) as client:
            client.cookies.set("homeward_session", signed.token)
            small = await _pages(client, participant)
            started = time.monotonic()
            await worldgen.add_logs(world, count=sizes.large - sizes.small, seed=12)
            generating += time.monotonic() - started
            large = await _pages(client, participant)
    return small, large, generating


def rows(
    sizes: Sizes, small: dict[str, Timing], large: dict[str, Timing], seconds: float
) -> list[Row]:
    world = f"{sizes.participants:,} participants"
    indexes = "with the proposed indexes" if sizes.proposed_indexes else "migrated schema"
    notes = (
        f"SQLite, {indexes}; in-process ASGI, {REQUESTS} sequential requests "
        f"after {WARMUP} warm-up; "
        f"officer with {worldgen.PER_OFFICER} participants, first page of 25; "
        f"world generated in {seconds:.0f} s"
    )
    measures = {
        "dashboard": "Officer dashboard `/dashboard` p50 / p95",
        "participant": "Participant page `/participants/{id}` p50 / p95",
    }
    return [
        Row(
            "Scale",
            f"{measures[key]}, {world}, {sizes.large:,} session logs vs {sizes.small:,}",
            large[key].text(),
            f"{small[key].text()} at {sizes.small:,} logs",
            ratio(large[key].p50 / small[key].p50),
            notes=notes + "; ratio: p50 large ÷ small",
        )
        for key in measures
    ]


def run(context: Context, sizes: Sizes | None = None) -> list[Row]:
    chosen = sizes or Sizes()
    with tempfile.TemporaryDirectory(prefix="homeward-scale-") as tmp:
        small, large, seconds = asyncio.run(measure(chosen, Path(tmp)))
    return rows(chosen, small, large, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=PARTICIPANTS)
    parser.add_argument("--small", type=int, default=SMALL_LOGS)
    parser.add_argument("--large", type=int, default=LARGE_LOGS)
    parser.add_argument("--proposed-indexes", action="store_true")
    args = parser.parse_args()
    sizes = Sizes(args.participants, args.small, args.large, args.proposed_indexes)
    with tempfile.TemporaryDirectory(prefix="homeward-scale-") as tmp:
        small, large, seconds = asyncio.run(measure(sizes, Path(tmp)))
    for row in rows(sizes, small, large, seconds):
        print(f"{row.measure}: {row.result} (reference {row.reference}, ratio {row.ratio})")


if __name__ == "__main__":
    main()
