"""Copying a SQLite database for ``homeward backup`` and ``restore``.

SQLite's online backup API copies the database as one snapshot while the
app servers keep writing (WAL mode), and writes a restored database in one
step: a restore that fails leaves the old database as it was.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from server.db import sqlite_path
from server.ops.backup_common import BackupError, Dumped
from server.settings import Settings

FILE = "homeward.sqlite3"
KEPT_TABLES = {"tortoise_migrations"}  # a freshly migrated database has rows only here


def database(settings: Settings) -> Path:
    path = sqlite_path(settings.database_url)
    assert path is not None  # backup.database_kind refused anything else
    return path


def describe(settings: Settings) -> str:
    return f"at {database(settings)}"


def dump(settings: Settings, staging: Path) -> Dumped:
    source = database(settings)
    if not source.exists():
        raise BackupError(f"There is no database at {source} to back up.")
    copy = staging / FILE
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(copy)) as dst,
    ):
        # All pages in one step: the copy is one snapshot of the source.
        src.backup(dst, pages=-1)
        # One self-contained file, with no -wal/-shm beside it; tortoise
        # switches a restored database back to WAL when it connects.
        dst.execute("PRAGMA journal_mode=DELETE")
    os.chmod(copy, 0o600)
    check_integrity(copy)
    return Dumped(copy, table_counts(copy), migration_head(copy))


def held(settings: Settings, manifest: dict[str, Any]) -> dict[str, int]:
    """Tables of the target database that hold rows a restore would replace."""
    target = database(settings)
    if not target.exists():
        return {}
    counts = table_counts(target)
    return {name: rows for name, rows in counts.items() if rows and name not in KEPT_TABLES}


def load(settings: Settings, copy: Path, manifest: dict[str, Any]) -> dict[str, int]:
    check_integrity(copy)
    target = database(settings)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created empty and owner-only before SQLite writes a page into it.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(target, 0o600)
    with closing(sqlite3.connect(copy)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return table_counts(target)


def table_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
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


def migration_head(path: Path) -> str | None:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            row = conn.execute("SELECT max(name) FROM tortoise_migrations").fetchone()
        except sqlite3.OperationalError:  # never migrated
            return None
    return row[0] if row else None


def check_integrity(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a readable SQLite database: {error}") from None
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")
