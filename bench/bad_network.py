"""Bad network: 50 sessions logged without signal, sent over a simulated mobile link.

Between Chromium and the app sits a TCP proxy of the tests' own
(`tests/support/netproxy.py`; this kernel has no `tc netem`): the app is
opened at the proxy's origin, which the server is given as its
`HOMEWARD_ORIGIN`, so every byte the phone exchanges goes through it. The
link adds 300 ms each way, carries 50 KB/s each way (shared by all
connections, as one radio is) and resets each connection after a random
number of bytes (exponential, 100 KB on average: in the middle of a request
or an answer). Two cases:

- **no outage while sending**: only that;
- **an outage during the sync**: the link goes down 0.5 to 4 s after the
  signal is back (while the phone is sending) for 10 to 60 s, then again
  for 10 to 60 s after every 20 to 90 s up. Half the outages *drop* (open
  connections reset, new ones reset at once: the radio lost its bearer),
  half *stall* (nothing moves until the outage ends, then everything
  resumes: out of coverage, TCP waiting). The phone is not told: for the
  browser the network stays up.

Every random choice comes from a seed per run (the same seeds for both
cases).

A worker (a session made in the database, as the tests do) installs the
app over the slow link (delay and throttle only: the install is not what is
measured), opens a session form as before going out, loses the signal (the
browser is told it is offline, the link is down), logs 50 sessions on the
offline screens (typed into the forms, the four types in turn), and gets
the signal back on the bad link: the browser's `online` event fires.
Measured from that moment:

- **time from network back to outbox empty**: until the page's outbox count
  is 0, which needs every entry acknowledged and the pull that follows (the
  phone's drain). It includes the outages, the cuts and the phone's retry
  waits (a failure of the link itself waits a random 0.25-5 s; the `online`
  event resets the backoff); with an outage, the notes also give the time from the end of
  the last outage;
- **bytes sent per record**: every byte the phone put on the link in that
  time (requests, retries, cut attempts; HTTP/1.1 without TLS), divided by
  50; the bytes received likewise. Against them: the records' sealed bodies
  alone (their JSON as stored in the outbox);
- **lost or doubled**: the server's session logs of that worker against the
  50 ids and notes the run created, compared one by one.

The same journey on the proxy with no impairment is the clean reference
(loopback, no delay, no loss). Each result is the median of the runs, the
slowest and fastest in brackets; the notes give every run. The app is a
server of this benchmark's own (its origin must be the proxy's), on a fresh
SQLite database.

What the figures show. Without an outage, the few seconds are round trips
(who is signed in, the key, the push, the pull: 600 ms each here), not
bandwidth: all the phone sends for 50 records is about 43 KB. A cut in the
middle of a push on a reused connection is re-sent by Chromium itself (the
page sees one request, the link carries it twice: such a run sends about
twice the bytes per record); the server's idempotency makes that harmless.
With an outage the phone is not told of, what follows its end differs by
kind: after a stall the held requests resume (or are given up after the
request's time limit and sent again) and the outbox empties within seconds;
after a drop the phone's next try comes within 5 s, since failures of the
link itself wait a short random time and a cut batch is sent again in
halves. Bytes per record barely move with the link:
the sealed body and its record in the push, plus the drain's other requests
shared by the 50.

    .venv/bin/python -m bench.bad_network [--runs 3] [--seed 1] [--typed 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import async_playwright
from tortoise import Tortoise

from bench import report
from bench.context import Context
from bench.rows import Row
from server import db
from server.sessions.models import SessionLog
from tests.support import badlink, browser
from tests.support import outbox as ob
from tests.support.netproxy import Conditions, NetProxy, serve_behind

SESSIONS = 50
RUNS = 3
# The bad link, with no outage while the phone sends...
STEADY = Conditions(delay=0.3, bandwidth=50_000, cut_after=100_000, outages=0)
# ...and with one that starts during the sync, then more as they come.
STORMY = Conditions(
    delay=STEADY.delay,
    bandwidth=STEADY.bandwidth,
    cut_after=STEADY.cut_after,
    outage=(10.0, 60.0),
    uptime=(20.0, 90.0),
    first_uptime=(0.5, 4.0),
)
INSTALL = Conditions(delay=STEADY.delay, bandwidth=STEADY.bandwidth, outages=0)
CLEAN = Conditions(outages=0)
PATIENCE = 20 * 60.0  # seconds; a run that takes longer fails the benchmark


@dataclass(frozen=True)
class Run:
    label: str
    trip: badlink.Trip
    lost: int  # created, not on the server
    doubled: int  # on the server more than once, or not created by the run

    @property
    def up_per_record(self) -> float:
        return self.trip.window.up / len(self.trip.notes)

    @property
    def down_per_record(self) -> float:
        return self.trip.window.down / len(self.trip.notes)

    @property
    def after_outage(self) -> float | None:
        """From the end of the last outage to outbox empty; None without one."""
        ends = [o.end for o in self.trip.window.outages if o.end is not None]
        return self.trip.started + self.trip.seconds - max(ends) if ends else None

    def describe(self) -> str:
        window = self.trip.window
        start = self.trip.started
        outages = ", ".join(
            f"{o.kind} {(o.end or o.start) - o.start:.0f} s from {o.start - start:.1f} s"
            for o in window.outages
        )
        text = f"{self.label}: {self.trip.seconds:.1f} s"
        if self.after_outage is not None:
            text += f" ({self.after_outage:.1f} s after the last outage ended)"
        return (
            f"{text}, {self.trip.pushes} pushes, {window.cuts} cuts, "
            f"{window.dropped} connections dropped, outages: {outages or 'none'}"
        )


async def _journey(
    data_dir: Path, label: str, seed: int, links: tuple[Conditions, Conditions], typed: int
) -> Run:
    """One worker's journey; ``links``: the link while installing, then once the signal is back."""
    install, bad = links
    database_url = f"sqlite://{data_dir / 'bench.sqlite3'}"
    link = NetProxy(0, seed=seed, conditions=install)
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": database_url,
        "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
    }
    log = (data_dir / f"server-{label}.log").open("ab")
    server = await asyncio.to_thread(serve_behind, link.port, env, output=log)
    link.target_port = server.port
    await link.start()
    try:
        world = await ob.caseload(size=3)
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(
                executable_path=browser.CHROMIUM, args=browser.ARGS
            )
            try:
                context = await chromium.new_context(base_url=link.url)
                page = await context.new_page()
                await ob.sign_in(context, link.url, world.worker)
                await ob.install(page)
                trip = await badlink.journey(
                    page,
                    link,
                    world,
                    typed=typed,
                    total=SESSIONS,
                    bad=bad,
                    patience=PATIENCE,
                )
            finally:
                await chromium.close()
    finally:
        await link.close()
        server.stop()
        log.close()
    logs = await SessionLog.filter(author_id=world.worker.id)
    found = [str(log.id) for log in logs]
    lost = len(set(trip.notes) - set(found))
    doubled = len(found) - len(set(found)) + len(set(found) - set(trip.notes))
    doubled += sum(1 for log in logs if trip.notes.get(str(log.id)) != log.notes)
    return Run(label, trip, lost, doubled)


@dataclass(frozen=True)
class Runs:
    clean: Run
    steady: list[Run]
    stormy: list[Run]


async def _measure(data_dir: Path, runs: int, seed: int, typed: int) -> Runs:
    database_url = f"sqlite://{data_dir / 'bench.sqlite3'}"
    await db.migrate(database_url)
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        clean = await _journey(data_dir, "clean", seed, (CLEAN, CLEAN), typed)
        done: dict[str, list[Run]] = {"steady": [], "stormy": []}
        for n in range(runs):
            for name, bad in (("steady", STEADY), ("stormy", STORMY)):
                label = f"seed {seed + n}"
                done[name].append(await _journey(data_dir, label, seed + n, (INSTALL, bad), typed))
    finally:
        await Tortoise.close_connections()
    return Runs(clean, done["steady"], done["stormy"])


def _spread(values: list[float], unit: str, digits: int = 0) -> str:
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:,.{digits}f} {unit}"
    low, high = min(values), max(values)
    return f"{middle:,.{digits}f} {unit} ({low:,.{digits}f}–{high:,.{digits}f})"


LINK = "300 ms each way, 50 KB/s, a cut every 100 KB a connection carries on average"


def rows(runs: Runs) -> list[Row]:
    clean, steady, stormy = runs.clean, runs.steady, runs.stormy
    bad = [*steady, *stormy]
    sealed = statistics.median(r.trip.sealed_bytes / SESSIONS for r in bad)
    up = [r.up_per_record for r in bad]
    down = [r.down_per_record for r in bad]
    wrong = sum(r.lost + r.doubled for r in [clean, *bad])
    steady_s = [r.trip.seconds for r in steady]
    stormy_s = [r.trip.seconds for r in stormy]
    after = [r.after_outage for r in stormy if r.after_outage is not None]
    after_text = f"; after the outage ended: {_spread(after, 's', 1)}" if after else ""
    against = f"clean loopback {clean.trip.seconds:.1f} s"
    per_seed = f"{len(steady)} runs, one seed each: "
    return [
        Row(
            "Bad network",
            f"Time from network back to outbox empty, {SESSIONS} sessions logged without "
            f"signal, mobile link ({LINK}), no outage while sending",
            _spread(steady_s, "s", 1),
            against,
            f"{statistics.median(steady_s) / clean.trip.seconds:.1f}",
            notes=per_seed + "; ".join(r.describe() for r in [*steady, clean]),
        ),
        Row(
            "Bad network",
            "The same with an outage of 10–60 s starting 0.5–4 s after the network is back "
            "(during the sync), then 20–90 s up between outages",
            _spread(stormy_s, "s", 1) + after_text,
            against,
            f"{statistics.median(stormy_s) / clean.trip.seconds:.1f}",
            notes=per_seed + "; ".join(r.describe() for r in stormy),
        ),
        Row(
            "Bad network",
            "Bytes the phone sent per record, network back to outbox empty (requests, "
            "retries, cut attempts; HTTP/1.1, no TLS), both bad-link cases",
            _spread(up, "B"),
            f"sealed body alone {sealed:,.0f} B · clean loopback {clean.up_per_record:,.0f} B",
            f"{statistics.median(up) / sealed:.2f} · "
            f"{statistics.median(up) / clean.up_per_record:.2f}",
            notes=f"received per record: {_spread(down, 'B')}, clean loopback "
            f"{clean.down_per_record:,.0f} B; sent per run: without outage "
            + ", ".join(f"{r.up_per_record:,.0f} B" for r in steady)
            + "; with outages "
            + ", ".join(f"{r.up_per_record:,.0f} B" for r in stormy),
        ),
        Row(
            "Bad network",
            "Session logs lost or doubled: the server's rows against the ids and notes "
            "each run created",
            f"{wrong}",
            target=f"0 ({'met' if wrong == 0 else 'not met'})",
            notes=f"{len(bad) + 1} runs of {SESSIONS}: "
            + ", ".join(f"{r.lost} lost, {r.doubled} doubled" for r in [clean, *bad]),
        ),
    ]


def measure(runs: int = RUNS, seed: int = 1, typed: int = SESSIONS) -> list[Row]:
    if not browser.available():
        return [Row("Bad network", "Offline journey over a bad link", "not measured — no Chromium")]
    with tempfile.TemporaryDirectory(prefix="homeward-bad-network-") as tmp:
        return rows(asyncio.run(_measure(Path(tmp), runs, seed, typed)))


def run(context: Context) -> list[Row]:
    # A server of its own: the app's origin must be the proxy's, not the
    # shared benchmark server's.
    del context
    return measure()


def main() -> None:
    top = argparse.ArgumentParser(prog="python -m bench.bad_network", description=__doc__)
    top.add_argument("--runs", type=int, default=RUNS, help="runs per bad-link case")
    top.add_argument("--seed", type=int, default=1, help="the first run's seed")
    top.add_argument("--typed", type=int, default=SESSIONS, help="sessions typed in the forms")
    args = top.parse_args()
    # The rows as docs/performance.md has them (bench/report.py's table).
    print("\n".join(report._table(measure(args.runs, args.seed, args.typed))))


if __name__ == "__main__":
    main()
