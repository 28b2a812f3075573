"""The servers under test: the real app and the ceiling app, each under uvicorn."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from server import db
from server.settings import ROOT
from tests.support import live, pg


@dataclass(frozen=True)
class Servers:
    app: live.LiveServer
    ceiling: live.LiveServer
    log: Path


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Point this process's stdout and stderr at ``log`` while a child is spawned.

    ``live.start`` lets the child inherit both, and uvicorn writes an access
    log line per request: tens of thousands of lines otherwise.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _start_ceiling(log: Path, timeout: float = 30.0) -> live.LiveServer:
    port = live.free_port()
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.ceiling_app", "--port", str(port)],
            cwd=ROOT,
            stdout=handle,
            stderr=handle,
        )
    return live.wait_healthy(live.LiveServer(port, process), timeout, f"ceiling app (see {log})")


@contextmanager
def running(data_dir: Path) -> Iterator[Servers]:
    """Both servers, on a fresh migrated SQLite database in ``data_dir``."""
    log = data_dir / "servers.log"
    database_url = f"sqlite://{data_dir / 'bench.sqlite3'}"
    asyncio.run(db.migrate(database_url))
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": database_url,
        "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
    }
    try:
        with _output_to(log):
            app = live.start(env)
    except RuntimeError:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    try:
        ceiling = _start_ceiling(log)
    except RuntimeError:
        app.stop()
        raise
    try:
        yield Servers(app, ceiling, log)
    finally:
        ceiling.stop()
        app.stop()


@contextmanager
def postgres_server(prefix: str) -> Iterator[tuple[live.LiveServer, str]]:
    """The app on a throwaway, migrated PostgreSQL database; dropped afterwards.

    Raises:
        OSError (or the driver's error): PostgreSQL cannot be reached; raised
            before anything was created, so callers can report it as such.
    """
    name = f"homeward_{prefix}_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(pg.create_database(name))
    try:
        asyncio.run(db.migrate(url))
        with tempfile.TemporaryDirectory(prefix=f"homeward-{prefix}-") as tmp:
            env = {
                "HOMEWARD_DATA_DIR": tmp,
                "HOMEWARD_DATABASE_URL": url,
                "HOMEWARD_SECRET_KEY": "bench-secret-key-not-for-production",
            }
            with _output_to(Path(tmp) / "server.log"):
                app = live.start(env)
            try:
                yield app, url
            finally:
                app.stop()
    finally:
        asyncio.run(pg.drop_database(name))
