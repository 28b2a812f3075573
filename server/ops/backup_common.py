"""What ``backup`` and its two database engines share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from server.db import sqlite_path
from server.settings import Settings

# The migrations this Homeward knows, oldest first: a backup at a later one
# was made by a newer version and cannot be restored by this one.
MIGRATIONS = tuple(
    sorted(
        path.stem
        for path in (Path(__file__).resolve().parent.parent / "migrations").glob("[0-9]*.py")
    )
)
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://", "psycopg://")


class BackupError(Exception):
    """Why a backup or restore was not done; the message is for the operator."""


@dataclass(frozen=True)
class Dumped:
    path: Path  # the database's copy, in the staging folder
    tables: dict[str, int]  # rows per table, in the copy's snapshot
    head: str | None  # the last migration applied, None before any
    details: dict[str, Any] = field(default_factory=dict)  # kept in the manifest


class Engine(Protocol):
    """What ``backup_sqlite`` and ``backup_pg`` each provide."""

    def describe(self, settings: Settings, /) -> str: ...

    def dump(self, settings: Settings, staging: Path, /) -> Dumped: ...

    def held(self, settings: Settings, manifest: dict[str, Any], /) -> dict[str, int]: ...

    def load(
        self, settings: Settings, dump: Path, manifest: dict[str, Any], /
    ) -> dict[str, int]: ...


def database_kind(database_url: str) -> str:
    """``sqlite`` or ``postgresql``.

    Raises:
        BackupError: an in-memory or unknown kind of database.
    """
    if database_url.startswith(POSTGRES_SCHEMES):
        return "postgresql"
    if not database_url.startswith("sqlite://"):
        raise BackupError("homeward backup and restore do not know this kind of database URL.")
    if sqlite_path(database_url) is None:
        raise BackupError("An in-memory database cannot be backed up or restored.")
    return "sqlite"
