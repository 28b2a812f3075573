"""A bounded HTTP/1.1 load generator: N keep-alive connections for a fixed time.

It speaks just enough HTTP over asyncio streams on uvloop instead of using
httpx, because httpx spends more CPU per request than the smallest Starlette
endpoint does: on a 2-core machine the client would become the ceiling and
every ratio would read close to 1. Each run reports the client's own CPU use,
so a saturated client is visible in the report rather than hidden.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import uvloop


@dataclass(frozen=True)
class Target:
    port: int
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    def request(self) -> bytes:
        lines = [f"GET {self.path} HTTP/1.1", f"Host: localhost:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    client_cpu_seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def client_cpu_share(self) -> float:
        """The fraction of one core the load generator itself used."""
        return self.client_cpu_seconds / self.seconds


class BadResponse(RuntimeError):
    """A benchmark that measures error pages measures nothing."""


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    else:
        start = lowered.find(b"content-length:")
        if start >= 0:
            end = lowered.index(b"\r\n", start)
            await reader.readexactly(int(lowered[start + 15 : end]))
    return status


async def _connection(target: Target, deadline: float, latencies: list[float]) -> int:
    reader, writer = await asyncio.open_connection(target.host, target.port)
    request = target.request()
    done = 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise BadResponse(f"GET {target.path} answered {status}")
            done += 1
    finally:
        writer.close()
        await writer.wait_closed()
    return done


async def _load(target: Target, connections: int, seconds: float) -> LoadResult:
    latencies: list[float] = []
    cpu_before = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    counts = await asyncio.gather(
        *(_connection(target, deadline, latencies) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return LoadResult(sum(counts), elapsed, time.process_time() - cpu_before, latencies)


def run(target: Target, *, connections: int, seconds: float) -> LoadResult:
    """Keep ``connections`` requests in flight against ``target`` for ``seconds``.

    Raises:
        BadResponse: when any answer is not a 200.
    """
    return uvloop.run(_load(target, connections, seconds))
