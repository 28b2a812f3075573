"""``homeward backup`` and ``homeward restore`` for the SQLite deployment.

A backup is a folder: a consistent copy of the database made with SQLite's
online backup API (safe while app servers write), the data directory's
``secret_key``, ``audit_key`` and the ``sync-keys/`` folder. The keys matter as much as
the rows: without the sealing keys, entries still waiting in phones' outboxes
can never be opened. PostgreSQL has its own tools (see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from server.settings import Settings

DATABASE_FILE = "homeward.sqlite3"
SECRET_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
# The audit key seals the audit chain: without it the trail cannot be verified.
KEY_FILES = (SECRET_FILE, "audit_key")
KEYS_DIR = "sync-keys"
MANIFEST = "manifest.json"
KEPT_TABLES = {"tortoise_migrations"}  # a freshly migrated database has rows only here

POSTGRES_HINT = (
    "homeward {command} copies SQLite databases only. For PostgreSQL use its own tools:\n"
    '  pg_dump -Fc --no-owner -f homeward.dump "$HOMEWARD_DATABASE_URL"\n'
    '  pg_restore --clean --if-exists --no-owner -d "$HOMEWARD_DATABASE_URL" homeward.dump\n'
    "and copy secret_key, audit_key and sync-keys/ from the data directory yourself "
    "(docs/operations.md)."
)


class BackupError(Exception):
    """Why a backup or restore was not done; the message is for the operator."""


@dataclass(frozen=True)
class Copied:
    database: Path
    tables: dict[str, int]  # rows per table, as copied
    files: list[str]  # key files copied alongside, relative to the folder


def sqlite_file(database_url: str, command: str) -> Path:
    """The database file behind a ``sqlite://`` URL.

    Raises:
        BackupError: the URL is not a file-backed SQLite database.
    """
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://", "psycopg://")):
        raise BackupError(POSTGRES_HINT.format(command=command))
    if not database_url.startswith("sqlite://"):
        raise BackupError(f"homeward {command} does not know this kind of database URL.")
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if not path or path == ":memory:":
        raise BackupError("An in-memory database cannot be backed up or restored.")
    return Path(path)


def backup(settings: Settings, target: Path) -> Copied:
    """Copy the database and the keys into the new folder ``target``.

    Raises:
        BackupError: PostgreSQL, no database yet, or ``target`` is not empty.
    """
    source = sqlite_file(settings.database_url, "backup")
    if not source.exists():
        raise BackupError(f"There is no database at {source} to back up.")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; choose a new folder for the backup.")
    # Owner-only: a backup holds everything the database and the keys do.
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy = target / DATABASE_FILE
    _online_copy(source, copy)
    files = _copy_keys(settings.data_dir, target)
    tables = table_counts(copy)
    manifest = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": tables,
        "sha256": _sha256(copy),
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    owner_only(target)
    return Copied(copy, tables, files)


def restore(settings: Settings, source: Path, *, force: bool = False) -> Copied:
    """Put the backup in ``source`` back as the database and keys of ``settings``.

    Keys the data directory already holds are moved aside (``*.before-restore-…``),
    never deleted. Stop the app servers first: they would keep serving from
    caches and file handles of the old database.

    Raises:
        BackupError: PostgreSQL, a damaged backup, or a target database that
            holds data while ``force`` is false.
    """
    target = sqlite_file(settings.database_url, "restore")
    copy = source / DATABASE_FILE
    if not copy.is_file():
        raise BackupError(f"{source} holds no {DATABASE_FILE}: is it a Homeward backup?")
    _check_integrity(copy)
    if not force and target.exists() and has_data(target):
        raise BackupError(
            f"The database at {target} already holds data. Restoring would replace it: "
            "run again with --force if that is what you want."
        )
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    # Created empty and owner-only before SQLite writes a page into it.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(target, 0o600)
    with closing(sqlite3.connect(copy)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    files = _restore_keys(source, settings.data_dir)
    owner_only(settings.data_dir)
    return Copied(target, table_counts(target), files)


def owner_only(folder: Path) -> None:
    """0700 for ``folder`` and the folders in it, 0600 for every file: a backup
    or a data directory holds everything the database and the keys do."""
    os.chmod(folder, 0o700)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            os.chmod(path, 0o700 if path.is_dir() else 0o600)


def has_data(database: Path) -> bool:
    return any(count for name, count in table_counts(database).items() if name not in KEPT_TABLES)


def table_counts(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Names come from the database's own catalogue, quoted: not user input.
        return {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in names
        }


def _online_copy(source: Path, copy: Path) -> None:
    partial = copy.with_suffix(".partial")
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(partial)) as dst,
    ):
        # All pages in one step: the copy is one snapshot of the source, and
        # in WAL mode (tortoise's default) writers carry on meanwhile.
        src.backup(dst, pages=-1)
        # One self-contained file, with no -wal/-shm beside it; tortoise
        # switches a restored database back to WAL when it connects.
        dst.execute("PRAGMA journal_mode=DELETE")
    os.chmod(partial, 0o600)
    _check_integrity(partial)
    partial.rename(copy)


def _check_integrity(database: Path) -> None:
    with closing(sqlite3.connect(database)) as conn:
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{database} is not a readable SQLite database: {error}") from None
    if verdict != "ok":
        raise BackupError(f"{database} is damaged: {verdict}")


def _copy_keys(data_dir: Path, target: Path) -> list[str]:
    files = []
    for name in KEY_FILES:
        if (data_dir / name).is_file():
            shutil.copy2(data_dir / name, target / name)
            files.append(name)
    keys = data_dir / KEYS_DIR
    if keys.is_dir():
        shutil.copytree(keys, target / KEYS_DIR)
        files += [f"{KEYS_DIR}/{p.name}" for p in sorted((target / KEYS_DIR).glob("*.pem"))]
    return files


def _restore_keys(source: Path, data_dir: Path) -> list[str]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    files = []
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in KEY_FILES:
        if (source / name).is_file():
            _set_aside(data_dir / name, stamp, source / name)
            shutil.copy2(source / name, data_dir / name)
            files.append(name)
    keys = source / KEYS_DIR
    if keys.is_dir():
        _set_aside(data_dir / KEYS_DIR, stamp, keys)
        if not (data_dir / KEYS_DIR).exists():
            shutil.copytree(keys, data_dir / KEYS_DIR)
        files += [f"{KEYS_DIR}/{p.name}" for p in sorted(keys.glob("*.pem"))]
    return files


def _set_aside(existing: Path, stamp: str, incoming: Path) -> None:
    """Move ``existing`` out of the way unless it already equals ``incoming``."""
    if not existing.exists() or _same(existing, incoming):
        return
    existing.rename(existing.with_name(f"{existing.name}.before-restore-{stamp}"))


def _same(a: Path, b: Path) -> bool:
    if a.is_file() and b.is_file():
        return a.read_bytes() == b.read_bytes()
    if a.is_dir() and b.is_dir():
        names = sorted(p.name for p in a.iterdir())
        if names != sorted(p.name for p in b.iterdir()):
            return False
        return all(_same(a / name, b / name) for name in names)
    return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
