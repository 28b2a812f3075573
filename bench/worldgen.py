"""A large synthetic world for the scale benchmark, seeded so every run is the same.

    .venv/bin/python -m bench.worldgen --database-url sqlite:///tmp/big.sqlite3 \
        --participants 10000 --logs 1000000

One organisation (Almaty), officers with 200 participants each, a few
workers; per participant an appointment and one or two progress reviews;
session logs spread over the last two years. Rows go in with the ORM's
``bulk_create`` in batches inside transactions, on SQLite or PostgreSQL
alike. ``add_logs`` appends more logs to an existing world, so one run can
measure 10k logs and then 1M without rebuilding the participants.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

from server import db
from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Attendance, Country, Gender, Pillar, ReviewStatus, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog

BATCH = 5_000
PER_OFFICER = 200
WORKERS = 20
HISTORY_DAYS = 730
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
GENDERS = [Gender.FEMALE, Gender.MALE, Gender.MALE, Gender.OTHER, Gender.UNDISCLOSED]
ATTENDANCES = [Attendance.ATTENDED] * 8 + [Attendance.MISSED, Attendance.CANCELLED]


@dataclass(frozen=True)
class World:
    officers: list[int]
    workers: list[int]
    participants: list[uuid.UUID]


def _batches(items: Iterator[object], size: int = BATCH) -> Iterator[list[object]]:
    batch: list[object] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _insert(model: type, rows: Iterator[object]) -> None:
    for batch in _batches(rows):
        async with in_transaction() as conn:
            await model.bulk_create(batch, using_db=conn)  # type: ignore[attr-defined]


async def _user(org: Organisation, role: Role, name: str) -> User:
    return await User.create(
        organisation=org,
        name=name,
        role=role,
        language="ru",
        time_zone="Asia/Almaty",
        webauthn_handle=secrets.token_bytes(32),
    )


async def build(*, participants: int, seed: int = 7) -> World:
    """Organisation, officers, workers, participants, appointments and reviews."""
    rng = random.Random(seed)
    org = await Organisation.create(
        name="Scale test",
        country=Country.KAZAKHSTAN,
        default_language="ru",
        time_zone="Asia/Almaty",
    )
    officers = [
        await _user(org, Role.OFFICER, f"Officer {i}")
        for i in range(max(1, -(-participants // PER_OFFICER)))
    ]
    workers = [await _user(org, Role.WORKER, f"Worker {i}") for i in range(WORKERS)]
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(participants)]

    def people() -> Iterator[Participant]:
        for i, pid in enumerate(ids):
            yield Participant(
                id=pid,
                organisation_id=org.id,
                code=f"KZ-S{i:07d}",
                full_name=f"Participant {i}",
                gender=rng.choice(GENDERS),
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(16_000)),
                language="ru",
                officer_id=officers[i // PER_OFFICER].id,
                consent_given=True,
            )

    await _insert(Participant, people())

    def appointments() -> Iterator[Appointment]:
        for pid in ids:
            starts = NOW + timedelta(days=rng.randrange(1, 30), hours=rng.randrange(8))
            yield Appointment(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                participant_id=pid,
                pillar=rng.choice(list(Pillar)),
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                created_by_id=officers[0].id,
            )

    await _insert(Appointment, appointments())

    def reviews() -> Iterator[ProgressReview]:
        for i, pid in enumerate(ids):
            for n in range(1 + i % 2):
                on = NOW.date() - timedelta(days=30 + 90 * n + rng.randrange(60))
                yield ProgressReview(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    participant_id=pid,
                    officer_id=officers[i // PER_OFFICER].id,
                    next_review_on=on + timedelta(days=90),
                    reviewed_on=on,
                    **{p.value: rng.choice(list(ReviewStatus)) for p in Pillar},
                )

    await _insert(ProgressReview, reviews())
    return World([o.id for o in officers], [w.id for w in workers], ids)


async def add_logs(world: World, *, count: int, seed: int = 11) -> None:
    """Append ``count`` session logs, spread over participants and two years."""
    rng = random.Random(seed)

    def logs() -> Iterator[SessionLog]:
        for _ in range(count):
            attendance = rng.choice(ATTENDANCES)
            yield SessionLog(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                participant_id=rng.choice(world.participants),
                pillar=rng.choice(list(Pillar)),
                form_version=1,
                occurred_at=NOW - timedelta(minutes=rng.randrange(HISTORY_DAYS * 24 * 60)),
                duration_minutes=rng.choice((30, 45, 60, 90)),
                author_id=rng.choice(world.workers),
                attendance=attendance,
                engagement=rng.randint(1, 5) if attendance is Attendance.ATTENDED else None,
                follow_up=rng.random() < 0.1,
                content_hash="0" * 64,
            )

    await _insert(SessionLog, logs())


# The indexes asked of the models' owner (see the issue's report): the
# officer's caseload, an organisation's participants, a period's sessions.
PROPOSED_INDEXES = (
    'CREATE INDEX IF NOT EXISTS "idx_participant_officer_code" '
    'ON "participant" ("officer_id", "code")',
    'CREATE INDEX IF NOT EXISTS "idx_participant_org" ON "participant" ("organisation_id")',
    'CREATE INDEX IF NOT EXISTS "idx_session_log_occurred" ON "session_log" ("occurred_at")',
)


async def add_proposed_indexes() -> None:
    """Create the proposed indexes, to measure what they would change."""
    conn = connections.get("default")
    for statement in PROPOSED_INDEXES:
        await conn.execute_script(statement)


async def main(database_url: str, participants: int, logs: int) -> None:
    await db.migrate(database_url)
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        started = time.monotonic()
        world = await build(participants=participants)
        await add_logs(world, count=logs)
        print(f"{participants} participants, {logs} logs in {time.monotonic() - started:.0f} s")
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--logs", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.participants, args.logs))
