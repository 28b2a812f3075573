"""What one push and one pull cost the server in CPU, measured in process.

The crowd's latencies on a shared machine move with everything else that
runs there; the CPU a request takes moves much less. This runs the real app
in this process (ASGI, no sockets), one worker with 8 participants, and
repeats what a phone of the crowd does: push a batch of 12 sealed logs
(sealed beforehand), then pull from its cursor. It reports the process's
CPU time (all threads: the SQLite driver's thread included) per push, per
pull and per record, as the median of rounds. Compare two trees by running
it in each.

    .venv/bin/python -m bench.sync_cost [--postgres] [--rounds 5] [--cycles 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BATCH = 12
CSRF_HEADER = "x-csrf-token"


async def _measure(database_url: str, data_dir: str, rounds: int, cycles: int) -> dict[str, float]:
    from server import db
    from server.accounts import sessions
    from server.app import create_app
    from server.enums import Role
    from server.settings import Settings
    from tests.support import world
    from tests.support.sealing import family_values, session_log_entry
    from tests.support.web import ORIGIN, csrf_token

    await db.migrate(database_url)
    settings = Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": data_dir,
            "HOMEWARD_DATABASE_URL": database_url,
            "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
            "HOMEWARD_ORIGIN": ORIGIN,
        }
    )
    app = create_app(settings)
    push_ms: list[float] = []
    pull_ms: list[float] = []
    async with app.router.lifespan_context(app):
        org = await world.organisation()
        officer = await world.user(org, Role.OFFICER)
        worker = await world.user(org, Role.WORKER)
        people = [await world.participant(org, officer) for _ in range(8)]
        for person in people:
            await person.workers.add(worker)
        started = await sessions.start(
            user=worker, now=datetime.now(UTC), ip="127.0.0.1", device="bench"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            client.cookies.set("homeward_session", started.token)
            headers = {"origin": ORIGIN, CSRF_HEADER: await csrf_token(client)}
            key = (await client.get("/api/sync/key")).json()
            first = (await client.get("/api/sync/pull", params={"since": 0})).json()
            cursor, forms = first["cursor"], first["forms_hash"]
            values = family_values(str(people[0].id), occurred_time="10:00", notes="Cost.")

            def sealed() -> list[dict[str, Any]]:
                return [
                    session_log_entry(
                        author=worker.id, values=values, key=key, record_id=str(uuid.uuid4())
                    )
                    for _ in range(BATCH)
                ]

            for number in range(rounds + 1):  # the first round warms up
                batches = [sealed() for _ in range(cycles)]
                pushing = pulling = 0.0
                for batch in batches:
                    cpu = time.process_time()
                    answer = await client.post(
                        "/api/sync/push", json={"records": batch}, headers=headers
                    )
                    pushing += time.process_time() - cpu
                    assert answer.status_code == 200, answer.text
                    cpu = time.process_time()
                    pulled = await client.get(
                        "/api/sync/pull", params={"since": cursor, "forms": forms}
                    )
                    pulling += time.process_time() - cpu
                    assert pulled.status_code == 200, pulled.text
                    cursor = pulled.json()["cursor"]
                if number:
                    push_ms.append(pushing / cycles * 1000)
                    pull_ms.append(pulling / cycles * 1000)
    push, pull = statistics.median(push_ms), statistics.median(pull_ms)
    return {
        "push_ms": push,
        "pull_ms": pull,
        "per_record_ms": (push + pull) / BATCH,
        "push_spread": max(push_ms) - min(push_ms),
        "pull_spread": max(pull_ms) - min(pull_ms),
    }


def main() -> None:
    top = argparse.ArgumentParser(prog="python -m bench.sync_cost")
    top.add_argument("--postgres", action="store_true", help="at HOMEWARD_TEST_POSTGRES_URL")
    top.add_argument("--rounds", type=int, default=5)
    top.add_argument("--cycles", type=int, default=40, help="push + pull per round")
    args = top.parse_args()
    load = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="homeward-cost-") as tmp:
        if args.postgres:
            from tests.support import pg

            name = f"homeward_cost_{uuid.uuid4().hex[:8]}"
            url = asyncio.run(pg.create_database(name))
            try:
                result = asyncio.run(_measure(url, tmp, args.rounds, args.cycles))
            finally:
                asyncio.run(pg.drop_database(name))
        else:
            url = f"sqlite://{tmp}/cost.sqlite3"
            result = asyncio.run(_measure(url, tmp, args.rounds, args.cycles))
    print(
        f"{'PostgreSQL' if args.postgres else 'SQLite'}: CPU per push of {BATCH} "
        f"{result['push_ms']:.1f} ms (spread {result['push_spread']:.1f}), per pull "
        f"{result['pull_ms']:.1f} ms (spread {result['pull_spread']:.1f}), per record with "
        f"its share of the pull {result['per_record_ms']:.2f} ms; load average {' '.join(load)}"
    )


if __name__ == "__main__":
    main()
