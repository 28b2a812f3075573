"""``homeward backup`` and ``homeward restore``, on SQLite and on PostgreSQL.

A backup is one file, an uncompressed tar archive (mode 0600), that standard
tools can open:

- ``manifest.json``: format and version, the kind of database, when it was
  made, by which Homeward and at which migration, rows per table, and the
  SHA-256 of every other member;
- ``database/homeward.sqlite3`` (SQLite's online backup) or
  ``database/homeward.pgdump`` (``pg_dump -Fc``), one consistent snapshot;
- ``data/…``: the data directory's key files (``secret_key``, ``audit_key``,
  ``sync-keys/``, and any other key a feature keeps there), found by walking
  the folder rather than from a list, so a key added later is not forgotten.

The keys matter as much as the rows: without the audit key the trail cannot
be verified, and without the sealing keys entries still waiting in phones'
outboxes can never be opened. How each database is copied lives in
``backup_sqlite`` and ``backup_pg``; this module owns the archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from server.ops.backup_common import MIGRATIONS, BackupError, Engine, database_kind
from server.settings import Settings

__all__ = ["BackupError", "Copied", "backup", "restore"]

FORMAT = "homeward-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUFFIX = ".tar"
# Keys are a few hundred bytes; a bigger file in the data directory is not a key.
KEY_SIZE_LIMIT = 1 << 20
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Copied:
    archive: Path
    kind: str
    tables: dict[str, int]  # rows per table, as copied
    files: list[str]  # key files, relative to the data directory
    notes: list[str] = field(default_factory=list)  # what the operator should know


def backup(settings: Settings, target: Path) -> Copied:
    """Write the database and the data directory's keys into one new archive.

    ``target`` is a new file, or an existing folder to put a time-stamped
    archive in.

    Raises:
        BackupError: unknown database, no database yet, missing or too old
            ``pg_dump``, or ``target`` exists already.
    """
    kind = database_kind(settings.database_url)
    now = datetime.now(UTC)
    if target.is_dir():
        target = target / f"homeward-{now:%Y%m%dT%H%M%SZ}{SUFFIX}"
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name for the backup.")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys, notes = _key_files(settings, exclude={target.resolve()})
    with tempfile.TemporaryDirectory(prefix=".homeward-backup-", dir=target.parent) as staging:
        dumped = _engine(kind).dump(settings, Path(staging))
        # Keys are read once, so the bytes checksummed are the bytes archived;
        # the dump is ours alone in the staging folder and is streamed.
        contents: dict[str, bytes | Path] = {f"database/{dumped.path.name}": dumped.path}
        contents |= {f"data/{name}": (settings.data_dir / name).read_bytes() for name in keys}
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "database": kind,
            "created_at": now.isoformat(timespec="seconds"),
            "app_version": _app_version(),
            "migration_head": dumped.head,
            "tables": dumped.tables,
            **({kind: dumped.details} if dumped.details else {}),
            "files": {name: _checksum(data) for name, data in contents.items()},
        }
        _write_archive(target, manifest, contents, now)
    notes += _environment_keys(settings)
    return Copied(target, kind, dumped.tables, keys, notes)


def restore(settings: Settings, source: Path, *, force: bool = False) -> Copied:
    """Put the archive ``source`` back as the database and keys of ``settings``.

    The database is replaced in one step (SQLite's backup API; PostgreSQL:
    ``pg_restore --single-transaction``): if anything fails, it is left as it
    was. Keys the data directory already holds are moved aside
    (``*.before-restore-…``), never deleted. Stop the app servers first.

    Raises:
        BackupError: not a Homeward archive, a damaged one, one of the other
            kind of database or from a newer Homeward, or a target database
            that holds data while ``force`` is false.
    """
    kind = database_kind(settings.database_url)
    with _open(source) as archive:
        manifest = _manifest(archive, source)
        made_from = manifest["database"]
        if made_from != kind:
            raise BackupError(
                f"{source} is a backup of a {KIND_NAMES[made_from]} database, but "
                f"HOMEWARD_DATABASE_URL names a {KIND_NAMES[kind]} database. Restore it "
                f"with HOMEWARD_DATABASE_URL set to a {KIND_NAMES[made_from]} database."
            )
        head = manifest.get("migration_head")
        if head is not None and head not in MIGRATIONS:
            raise BackupError(
                f"{source} was made by a newer Homeward (migration {head} is unknown to "
                f"version {_app_version()}): upgrade Homeward, then restore."
            )
        engine = _engine(kind)
        held = engine.held(settings, manifest)
        if held and not force:
            listed = ", ".join(f"{name} ({_rows(rows)})" for name, rows in sorted(held.items()))
            raise BackupError(
                f"The database {engine.describe(settings)} already holds data. Restoring "
                f"would replace: {listed}. Run again with --force if that is what you want."
            )
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=_staging_parent(settings)) as tmp:
            staging = Path(tmp)
            _extract_checked(archive, manifest, staging, source)
            dump = next((staging / "database").iterdir())
            tables = engine.load(settings, dump, manifest)
            files = _restore_keys(staging / "data", settings.data_dir)
    notes = []
    if tables != manifest["tables"]:
        notes.append("The restored row counts differ from the archive's: compare them.")
    if head is not None and head != MIGRATIONS[-1]:
        notes.append(f"The backup is at migration {head}: run `homeward migrate` next.")
    return Copied(source, kind, tables, files, notes + _environment_keys(settings))


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _engine(kind: str) -> Engine:
    # Imported here: each pulls in its database's driver only when used.
    if kind == "sqlite":
        from server.ops import backup_sqlite

        return backup_sqlite
    from server.ops import backup_pg

    return backup_pg


def _app_version() -> str:
    try:
        return metadata.version("homeward")
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


def _key_files(settings: Settings, *, exclude: set[Path]) -> tuple[list[str], list[str]]:
    """Every key file in the data directory, relative to it; and notes on what
    was left out. Not keys: the SQLite database and its companions, earlier
    archives, files set aside by a restore, hidden drafts and lock files."""
    root = settings.data_dir
    found: list[str] = []
    notes: list[str] = []
    if not root.is_dir():
        return found, notes
    database = _sqlite_database(settings)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            path.is_symlink()
            or not path.is_file()
            or path.resolve() in exclude
            or any(part.startswith(".") for part in relative.parts)
            or ".before-restore-" in path.name
            or path.name.endswith((SUFFIX, ".partial", "-wal", "-shm", "-journal"))
            or (database is not None and path.name.startswith(database.name))
            or _is_sqlite(path)
        ):
            continue
        if path.stat().st_size > KEY_SIZE_LIMIT:
            notes.append(f"Left out {relative}: larger than 1 MiB, so not a key.")
            continue
        found.append(relative.as_posix())
    return found, notes


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _sqlite_database(settings: Settings) -> Path | None:
    from server.db import sqlite_path

    return sqlite_path(settings.database_url)


def _environment_keys(settings: Settings) -> list[str]:
    """Reminders for keys given in the environment: no archive can hold them."""
    stored = settings.data_dir / "secret_key"
    secret = str(settings.secret_key)
    given = {
        "HOMEWARD_SECRET_KEY": not stored.is_file() or stored.read_text().strip() != secret,
        "HOMEWARD_AUDIT_KEY": bool(str(settings.audit_key)),
    }
    return [
        f"{name} is set in the environment: keep its value with the backups."
        for name, is_given in given.items()
        if is_given
    ]


def _checksum(data: bytes | Path) -> dict[str, Any]:
    if isinstance(data, Path):
        return {"sha256": _sha256(data), "bytes": data.stat().st_size}
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _write_archive(
    target: Path, manifest: dict[str, Any], contents: dict[str, bytes | Path], now: datetime
) -> None:
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
                text = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
                for name, data in {MANIFEST: text, **contents}.items():
                    info = tarfile.TarInfo(name)
                    info.mode, info.mtime = 0o600, int(now.timestamp())
                    if isinstance(data, Path):
                        info.size = data.stat().st_size
                        with data.open("rb") as dump:
                            archive.addfile(info, dump)
                    else:
                        info.size = len(data)
                        archive.addfile(info, io.BytesIO(data))
            handle.flush()
            os.fsync(handle.fileno())
        # Complete or absent: a crash mid-write leaves only the hidden partial.
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _open(source: Path) -> tarfile.TarFile:
    if not source.is_file():
        raise BackupError(f"{source} is not a file: give the archive `homeward backup` made.")
    try:
        return tarfile.open(source, mode="r:")
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{source} is not a Homeward backup archive: {error}") from None


def _manifest(archive: tarfile.TarFile, source: Path) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
        manifest: dict[str, Any] = json.load(member) if member else {}
    except (KeyError, ValueError):
        manifest = {}
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{source} is damaged and cannot be read whole: {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} holds no Homeward manifest: is it a Homeward backup?")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{source} is in backup format {manifest.get('format_version')}; this Homeward "
            f"reads format {FORMAT_VERSION} only."
        )
    if manifest.get("database") not in KIND_NAMES:
        raise BackupError(f"{source} names no known kind of database.")
    return manifest


def _extract_checked(
    archive: tarfile.TarFile, manifest: dict[str, Any], staging: Path, source: Path
) -> None:
    """Extract every member listed in the manifest and check its SHA-256;
    anything missing, extra or different means the archive is damaged."""
    listed: dict[str, dict[str, Any]] = manifest["files"]
    try:
        members = [m for m in archive.getmembers() if m.name != MANIFEST]
        names = {m.name for m in members}
        if names != set(listed) or not any(n.startswith("database/") for n in names):
            missing, unexpected = sorted(set(listed) - names), sorted(names - set(listed))
            raise BackupError(
                f"{source} is damaged: its files do not match its manifest "
                f"(missing: {missing}, unexpected: {unexpected})."
            )
        # The "data" filter refuses links, absolute paths and "..": an archive
        # cannot write outside the staging folder.
        archive.extractall(staging, members=members, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{source} is damaged and cannot be read whole: {error}") from None
    for name, expected in sorted(listed.items()):
        if _sha256(staging / name) != expected["sha256"]:
            raise BackupError(f"{source} is damaged: {name} does not match its checksum.")


def _staging_parent(settings: Settings) -> Path:
    # Inside the data directory: owner-only, and on the disk the keys go to.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return settings.data_dir


def _restore_keys(source: Path, data_dir: Path) -> list[str]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    files = []
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        if not path.is_file():
            continue
        relative = path.relative_to(source)
        destination = data_dir / relative
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = path.read_bytes()
        if destination.exists():
            if destination.read_bytes() == data:
                os.chmod(destination, 0o600)
                files.append(relative.as_posix())
                continue
            destination.rename(destination.with_name(f"{destination.name}.before-restore-{stamp}"))
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        files.append(relative.as_posix())
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
