"""A real uvicorn server in a child process, for browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from server.settings import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        # WebAuthn wants a "localhost" origin, not 127.0.0.1.
        return f"http://localhost:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(env: Mapping[str, str], port: int | None = None, timeout: float = 30.0) -> LiveServer:
    port = port or free_port()
    full_env = {**os.environ, **env, "HOMEWARD_ORIGIN": f"http://localhost:{port}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=full_env,
    )
    return wait_healthy(LiveServer(port, process), timeout)


def wait_healthy(server: LiveServer, timeout: float = 30.0, what: str = "server") -> LiveServer:
    """Return ``server`` once its /healthz answers 200; stop it and raise otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{what} exited with {server.process.returncode}")
        try:
            url = f"http://127.0.0.1:{server.port}/healthz"
            if httpx.get(url, timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a starting process: there is no event to await
    server.stop()
    raise RuntimeError(f"{what} did not become healthy in time")
