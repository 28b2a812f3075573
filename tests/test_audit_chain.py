"""The keyed chain: an insider who can write the database cannot rewrite it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import stat
import tarfile
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from server.audit.models import AuditEvent, AuditHead
from server.audit.services import Actor, record, upgrade, verify
from server.ops.backup import backup
from server.orgs.models import Organisation
from server.settings import Settings
from tests.conftest import BACKEND
from tests.test_audit import cli, cli_verify, command, five_events


def plain_sha256(event: AuditEvent, prev_hash: str) -> str:
    """What the old code stored: anyone with the database could recompute it."""
    canonical = json.dumps(
        {
            "id": event.id,
            "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": event.actor_id,
            "organisation_id": event.organisation_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "ip": event.ip,
            "device": event.device,
            "detail": event.detail,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def rehash_from(position: int) -> None:
    """The insider's fix-up: renumber and re-hash every event from ``position``."""
    prev = (await AuditEvent.get(id=position - 1)).hash if position > 1 else "0" * 64
    events = await AuditEvent.filter(id__gte=position).order_by("id")
    for event in events:
        event.prev_hash = prev
        event.hash = plain_sha256(event, prev)
        await AuditEvent.filter(id=event.id).update(prev_hash=event.prev_hash, hash=event.hash)
        prev = event.hash
    length = await AuditEvent.all().count()
    await AuditHead.filter(id=1).update(length=length, hash=prev)


async def test_deleted_event_with_rehashed_rest_is_found(orm: None, settings: Settings) -> None:
    await five_events()
    await AuditEvent.filter(id=3).delete()
    conn = connections.get("default")
    await conn.execute_script("UPDATE audit_event SET id = id + 100 WHERE id > 3")
    await conn.execute_script("UPDATE audit_event SET id = id - 101 WHERE id > 100")
    await rehash_from(3)
    broken = await verify()
    assert broken is not None and broken.position == 3
    result = cli_verify(settings)
    assert result.returncode == 1 and "event 3" in result.stdout


CHANGES: dict[str, object] = {
    "ip": "192.0.2.66",
    "device": "another phone",
    "actor_id": 8,
    "organisation_id": 2,
    "object_organisation_id": 3,
    "action": "test.harmless",
    "object_type": "appointment",
    "object_id": "4",
    "detail": {"n": 5},
    "at": datetime(2020, 1, 1, tzinfo=UTC),
}


@pytest.mark.parametrize("column", sorted(CHANGES))
async def test_changed_field_of_one_event_breaks_the_chain(orm: None, column: str) -> None:
    await five_events()
    value = CHANGES[column]
    await AuditEvent.filter(id=2).update(**{column: value})
    broken = await verify()
    assert broken is not None and broken.position == 2 and "altered" in broken.reason


async def test_missing_head_is_a_break(orm: None) -> None:
    await five_events()
    await AuditHead.all().delete()
    broken = await verify()
    assert broken is not None and "head" in broken.reason
    # Writing on would hide the removal: the next change is refused instead.
    with pytest.raises(RuntimeError, match="head is missing"):
        async with in_transaction():
            await record(actor=Actor(7, 1), action="test.after_removal")
    assert await AuditEvent.all().count() == 5


async def test_empty_trail_without_head_is_intact(orm: None) -> None:
    assert await verify() is None


async def test_anchor_detects_truncation_behind_it(
    orm: None, settings: Settings, tmp_path: Path
) -> None:
    await five_events()
    anchor = cli(settings, "anchor")
    assert anchor.returncode == 0, anchor.stderr
    saved = json.loads(anchor.stdout)
    assert saved["length"] == 5 and saved["mac"] == (await AuditEvent.get(id=5)).hash
    kept = tmp_path / "anchor.json"
    kept.write_text(anchor.stdout)
    assert cli_verify(settings, "--anchor", str(kept)).returncode == 0
    # Later events do not disturb an older anchor.
    await five_events()
    assert cli_verify(settings, "--anchor", str(kept)).returncode == 0

    # The insider removes the newest events and fixes up the head.
    await AuditEvent.filter(id__gte=4).delete()
    await AuditHead.filter(id=1).update(length=3, hash=(await AuditEvent.get(id=3)).hash)
    assert cli_verify(settings).returncode == 0  # undetectable without the anchor
    result = cli_verify(settings, "--anchor", str(kept))
    assert result.returncode == 1 and "anchor" in result.stdout


async def test_anchor_from_another_history_fails(
    orm: None, settings: Settings, tmp_path: Path
) -> None:
    await five_events()
    kept = tmp_path / "anchor.json"
    kept.write_text(json.dumps({"length": 5, "mac": "ab" * 32}))
    result = cli_verify(settings, "--anchor", str(kept))
    assert result.returncode == 1 and "anchor" in result.stdout
    kept.write_text("not an anchor")
    assert cli_verify(settings, "--anchor", str(kept)).returncode == 2


async def test_key_lives_outside_the_database(orm: None, settings: Settings) -> None:
    await five_events()
    key_file = settings.data_dir / "audit_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 43
    if BACKEND == "sqlite":
        database = Path(settings.database_url.removeprefix("sqlite://"))
        assert key.encode() not in await asyncio.to_thread(database.read_bytes)
    # Another key (an environment override) does not verify this chain.
    other = cli_verify(settings, env={"HOMEWARD_AUDIT_KEY": "k" * 48})
    assert other.returncode == 1 and "event 1" in other.stdout
    too_short = cli_verify(settings, env={"HOMEWARD_AUDIT_KEY": "short"})
    assert too_short.returncode != 0 and "HOMEWARD_AUDIT_KEY" in too_short.stderr


async def test_backup_keeps_the_audit_key(orm: None, settings: Settings, tmp_path: Path) -> None:
    await five_events()
    # `homeward backup` copies SQLite deployments: a small one beside the
    # test database, sharing its data directory (and so its audit key).
    database = tmp_path / "small.sqlite3"
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("CREATE TABLE audit_event (id INTEGER PRIMARY KEY)")
    archive = tmp_path / "backup.tar"
    copied = backup(replace(settings, database_url=f"sqlite://{database}"), archive)
    assert "audit_key" in copied.files
    with tarfile.open(archive) as opened:
        member = opened.getmember("data/audit_key")
        copy = opened.extractfile(member)
        assert copy is not None and copy.read() == (settings.data_dir / "audit_key").read_bytes()
    assert stat.S_IMODE(member.mode) == 0o600


async def test_concurrent_writers_keep_one_chain(orm: None) -> None:
    async def change(n: int) -> None:
        async with in_transaction():
            org = await Organisation.create(
                name=f"Org {n}", country="UG", default_language="en", time_zone="UTC"
            )
            await record(
                actor=Actor(n, org.id, "10.0.0.2", "laptop"),
                action="test.concurrent",
                object_type="organisation",
                object_id=str(org.id),
            )

    await asyncio.gather(*(change(n) for n in range(20)))
    assert await verify() is None
    assert sorted(await AuditEvent.all().values_list("id", flat=True)) == list(range(1, 21))
    assert await Organisation.all().count() == 20


@pytest.mark.parametrize("sealed_by", ["upgrade", "homeward migrate", "first write"])
async def test_legacy_chain_is_sealed_once_and_then_guarded(
    orm: None, settings: Settings, sealed_by: str
) -> None:
    # A deployment from before keyed MACs: three events, plain SHA-256 links.
    prev = "0" * 64
    at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    for n in (1, 2, 3):
        event = AuditEvent(
            id=n,
            at=at,
            actor_id=4,
            organisation_id=1,
            action="legacy.event",
            object_type="participant",
            object_id=str(n),
            ip="10.1.1.1",
            device="old phone",
            detail={"n": n},
            prev_hash=prev,
            hash="",
        )
        event.hash = plain_sha256(event, prev)
        await event.save()
        prev = event.hash
    await AuditHead.create(id=1, length=3, hash=prev, version=1)
    broken = await verify()
    assert broken is not None and "homeward migrate" in broken.reason

    if sealed_by == "upgrade":
        assert await upgrade() == 3
        assert await upgrade() == 0  # once
    if sealed_by == "homeward migrate":
        migrated = await asyncio.to_thread(command, settings, "migrate")
        assert "sealed with the audit key (3 earlier events)" in migrated.stdout
    async with in_transaction():
        await record(actor=Actor(4, 1), action="test.after_upgrade")
    assert await verify() is None
    marker = await AuditEvent.get(id=4)
    assert marker.action == "audit.sealed"
    assert marker.detail == {"legacy_events": 3, "legacy_intact": True, "legacy_head": prev}
    assert (await AuditEvent.get(id=5)).action == "test.after_upgrade"

    await AuditEvent.filter(id=2).update(detail={"n": 20})
    broken = await verify()
    assert broken is not None and broken.position == 2


def test_environment_override_is_read() -> None:
    settings = Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": os.devnull + "-unused",
            "HOMEWARD_SECRET_KEY": "s",
            "HOMEWARD_AUDIT_KEY": "e" * 40,
        }
    )
    assert str(settings.audit_key) == "e" * 40


def test_servers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from server.audit import keys

    fresh = Settings.from_env(
        {"HOMEWARD_DATA_DIR": str(tmp_path / "data"), "HOMEWARD_SECRET_KEY": "s"}
    )
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda _: keys.load(fresh), range(16)))
    assert len(set(loaded)) == 1 and len(loaded[0]) >= 43
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["audit_key"]
    assert stat.S_IMODE((tmp_path / "data" / "audit_key").stat().st_mode) == 0o600


async def test_verify_while_writers_append_sees_no_break(orm: None) -> None:
    await five_events()
    done = asyncio.Event()

    async def writer() -> None:
        for n in range(60):
            async with in_transaction():
                await record(actor=Actor(9, 1), action="test.live", object_id=str(n))
        done.set()

    async def checker() -> list[object]:
        seen = []
        while not done.is_set():
            seen.append(await verify())
        return seen

    _, seen = await asyncio.gather(writer(), checker())
    assert seen and all(result is None for result in seen)
    assert await verify() is None
