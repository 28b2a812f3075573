"""Backups and restores on SQLite: every row, the audit chain and the keys come
back (PostgreSQL: tests/test_ops_backup_pg.py)."""

import asyncio
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.datastructures import Secret

from server.cli import main
from server.db import sqlite_path
from server.enums import Role
from server.ops.backup import BackupError, backup, restore
from server.ops.backup_common import database_kind
from server.settings import ROOT, Settings
from tests.conftest import BACKEND
from tests.support import world
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


def fresh_settings(data_dir: Path) -> Settings:
    # No HOMEWARD_SECRET_KEY: the key file in the data directory is the one
    # in use, as in a default installation.
    return Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": str(data_dir),
            "HOMEWARD_DATABASE_URL": f"sqlite://{data_dir / 'homeward.sqlite3'}",
        }
    )


sqlite_only = pytest.mark.skipif(
    BACKEND != "sqlite", reason="SQLite backups (HOMEWARD_TEST_DB=sqlite)"
)


def database_of(settings: Settings) -> Path:
    path = sqlite_path(settings.database_url)
    assert path is not None
    return path


def archive_names(archive: Path) -> list[str]:
    with tarfile.open(archive) as opened:
        return sorted(opened.getnames())


@sqlite_only
async def test_a_restored_backup_holds_every_record_the_chain_and_the_keys(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    await populate(app)
    secret = settings.data_dir / "secret_key"
    if not secret.exists():
        secret.write_text("the-installation-secret")
    before = sqlite_fingerprint(database_of(settings))
    assert before["session_log"][0] == 20 and before["audit_event"][0] > 0

    archive = tmp_path / "homeward.tar"
    copied = backup(settings, archive)
    assert copied.archive == archive and copied.kind == "sqlite"
    assert copied.tables == {name: count for name, (count, _) in before.items()}
    assert oct(archive.stat().st_mode)[-3:] == "600"
    names = archive_names(archive)
    assert {"manifest.json", "database/homeward.sqlite3", "data/secret_key"} <= set(names)
    assert "data/audit_key" in names
    # The test database lives in the same data directory: it is not a key.
    assert [n for n in names if n.startswith("data/") and "sqlite3" in n] == []

    target = fresh_settings(tmp_path / "restored")
    generated = target.data_dir / "secret_key"  # made by Settings.from_env, as in `homeward`
    assert generated.read_text() != secret.read_text()
    restore(target, archive)
    assert sqlite_fingerprint(database_of(target)) == before
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
    copied = await asyncio.to_thread(backup, settings, tmp_path / "backup.tar")
    stop.set()
    pushed = await writer
    assert pushed > 0
    assert 5 <= copied.tables["session_log"] <= 5 + pushed
    # A torn copy would break the chain (head and events out of step). The
    # archive holds the audit key the chain is sealed with.
    target = fresh_settings(tmp_path / "restored")
    restore(target, copied.archive)
    verified = cli("audit", "verify", database_url=target.database_url, data_dir=target.data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@sqlite_only
async def test_restore_refuses_a_database_with_data_unless_forced(
    app: Starlette,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await populate(app, records=3)
    archive = tmp_path / "backup.tar"
    backup(settings, archive)
    with pytest.raises(BackupError, match="exists already"):
        backup(settings, archive)
    target = fresh_settings(tmp_path / "restored")
    restore(target, archive)
    database = database_of(target)
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("DELETE FROM session_log")
        conn.commit()
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(target.data_dir))
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", target.database_url)
    capsys.readouterr()
    assert main(["restore", str(archive)]) == 2
    said = capsys.readouterr().err
    assert said.startswith(f"The database at {database} already holds data. Restoring would ")
    assert "replace: audit_event (" in said and "tortoise_migrations" not in said
    assert said.endswith("Run again with --force if that is what you want.\n")
    assert sqlite_fingerprint(database)["session_log"][0] == 0  # untouched
    assert main(["restore", str(archive), "--force"]) == 0
    assert sqlite_fingerprint(database)["session_log"][0] == 3
    not_a_backup = tmp_path / "empty"
    not_a_backup.mkdir()
    with pytest.raises(BackupError, match="give the archive"):
        restore(target, not_a_backup, force=True)


@sqlite_only
async def test_a_folder_gets_a_time_stamped_archive_and_a_damaged_one_is_refused(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    await populate(app, records=2)
    folder = tmp_path / "backups"
    folder.mkdir()
    copied = backup(settings, folder)
    assert copied.archive.parent == folder
    assert re.fullmatch(r"homeward-\d{8}T\d{6}Z\.tar", copied.archive.name)
    with tarfile.open(copied.archive) as opened:
        member = opened.getmember("database/homeward.sqlite3")
        offset = member.offset_data + member.size // 2
    content = bytearray(copied.archive.read_bytes())
    content[offset] ^= 0x01
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(content))
    target = fresh_settings(tmp_path / "restored")
    with pytest.raises(BackupError) as refused:
        restore(target, damaged)
    assert str(refused.value) == (
        f"{damaged} is damaged: database/homeward.sqlite3 does not match its checksum."
    )
    assert not database_of(target).exists()


@sqlite_only
async def test_keys_given_in_the_environment_are_named_since_no_archive_holds_them(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    given = replace(settings, audit_key=Secret("a" * 40))
    copied = backup(given, tmp_path / "b.tar")
    assert copied.notes == [
        # The test settings' secret key comes from HOMEWARD_SECRET_KEY too.
        "HOMEWARD_SECRET_KEY is set in the environment: keep its value with the backups.",
        "HOMEWARD_AUDIT_KEY is set in the environment: keep its value with the backups.",
    ]


def test_only_file_databases_can_be_backed_up() -> None:
    with pytest.raises(BackupError, match="in-memory"):
        database_kind("sqlite://:memory:")
    with pytest.raises(BackupError, match="do not know this kind"):
        database_kind("mysql://db.example/homeward")
    assert database_kind("sqlite:///srv/h.sqlite3?journal_mode=WAL") == "sqlite"
    assert database_kind("postgres://homeward@db.example:5432/homeward") == "postgresql"
