"""Backups and restores: every row, the audit chain and the keys come back."""

import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest
from starlette.applications import Starlette

from server.cli import main
from server.enums import Role
from server.ops.backup import BackupError, backup, restore, sqlite_file
from server.settings import ROOT, Settings
from tests.conftest import BACKEND
from tests.support import pg, world
from tests.support.web import signed_in
from tests.test_sync import Phone, setting, values

Fingerprint = dict[str, tuple[int, str]]


async def populate(app: Starlette, records: int = 20) -> None:
    """A little of everything: people, a participant, pushed logs, audit events."""
    org, officer, worker, participant = await setting(app)
    await world.user(org, Role.ADMIN, name="Admin Person")
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        pid = str(participant.id)
        entries = [
            phone.entry(str(uuid.uuid4()), values(pid, notes=f"note {n} — ملاحظة"))
            for n in range(records)
        ]
        response = await phone.push(entries)
        assert {r["status"] for r in response.json()["results"]} == {"stored"}
    async with await signed_in(app, officer) as client:
        assert (await client.get(f"/participants/{participant.id}")).status_code == 200


def _digest(rows: list[tuple[object, ...]]) -> str:
    return hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()


def sqlite_fingerprint(database: Path) -> Fingerprint:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found = {}
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            found[name] = (len(rows), _digest(rows))
        return found


async def postgres_fingerprint(url: str) -> Fingerprint:
    conn = await asyncpg.connect(url)
    try:
        names = [
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        ]
        found = {}
        for name in names:
            rows = [tuple(r.values()) for r in await conn.fetch(f'SELECT * FROM "{name}"')]
            found[name] = (len(rows), _digest(rows))
        return found
    finally:
        await conn.close()


def cli(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOMEWARD_DATABASE_URL": database_url,
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_SECRET_KEY": "x",
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


def fresh_settings(data_dir: Path) -> Settings:
    # No HOMEWARD_SECRET_KEY: the key file in the data directory is the one
    # in use, as in a default installation.
    return Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": str(data_dir),
            "HOMEWARD_DATABASE_URL": f"sqlite://{data_dir / 'homeward.sqlite3'}",
        }
    )


sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="homeward backup is for SQLite")


@sqlite_only
async def test_a_restored_backup_holds_every_record_the_chain_and_the_keys(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    await populate(app)
    secret = settings.data_dir / "secret_key"
    if not secret.exists():
        secret.write_text("the-installation-secret")
    source = sqlite_file(settings.database_url, "backup")
    before = sqlite_fingerprint(source)
    assert before["session_log"][0] == 20 and before["audit_event"][0] > 0

    copied = backup(settings, tmp_path / "backup")
    assert copied.tables == {name: count for name, (count, _) in before.items()}
    assert oct((tmp_path / "backup").stat().st_mode)[-3:] == "700"

    target = fresh_settings(tmp_path / "restored")
    generated = target.data_dir / "secret_key"  # made by Settings.from_env, as in `homeward`
    assert generated.read_text() != secret.read_text()
    restore(target, tmp_path / "backup")
    restored = sqlite_file(target.database_url, "restore")
    assert sqlite_fingerprint(restored) == before
    assert (target.data_dir / "secret_key").read_text() == secret.read_text()
    keys = sorted(p.name for p in (settings.data_dir / "sync-keys").glob("*.pem"))
    assert sorted(p.name for p in (target.data_dir / "sync-keys").glob("*.pem")) == keys
    # The key it replaced is kept aside, never deleted.
    assert len(list(target.data_dir.glob("secret_key.before-restore-*"))) == 1
    verified = cli("audit", "verify", database_url=target.database_url, data_dir=target.data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@sqlite_only
async def test_a_backup_taken_while_the_app_writes_is_consistent(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    await populate(app, records=5)
    _, _, worker, participant = await setting(app)
    stop = asyncio.Event()

    async def keep_writing() -> int:
        pushed = 0
        async with await signed_in(app, worker) as client:
            phone = Phone(client, worker.id)
            await phone.start()
            while not stop.is_set() or pushed == 0:
                entry = phone.entry(str(uuid.uuid4()), values(str(participant.id)))
                assert (await phone.push([entry])).status_code == 200
                pushed += 1
        return pushed

    writer = asyncio.create_task(keep_writing())
    copied = await asyncio.to_thread(backup, settings, tmp_path / "backup")
    stop.set()
    pushed = await writer
    assert pushed > 0
    copy = copied.database
    assert 5 <= copied.tables["session_log"] <= 5 + pushed
    # A torn copy would break the chain (head and events out of step).
    # The backup folder holds the audit key the chain is sealed with.
    verified = cli("audit", "verify", database_url=f"sqlite://{copy}", data_dir=copy.parent)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@sqlite_only
async def test_restore_refuses_a_database_with_data_unless_forced(
    app: Starlette, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await populate(app, records=3)
    backup(settings, tmp_path / "backup")
    with pytest.raises(BackupError, match="not empty"):
        backup(settings, tmp_path / "backup")
    target = fresh_settings(tmp_path / "restored")
    restore(target, tmp_path / "backup")
    database = sqlite_file(target.database_url, "restore")
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("DELETE FROM session_log")
        conn.commit()
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(target.data_dir))
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", target.database_url)
    assert main(["restore", str(tmp_path / "backup")]) == 2
    assert sqlite_fingerprint(database)["session_log"][0] == 0  # untouched
    assert main(["restore", str(tmp_path / "backup"), "--force"]) == 0
    assert sqlite_fingerprint(database)["session_log"][0] == 3
    not_a_backup = tmp_path / "empty"
    not_a_backup.mkdir()
    with pytest.raises(BackupError, match="Homeward backup"):
        restore(target, not_a_backup, force=True)


def test_postgres_is_refused_with_the_commands_to_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", "postgres://homeward@db.example:5432/homeward")
    assert main(["backup", str(tmp_path / "b")]) == 2
    assert main(["restore", str(tmp_path / "b")]) == 2
    said = capsys.readouterr().err
    assert "pg_dump -Fc" in said and "pg_restore --clean" in said
    assert not (tmp_path / "b").exists()


PG_TOOLS = Path("/usr/bin/pg_dump").exists() and Path("/usr/bin/pg_restore").exists()


@pytest.mark.skipif(BACKEND != "postgres", reason="the PostgreSQL tools are for PostgreSQL")
async def test_postgres_dump_and_restore_hold_every_record_and_the_chain(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    if not PG_TOOLS:
        if os.environ.get("CI") == "true":
            pytest.fail("pg_dump and pg_restore are required in CI")
        pytest.skip("pg_dump/pg_restore are not installed here")
    await populate(app)
    dump = tmp_path / "homeward.dump"
    source_url = settings.database_url
    run = tool("pg_dump", "-Fc", "--no-owner", "-f", str(dump), source_url)
    assert run.returncode == 0, run.stderr
    name = f"homeward_restore_{uuid.uuid4().hex[:8]}"
    target_url = await pg.create_database(name)
    try:
        for _ in range(2):  # the second time over the first: --clean must make it idempotent
            run = tool(
                "pg_restore", "--clean", "--if-exists", "--no-owner", "-d", target_url, str(dump)
            )
            assert run.returncode == 0, run.stderr
        before = await postgres_fingerprint(source_url)
        assert before["session_log"][0] == 20
        assert await postgres_fingerprint(target_url) == before
        # The audit key is copied by hand with pg_dump (docs/operations.md).
        verified = cli("audit", "verify", database_url=target_url, data_dir=settings.data_dir)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        await pg.drop_database(name)


def test_backups_need_a_file_database() -> None:
    with pytest.raises(BackupError):
        sqlite_file("sqlite://:memory:", "backup")
    assert sqlite_file("sqlite:///srv/h.sqlite3?journal_mode=WAL", "backup") == Path(
        "/srv/h.sqlite3"
    )
