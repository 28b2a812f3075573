"""The servers under test: the real app and the ceiling app, each under uvicorn."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from server import db
from server.settings import ROOT
from tests.support import live


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
    server = live.LiveServer(port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ceiling app exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a starting process: there is no event to await
    server.stop()
    raise RuntimeError(f"ceiling app did not start in time; see {log}")


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
