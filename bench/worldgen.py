"""A large synthetic world for the scale benchmark, seeded so every run is the same.

    .venv/bin/python -m bench.worldgen --database-url sqlite:///tmp/big.sqlite3 \
        --participants 10000 --logs 1000000

One organisation (Almaty), officers with 200 participants each, a few
workers; per participant an appointment and one or two progress reviews;
session logs spread over the last two years. The same seed gives the same
rows, ids included, on SQLite and on PostgreSQL.

The few users go in through the ORM. The bulk rows bypass it, which would
spend most of the time building model instances: on PostgreSQL they are
streamed with `COPY` (asyncpg's `copy_records_to_table` on the Tortoise
connection), on SQLite written with `executemany` in large transactions under
`PRAGMA synchronous=OFF` and a larger page cache, both set back afterwards.
Rows are written as the ORM writes them (on SQLite, times as Tortoise's
`isoformat(" ")` text) and every column the generator leaves out takes its
model default. Primary keys and unique codes are checked row by row. A
table's other indexes, and on PostgreSQL its foreign keys, are dropped for
the load and made again from their own saved definitions, so the schema
ends exactly as migrated; a foreign key added back is checked over the whole
table at once, and the rebuilt indexes are freshly packed, as after a
`REINDEX`. PostgreSQL's tables are then vacuumed and analysed, as autovacuum
soon would after such a load. `add_logs` appends logs to an existing world,
so one run can time pages at 10k logs and then at 1M.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from functools import cached_property
from typing import Any

from tortoise import Tortoise, connections
from tortoise.models import Model

from server import db
from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Attendance, Country, Gender, Pillar, ReviewStatus, Role
from server.orgs.models import Organisation
from server.participants.models import Participant
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog

PER_OFFICER = 200
WORKERS = 20
HISTORY_DAYS = 730
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
GENDERS = [Gender.FEMALE, Gender.MALE, Gender.MALE, Gender.OTHER, Gender.UNDISCLOSED]
ATTENDANCES = [Attendance.ATTENDED] * 8 + [Attendance.MISSED, Attendance.CANCELLED]
# Rows per SQLite transaction: large enough that commits cost nothing, small
# enough that the write-ahead log is checkpointed as the load goes.
SQLITE_BATCH = 100_000
# Page cache for the load only, in KiB: the primary key of random UUIDs is
# written all over, and the default 2 MB would make most rows a page fault.
SQLITE_LOAD_CACHE_KIB = 262_144
# The version 4 and RFC 4122 variant bits, as uuid.UUID(int=..., version=4) sets them.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


@dataclass(frozen=True)
class World:
    officers: list[int]
    workers: list[int]
    participants: list[uuid.UUID]


def _uuid_text(rng: random.Random) -> str:
    """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, in half the time.

    Both drivers take the text: SQLite stores it, asyncpg encodes it as a uuid.
    """
    h = f"{rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Dialect:
    """How a value is written for one database, outside the ORM."""

    postgres: bool

    def when(self, value: datetime) -> Any:
        # Tortoise's SQLite adapter: ``isoformat(" ")`` of an aware UTC time.
        return value if self.postgres else value.isoformat(" ")

    def day(self, value: date | None) -> Any:
        return value if self.postgres or value is None else value.isoformat()

    def flag(self, value: bool) -> Any:
        return value if self.postgres else int(value)

    def any(self, value: Any) -> Any:
        """Any default value; slower, so only for the constant columns."""
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, datetime):
            return self.when(value)
        if isinstance(value, date):
            return self.day(value)
        if isinstance(value, bool):
            return self.flag(value)
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"))
        return value

    def minutes_before_now(self, minutes: int) -> Any:
        """``when(NOW - timedelta(minutes=minutes))``, faster on SQLite (NOW is on a minute)."""
        if self.postgres:
            return NOW - timedelta(minutes=minutes)
        total = self._now_minute - minutes
        day, minute = divmod(total, 1440)
        return f"{self._days[day]} {minute // 60:02d}:{minute % 60:02d}:00+00:00"

    @cached_property
    def _now_minute(self) -> int:
        return (HISTORY_DAYS + 1) * 1440 + NOW.hour * 60 + NOW.minute

    @cached_property
    def _days(self) -> list[str]:
        first = NOW.date() - timedelta(days=HISTORY_DAYS + 1)
        return [(first + timedelta(days=n)).isoformat() for n in range(HISTORY_DAYS + 2)]


def _dialect() -> Dialect:
    return Dialect(connections.get("default").capabilities.dialect == "postgres")


def _defaults(model: type[Model], given: tuple[str, ...], dialect: Dialect) -> dict[str, Any]:
    """The columns the generator leaves out, with the model's defaults, as written."""
    meta = model._meta
    rest: dict[str, Any] = {}
    for name, column in meta.fields_db_projection.items():
        if column in given:
            continue
        field = meta.fields_map[name]
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value: Any = NOW
        else:
            value = field.default() if callable(field.default) else field.default
        if value is None and not field.null:
            raise ValueError(f"{meta.db_table}.{column} needs a value from the generator")
        rest[column] = dialect.any(value)
    return rest


async def _rebuildable(raw: Any, table: str, postgres: bool) -> list[tuple[str, str, str]]:
    """What a bulk load may drop and make again: ``(name, drop, create)`` statements.

    The table's indexes that back no constraint, and on PostgreSQL its
    foreign keys, whose row-by-row triggers cost more than the load itself;
    added back, each is checked over the whole table at once. (SQLite checks
    its foreign keys cheaply as rows go in, and cannot drop them.)
    """
    if not postgres:
        # SQLite's own indexes for primary keys and UNIQUE have no SQL.
        async with raw.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(name, f'DROP INDEX "{name}"', sql) for name, sql in rows]
    indexes = await raw.fetch(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = $1 AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)",
        table,
    )
    keys = await raw.fetch(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'f'",
        table,
    )
    return [(name, f'DROP INDEX "{name}"', sql) for name, sql in indexes] + [
        (
            name,
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {sql}',
        )
        for name, sql in keys
    ]


@asynccontextmanager
async def _rebuilt(raw: Any, table: str, postgres: bool) -> AsyncIterator[None]:
    """Drop what slows a bulk load into ``table``, then make it again as it was."""
    rebuildable = await _rebuildable(raw, table, postgres)
    for _, drop, _ in rebuildable:
        await raw.execute(drop)
    try:
        yield
    finally:
        for _, _, create in rebuildable:
            await raw.execute(create)


async def _write(
    model: type[Model], columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Append ``rows`` (values for ``columns``, already as written) to the model's table."""
    dialect = _dialect()
    rest = _defaults(model, columns, dialect)
    names = [*columns, *rest]
    tail = tuple(rest.values())
    full = (row + tail for row in rows)
    table = model._meta.db_table
    conn = connections.get("default")
    async with (
        conn.acquire_connection() as raw,
        _rebuilt(raw, table, dialect.postgres),
    ):
        if dialect.postgres:
            await raw.copy_records_to_table(table, records=full, columns=names)
            return
        quoted = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" * len(names))
        sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'
        while batch := [row for _, row in zip(range(SQLITE_BATCH), full, strict=False)]:
            await raw.execute("BEGIN")
            await raw.executemany(sql, batch)
            await raw.commit()


async def _sqlite_pragmas(values: dict[str, Any]) -> dict[str, Any]:
    """Set SQLite pragmas on the Tortoise connection; answers the previous values."""
    before = {}
    async with connections.get("default").acquire_connection() as raw:
        for name, value in values.items():
            async with raw.execute(f"PRAGMA {name}") as cursor:
                row = await cursor.fetchone()
            before[name] = row[0]
            await raw.execute(f"PRAGMA {name}={value}")
    return before


@asynccontextmanager
async def _load(tables: tuple[str, ...]) -> AsyncIterator[Dialect]:
    """Around a bulk load: fast SQLite settings, then PostgreSQL's statistics."""
    dialect = _dialect()
    conn = connections.get("default")
    if dialect.postgres:
        yield dialect
        async with conn.acquire_connection() as raw:
            for table in tables:
                await raw.execute(f'VACUUM ANALYZE "{table}"')
        return
    saved = await _sqlite_pragmas({"synchronous": "OFF", "cache_size": -SQLITE_LOAD_CACHE_KIB})
    try:
        yield dialect
    finally:
        await _sqlite_pragmas(saved)
        async with conn.acquire_connection() as raw:
            await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _user(org: Organisation, role: Role, name: str, rng: random.Random) -> User:
    return await User.create(
        organisation=org,
        name=name,
        role=role,
        language="ru",
        time_zone="Asia/Almaty",
        webauthn_handle=rng.randbytes(32),
        created_at=NOW,
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
        (await _user(org, Role.OFFICER, f"Officer {i}", rng)).id
        for i in range(max(1, -(-participants // PER_OFFICER)))
    ]
    workers = [(await _user(org, Role.WORKER, f"Worker {i}", rng)).id for i in range(WORKERS)]
    ids = [_uuid_text(rng) for _ in range(participants)]
    pillars = [p.value for p in Pillar]
    statuses = [s.value for s in ReviewStatus]

    def people(d: Dialect) -> Iterator[tuple[Any, ...]]:
        for i, pid in enumerate(ids):
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(16_000))
            yield (
                pid,
                org.id,
                f"KZ-S{i:07d}",
                f"Participant {i}",
                rng.choice(GENDERS).value,
                d.day(born),
                "ru",
                officers[i // PER_OFFICER],
                d.flag(True),
            )

    def appointments(d: Dialect) -> Iterator[tuple[Any, ...]]:
        for pid in ids:
            starts = NOW + timedelta(days=rng.randrange(1, 30), hours=rng.randrange(8))
            yield (
                _uuid_text(rng),
                pid,
                rng.choice(pillars),
                d.when(starts),
                d.when(starts + timedelta(hours=1)),
                officers[0],
            )

    def reviews(d: Dialect) -> Iterator[tuple[Any, ...]]:
        for i, pid in enumerate(ids):
            for n in range(1 + i % 2):
                on = NOW.date() - timedelta(days=30 + 90 * n + rng.randrange(60))
                yield (
                    _uuid_text(rng),
                    pid,
                    officers[i // PER_OFFICER],
                    d.day(on + timedelta(days=90)),
                    d.day(on),
                    *(rng.choice(statuses) for _ in pillars),
                )

    person = (
        *("id", "organisation_id", "code", "full_name", "gender", "date_of_birth"),
        *("language", "officer_id", "consent_given"),
    )
    meeting = ("id", "participant_id", "pillar", "starts_at", "ends_at", "created_by_id")
    review = ("id", "participant_id", "officer_id", "next_review_on", "reviewed_on", *pillars)
    async with _load(("participant", "appointment", "progress_review")) as d:
        await _write(Participant, person, people(d))
        await _write(Appointment, meeting, appointments(d))
        await _write(ProgressReview, review, reviews(d))
    return World(officers, workers, [uuid.UUID(pid) for pid in ids])


LOG_COLUMNS = (
    "id",
    "participant_id",
    "pillar",
    "form_version",
    "occurred_at",
    "duration_minutes",
    "author_id",
    "attendance",
    "engagement",
    "follow_up",
    "content_hash",
    "created_at",
    "updated_at",
)


async def add_logs(world: World, *, count: int, seed: int = 11) -> None:
    """Append ``count`` session logs, spread over participants and two years."""
    rng = random.Random(seed)
    people = [str(pid) for pid in world.participants]
    pillars = [p.value for p in Pillar]
    attendances = [(a.value, a is Attendance.ATTENDED) for a in ATTENDANCES]
    durations = (30, 45, 60, 90)
    minutes = HISTORY_DAYS * 24 * 60
    unhashed = "0" * 64

    def logs(d: Dialect) -> Iterator[tuple[Any, ...]]:
        yes, no = d.flag(True), d.flag(False)
        for _ in range(count):
            attendance, attended = rng.choice(attendances)
            occurred = d.minutes_before_now(rng.randrange(minutes))
            yield (
                _uuid_text(rng),
                rng.choice(people),
                rng.choice(pillars),
                1,
                occurred,
                rng.choice(durations),
                rng.choice(world.workers),
                attendance,
                rng.randint(1, 5) if attended else None,
                yes if rng.random() < 0.1 else no,
                unhashed,
                occurred,
                occurred,
            )

    async with _load(("session_log",)) as d:
        await _write(SessionLog, LOG_COLUMNS, logs(d))


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
