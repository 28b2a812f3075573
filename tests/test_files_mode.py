"""Files only the service can read: the data directory is 0700, and the
database, its WAL and SHM, the keys, backups and a restored database 0600,
whatever umask the service was started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.app import create_app
from server.ops import backup
from server.orgs.models import Organisation
from server.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Start like a careless service manager would: files 0644, folders 0755."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def settings_in(folder: Path) -> Settings:
    return Settings.from_env(
        {
            "HOMEWARD_DATA_DIR": str(folder),
            "HOMEWARD_DATABASE_URL": f"sqlite://{folder / 'homeward.sqlite3'}",
        }
    )


async def test_database_wal_shm_keys_backup_and_restore_are_owner_only(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    settings = settings_in(data)
    from server import db

    await db.migrate(settings.database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await Organisation.create(
            name="Files NGO", country="UG", default_language="en", time_zone="UTC"
        )
        database = data / "homeward.sqlite3"
        wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
        assert os.path.exists(wal) and os.path.exists(shm)  # noqa: ASYNC240 (open in WAL mode)
        assert mode(data) == 0o700
        assert {p.name: mode(p) for p in (database, wal, shm)} == {
            "homeward.sqlite3": 0o600,
            "homeward.sqlite3-wal": 0o600,
            "homeward.sqlite3-shm": 0o600,
        }
        assert mode(data / "secret_key") == 0o600
        keys = data / "sync-keys"
        assert mode(keys) == 0o700
        assert {mode(p) for p in keys.iterdir()} == {0o600}
        copied = backup.backup(settings, tmp_path / "backup.tar")
    assert mode(copied.archive) == 0o600
    # Nothing else is left beside it (the staging folder is gone).
    assert sorted(os.listdir(tmp_path)) == ["backup.tar", "data"]
    restored = settings_in(tmp_path / "restored")
    backup.restore(restored, copied.archive)
    target = tmp_path / "restored"
    assert mode(target) == 0o700
    assert mode(target / "homeward.sqlite3") == 0o600
    assert {mode(p) for p in (target / "sync-keys").iterdir()} == {0o600}
    assert mode(target / "secret_key") == 0o600


async def test_an_existing_loose_data_directory_is_tightened_at_start(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    database = data / "homeward.sqlite3"
    settings = settings_in(data)
    from server import db

    await db.migrate(settings.database_url)
    os.chmod(database, 0o644)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert mode(data) == 0o700
        assert mode(database) == 0o600
