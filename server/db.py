"""Database configuration shared by the app, the CLI and the tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as run_migrations

MODEL_MODULES = [
    "server.orgs.models",
    "server.accounts.models",
    "server.participants.models",
    "server.sessions.models",
    "server.appointments.models",
    "server.reviews.models",
    "server.audit.models",
    "server.sync.models",
    "server.family.models",
    "server.assessments.models",
    "server.programme.models",
    "server.referrals.models",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For tortoise's own CLI (``tortoise -c server.db.TORTOISE_ORM makemigrations``),
# which needs a module-level config; the URL only has to name a dialect there.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a ``sqlite://`` URL, or None (PostgreSQL, in memory)."""
    if not database_url.startswith("sqlite://"):
        return None
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def restrict_files(database_url: str) -> None:
    """Owner-only (0600) for the SQLite database and its WAL and SHM.

    The umask set at start covers new files; this covers a database made
    before (an older install, a copy put in place by hand).
    """
    database = sqlite_path(database_url)
    if database is None:
        return
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            os.chmod(path, 0o600)


async def migrate(database_url: str) -> None:
    """Apply every committed migration to the database at ``database_url``."""
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
        restrict_files(database_url)


async def ping() -> bool:
    """True when the default database answers a trivial query."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any driver failure means "unreachable" to a health check
        return False
    return True
