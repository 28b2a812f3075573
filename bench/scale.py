"""Scale: the officer dashboard and a participant page on a small and a large world.

Two worlds of 10,000 participants (officers of 200 each) are generated with
`bench.worldgen`, each in a fresh database: a small one with 10,000 session
logs and a large one with 1,000,000 (the same first 10,000, then more). This
runs on SQLite files and on throwaway PostgreSQL databases (at
`HOMEWARD_TEST_POSTGRES_URL`, created, migrated and dropped); without
PostgreSQL its rows say why. The rows go in in bulk (see
`bench/worldgen.py`, seeded: the same worlds on both databases);
PostgreSQL's tables are then vacuumed and analysed, as autovacuum soon
would, while SQLite gets no `ANALYZE`, as the app runs none, so its planner
has no statistics.

Each world is served by the whole app (middleware, sign-in session, audit,
templates) in a child process of its own, since Tortoise keeps one database
per process, and requested over ASGI one at a time, so the figures are the
server's own time per page without the network. The dashboard is the
officer's first page of 25 in code order; the participant page is the
officer's view of the first participant of that caseload. After a warm-up
that is not counted, the two worlds take turns, a round of requests to each
page at a time, so a burst of work from a neighbour on the shared machine
lands on both alike. The p50 is the median of every request, the p95 the
median of the rounds' own p95 (the notes give the lowest and highest); each
ratio, large ÷ small, is the median of the ratios within a round.

What limits the participant page's ratio: the page lists the participant's
latest 50 session logs. In the small world a participant has about one; in
the large, about a hundred, so the large page renders fifty entries (about
17 KB of HTML against 7): the ratio measures a page that shows more, not a
slower query (every query of both pages is an index probe at 1M rows). It
stops growing at the cap: with 500,000 logs the page is as large and as fast
as with 1,000,000.

    .venv/bin/python -m bench.scale [--participants 10000 --small 10000 --large 1000000]
        [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from bench import worldgen
from bench.context import Context
from bench.rows import Row, ratio
from server import db
from server.accounts import sessions
from server.accounts.models import User
from server.app import create_app
from server.participants.models import Participant
from server.settings import ROOT, Settings
from tests.support import pg

PARTICIPANTS = 10_000
SMALL_LOGS = 10_000
LARGE_LOGS = 1_000_000
ROUNDS = 5
REQUESTS = 30  # per page, world and round
WARMUP = 5
TARGET_P95_MS = 150.0  # on PostgreSQL
TARGET_RATIO = 1.5
PAGES = {
    "dashboard": "Officer dashboard `/dashboard`",
    "participant": "Participant page `/participants/{id}`",
}
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True)
class Sizes:
    participants: int = PARTICIPANTS
    small: int = SMALL_LOGS
    large: int = LARGE_LOGS


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


@dataclass(frozen=True)
class Timing:
    """One page on one world: the milliseconds of each request, round by round."""

    rounds: list[list[float]]

    @property
    def p50(self) -> float:
        return statistics.median(sample for samples in self.rounds for sample in samples)

    @property
    def p95s(self) -> list[float]:
        return [_p95(samples) for samples in self.rounds]

    @property
    def p95(self) -> float:
        return statistics.median(self.p95s)

    def text(self) -> str:
        return f"{self.p50:.0f} / {self.p95:.0f} ms"

    def span(self) -> str:
        return f"{min(self.p95s):.0f}–{max(self.p95s):.0f} ms"


def ratios(small: Timing, large: Timing) -> tuple[float, float]:
    """Large ÷ small for the p50 and the p95, each the median over rounds."""
    pairs = list(zip(small.rounds, large.rounds, strict=True))
    return (
        statistics.median(statistics.median(b) / statistics.median(a) for a, b in pairs),
        statistics.median(_p95(b) / _p95(a) for a, b in pairs),
    )


@dataclass(frozen=True)
class Result:
    small: dict[str, Timing]
    large: dict[str, Timing]
    small_seconds: float  # generating the small world
    large_seconds: float  # generating the large one


# The child: one world, served in process, answering rounds on request.


async def _samples(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return samples


def _say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


async def serve(sizes: Sizes, logs: int, url: str, data_dir: Path) -> None:
    """Build a world with ``logs`` session logs at ``url``, then time rounds when asked.

    Says ``{"seconds": …}`` on stdout once the world is built; then for each
    line ``round`` on stdin, the milliseconds of ``REQUESTS`` requests to
    each page (after ``WARMUP`` uncounted ones the first time); stops at the
    end of its input.
    """
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
        # The large world has the small one's logs, then more.
        await worldgen.add_logs(world, count=min(logs, sizes.small))
        if logs > sizes.small:
            await worldgen.add_logs(world, count=logs - sizes.small, seed=12)
        seconds = time.monotonic() - started
        officer = await User.get(id=world.officers[0])
        participant = await Participant.filter(officer_id=officer.id).order_by("code").first()
        assert participant is not None
        signed = await sessions.start(user=officer, now=worldgen.NOW, ip="", device="bench")
        paths = {"dashboard": "/dashboard", "participant": f"/participants/{participant.id}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.origin) as client:
            client.cookies.set("homeward_session", signed.token)
            _say({"seconds": seconds})
            for number, line in enumerate(sys.stdin):
                if line.strip() != "round":
                    break
                if number == 0:
                    # Fills the caches, after the other world's build; not counted.
                    for path in paths.values():
                        await _samples(client, path, WARMUP)
                _say({key: await _samples(client, path, REQUESTS) for key, path in paths.items()})


# The parent: a child per world, taking turns.


class _World:
    """A child process serving one world (``serve``), spoken to line by line."""

    def __init__(self, sizes: Sizes, logs: int, url: str, log: IO[str]) -> None:
        command = [sys.executable, "-m", "bench.scale", "--serve", url, "--logs", str(logs)]
        command += ["--participants", str(sizes.participants), "--small", str(sizes.small)]
        self.url = url
        self.log = log
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        self.seconds = float(self._answer()["seconds"])

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                answer: dict[str, Any] = json.loads(line)
                return answer
        self.process.wait()
        self.log.seek(0)
        raise RuntimeError(f"scale failed on {self.url}:\n{self.log.read()[-3000:]}")

    def round(self) -> dict[str, list[float]]:
        assert self.process.stdin is not None
        self.process.stdin.write("round\n")
        self.process.stdin.flush()
        return self._answer()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure(sizes: Sizes, small_url: str, large_url: str) -> Result:
    """Both worlds built one after the other, then timed in alternating rounds."""
    with ExitStack() as stack:
        log = stack.enter_context(tempfile.TemporaryFile("w+"))
        worlds = []
        for url, logs in ((small_url, sizes.small), (large_url, sizes.large)):
            world = _World(sizes, logs, url, log)
            stack.callback(world.stop)
            worlds.append(world)
        small, large = worlds
        rounds: dict[str, dict[str, list[list[float]]]] = {"small": {}, "large": {}}
        for number in range(ROUNDS):
            # Each goes first in turn, so neither always follows the other.
            order = [("small", small), ("large", large)]
            for name, world in order if number % 2 == 0 else order[::-1]:
                for page, samples in world.round().items():
                    rounds[name].setdefault(page, []).append(samples)
    return Result(
        {page: Timing(samples) for page, samples in rounds["small"].items()},
        {page: Timing(samples) for page, samples in rounds["large"].items()},
        small.seconds,
        large.seconds,
    )


@contextmanager
def _postgres_database(label: str) -> Iterator[str]:
    """A throwaway PostgreSQL database (migrated by the child), dropped afterwards.

    Raises:
        OSError (or the driver's error): PostgreSQL cannot be reached; raised
            before anything was created.
    """
    name = f"homeward_scale_{label}_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(pg.create_database(name))
    try:
        yield url
    finally:
        asyncio.run(pg.drop_database(name))


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def _measure_text(sizes: Sizes, page: str, label: str) -> str:
    return (
        f"{page} p50 / p95, {sizes.participants:,} participants, "
        f"{sizes.large:,} session logs vs {sizes.small:,}, {label}"
    )


def rows(sizes: Sizes, database: str, result: Result) -> list[Row]:
    label = DATABASES[database]
    per_officer = sizes.large * worldgen.PER_OFFICER // sizes.participants
    notes = (
        f"in-process ASGI, {ROUNDS} rounds of {REQUESTS} sequential requests per page and "
        f"world after {WARMUP} warm-up, the worlds taking turns; officer with "
        f"{worldgen.PER_OFFICER} participants (about {per_officer:,} of the large world's "
        f"logs), first page of 25; worlds generated in {result.small_seconds:.0f} s and "
        f"{result.large_seconds:.0f} s; ratio: large ÷ small, p50 / p95, median of the "
        "rounds' ratios; p95: median of the rounds' p95"
    )
    out = []
    for key, page in PAGES.items():
        small, large = result.small[key], result.large[key]
        shares = ratios(small, large)
        target = f"ratio ≤ {TARGET_RATIO:g} ({_met(max(shares) <= TARGET_RATIO)})"
        if database == "postgres":
            p95 = f"p95 ≤ {TARGET_P95_MS:.0f} ms ({_met(large.p95 <= TARGET_P95_MS)})"
            target = f"{p95} · {target}"
        out.append(
            Row(
                "Scale",
                _measure_text(sizes, page, label),
                large.text(),
                f"{small.text()} at {sizes.small:,} logs",
                " / ".join(ratio(share) for share in shares),
                target,
                f"{notes}; rounds' p95 {small.span()} small, {large.span()} large",
            )
        )
    return out


def _sqlite(sizes: Sizes) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="homeward-scale-") as tmp:
        urls = [f"sqlite://{Path(tmp) / name}" for name in ("small.sqlite3", "large.sqlite3")]
        result = measure(sizes, *urls)
    return rows(sizes, "sqlite", result)


def _postgres(sizes: Sizes) -> list[Row]:
    with ExitStack() as stack:
        try:
            urls = [stack.enter_context(_postgres_database(n)) for n in ("small", "large")]
        except Exception as error:  # no PostgreSQL here: say so instead of a figure
            return [
                Row(
                    "Scale",
                    _measure_text(sizes, page, "PostgreSQL"),
                    f"not measured — PostgreSQL unavailable ({type(error).__name__})",
                    target=f"p95 ≤ {TARGET_P95_MS:.0f} ms · ratio ≤ {TARGET_RATIO:g}",
                )
                for page in PAGES.values()
            ]
        return rows(sizes, "postgres", measure(sizes, *urls))


def run(context: Context, sizes: Sizes | None = None) -> list[Row]:
    chosen = sizes or Sizes()
    return _sqlite(chosen) + _postgres(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--participants", type=int, default=PARTICIPANTS)
    parser.add_argument("--small", type=int, default=SMALL_LOGS)
    parser.add_argument("--large", type=int, default=LARGE_LOGS)
    parser.add_argument("--database", choices=sorted(DATABASES), help="only this one")
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--logs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = Sizes(args.participants, args.small, args.large)
    if args.serve:
        # A child of `measure`: one world at --serve with --logs logs.
        with tempfile.TemporaryDirectory(prefix="homeward-scale-") as tmp:
            asyncio.run(serve(sizes, args.logs, args.serve, Path(tmp)))
        return
    started = time.monotonic()
    found = []
    if args.database in (None, "sqlite"):
        found += _sqlite(sizes)
    if args.database in (None, "postgres"):
        found += _postgres(sizes)
    for row in found:
        cells = (row.measure, row.result, row.reference, row.ratio, row.target, row.notes)
        print("| " + " | ".join(cells) + " |")
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
