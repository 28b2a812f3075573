"""Copying a PostgreSQL database for ``homeward backup`` and ``restore``.

``pg_dump -Fc`` runs inside a snapshot exported by a read-only
repeatable-read transaction, in which the row counts and the migration head
are read too: the dump and the manifest describe the same moment while the
app servers keep writing. ``pg_restore --single-transaction --exit-on-error``
puts it back all or nothing. The password goes to both tools in
``PGPASSWORD``, never on a command line other users could read.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from server.ops.backup_common import BackupError, Dumped
from server.settings import Settings

FILE = "homeward.pgdump"
KEPT_TABLES = {"tortoise_migrations"}  # a freshly migrated database has rows only here
TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    password: str
    name: str
    sslmode: str

    def environ(self) -> dict[str, str]:
        """The tools' environment: where to connect, and the password."""
        env = {**os.environ, "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user}
        env.pop("PGPASSWORD", None)
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env

    def dsn(self, name: str | None = None) -> str:
        return f"postgres://{self.host}:{self.port}/{name or self.name}"

    async def connect(self, name: str | None = None) -> asyncpg.Connection:
        return await asyncpg.connect(
            dsn=self.dsn(name), user=self.user, password=self.password or None
        )


def target(settings: Settings) -> Target:
    parts = urlsplit(settings.database_url)
    query = parse_qs(parts.query)
    return Target(
        host=parts.hostname or "localhost",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        name=unquote(parts.path.lstrip("/")) or "postgres",
        sslmode=(query.get("sslmode") or [""])[0],
    )


def describe(settings: Settings) -> str:
    where = target(settings)
    return f"{where.name} on {where.host}:{where.port}"


def dump(settings: Settings, staging: Path) -> Dumped:
    return asyncio.run(_dump(target(settings), staging))


def held(settings: Settings, manifest: dict[str, Any]) -> dict[str, int]:
    """Tables of the target database that hold rows a restore would replace."""
    counts = asyncio.run(_counts_if_present(target(settings)))
    return {n: rows for n, rows in (counts or {}).items() if rows and n not in KEPT_TABLES}


def load(settings: Settings, dump_file: Path, manifest: dict[str, Any]) -> dict[str, int]:
    return asyncio.run(_load(target(settings), dump_file, manifest))


def tool(name: str) -> tuple[str, int]:
    """The path and major version of a PostgreSQL client tool.

    Raises:
        BackupError: the tool is not installed (or not on ``PATH``).
    """
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found. Install PostgreSQL's client tools of the server's "
            f"version or newer (Debian: apt install postgresql-client), or put {name} on PATH."
        )
    # The path comes from shutil.which: the tool the operator installed.
    said = subprocess.run(  # noqa: S603
        [path, "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"\(PostgreSQL\) (\d+)", said.stdout)
    if said.returncode != 0 or found is None:
        raise BackupError(f"{path} --version did not say which PostgreSQL it belongs to.")
    return path, int(found.group(1))


async def _dump(where: Target, staging: Path) -> Dumped:
    pg_dump, major = tool("pg_dump")
    conn = await _connect(where)
    try:
        server = conn.get_server_version()
        if major < server.major:
            raise BackupError(
                f"pg_dump {major} cannot dump a PostgreSQL {server.major} server: "
                f"install postgresql-client-{server.major} (or newer) and run again."
            )
        output = staging / FILE
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            await _run(
                where,
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={output}",
                f"--dbname={where.name}",
            )
            tables = await _counts(conn)
            head = await _head(conn)
        os.chmod(output, 0o600)
        version = await conn.fetchval("SHOW server_version")
        details = {"server_version": version.split()[0], "pg_dump_major": major}
        return Dumped(output, tables, head, details)
    finally:
        await conn.close()


async def _load(where: Target, dump_file: Path, manifest: dict[str, Any]) -> dict[str, int]:
    pg_restore, major = tool("pg_restore")
    made_with = int(manifest.get("postgresql", {}).get("pg_dump_major", 0))
    if major < made_with:
        raise BackupError(
            f"The archive was made with pg_dump {made_with}; pg_restore {major} cannot read it. "
            f"Install postgresql-client-{made_with} (or newer)."
        )
    present = await _counts_if_present(where)
    if present is None:
        await _create(where)
        present = {}
    extra = sorted(set(present) - set(manifest["tables"]))
    if extra:
        raise BackupError(
            f"The database {where.name} on {where.host}:{where.port} has tables the backup "
            f"does not ({', '.join(extra)}): it was migrated by a newer Homeward. Restore "
            "into a new, empty database instead, then run `homeward migrate`."
        )
    # One transaction, stopping at the first error: the database is either
    # replaced whole or left as it was. --clean drops what the dump recreates.
    await _run(
        where,
        pg_restore,
        "--single-transaction",
        "--exit-on-error",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        f"--dbname={where.name}",
        str(dump_file),
    )
    counts = await _counts_if_present(where)
    return counts or {}


async def _connect(where: Target, name: str | None = None) -> asyncpg.Connection:
    try:
        return await where.connect(name)
    except asyncpg.InvalidCatalogNameError:
        raise
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise BackupError(
            f"Cannot connect to the PostgreSQL database {name or where.name} on "
            f"{where.host}:{where.port} as {where.user}: {error}"
        ) from None


async def _counts_if_present(where: Target) -> dict[str, int] | None:
    """Rows per table, or None when the database does not exist yet."""
    try:
        conn = await _connect(where)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        return await _counts(conn)
    finally:
        await conn.close()


async def _create(where: Target) -> None:
    conn = await _connect(where, "postgres")
    try:
        name = where.name.replace('"', '""')
        await conn.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.PostgresError as error:
        raise BackupError(f"Cannot create the database {where.name}: {error}") from None
    finally:
        await conn.close()


async def _counts(conn: asyncpg.Connection) -> dict[str, int]:
    names = [row["table_name"] for row in await conn.fetch(TABLES)]
    # Names come from the database's own catalogue, quoted: not user input.
    return {
        name: await conn.fetchval(f'SELECT count(*) FROM public."{name}"')  # noqa: S608
        for name in names
    }


async def _head(conn: asyncpg.Connection) -> str | None:
    exists = await conn.fetchval("SELECT to_regclass('public.tortoise_migrations') IS NOT NULL")
    if not exists:
        return None
    head: str | None = await conn.fetchval("SELECT max(name) FROM public.tortoise_migrations")
    return head


async def _run(where: Target, program: str, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        program,
        *args,
        env=where.environ(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, error = await process.communicate()
    if process.returncode != 0:
        said = error.decode(errors="replace").strip()
        raise BackupError(
            f"{Path(program).name} failed (exit {process.returncode}); nothing was changed:\n{said}"
        )
