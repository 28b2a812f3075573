"""A bad mobile link of the tests' own: a TCP proxy between Chromium and the
app server that delays, throttles, cuts connections and drops out.

This kernel has no `tc netem`, so the link is simulated one level up: the
phone opens the app at the proxy's origin (``http://localhost:PROXYPORT``),
the server is started with that origin as its ``HOMEWARD_ORIGIN`` (passkeys,
cookies and the CSRF origin check see one site), and every byte between them
passes through here:

- **delay**: each slice of bytes arrives ``delay`` seconds after it left,
  each way;
- **bandwidth**: each direction is one pipe of ``bandwidth`` bytes per second
  shared by all connections, as one phone's radio is;
- **cuts**: each connection carries a random number of bytes (exponential,
  mean ``cut_after``) and is then reset in the middle of whatever it was
  carrying, a request or an answer;
- **outages**: the link goes down for a random ``outage`` seconds after a
  random ``uptime``; an outage either *drops* (every open connection reset,
  new ones reset at once: the radio lost its bearer) or *stalls* (nothing
  moves until it ends, then everything resumes: out of coverage, TCP waiting).

Every random choice comes from ``seed``: the outages (when, how long, which
kind) from one stream, the cuts from another, drawn in the order connections
open. A run's link can be repeated; its interleaving with the browser's
timing cannot.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import socket
import struct
import subprocess
import sys
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from server.settings import ROOT
from tests.support import live

SLICE = 4096  # bytes read at a time: the link interleaves connections at this grain
WINDOW = 8  # slices in flight per direction and connection before the sender waits

Kind = Literal["drop", "stall"]


@dataclass
class Conditions:
    """What the link does; change it at any time, it applies to the next bytes."""

    delay: float = 0.0  # seconds, each way
    bandwidth: float = 0.0  # bytes per second each way, shared; 0: unlimited
    cut_after: float = 0.0  # mean bytes a connection carries before a cut; 0: never
    outage: tuple[float, float] = (10.0, 60.0)  # length of a random outage, seconds
    uptime: tuple[float, float] = (20.0, 90.0)  # between random outages, seconds
    outages: int | None = None  # random outages after start_weather(); None: no end
    first_uptime: tuple[float, float] | None = None  # before the first outage; None: uptime


@dataclass
class Outage:
    kind: Kind
    start: float  # the event loop's clock
    end: float | None = None


@dataclass
class Counters:
    up: int = 0  # bytes the phone sent onto the link
    down: int = 0  # bytes the server sent onto the link
    connections: int = 0
    cuts: int = 0  # connections reset by a random cut
    dropped: int = 0  # connections reset by an outage
    outages: list[Outage] = field(default_factory=list)

    def copy(self) -> Counters:
        return Counters(
            self.up, self.down, self.connections, self.cuts, self.dropped, list(self.outages)
        )


@dataclass(frozen=True)
class _Slice:
    data: bytes
    due: float  # the event loop's clock: when the far end gets it
    cut: bool = False  # reset the connection after this
    end: bool = False  # the sender closed its side


class _Lane:
    """One direction of the shared radio: the time its pipe is free again."""

    def __init__(self) -> None:
        self.free_at = 0.0


class _Connection:
    def __init__(self, phone: asyncio.StreamWriter, budget: float) -> None:
        self.phone = phone
        self.server: asyncio.StreamWriter | None = None
        self.budget = budget  # bytes left before the cut
        self.gone = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self.gone.is_set()

    def abort(self) -> None:
        """Reset both sides (RST, not FIN: the link broke, nobody hung up)."""
        if self.closed:
            return
        self.gone.set()
        for writer in (self.phone, self.server):
            if writer is None:
                continue
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    linger = struct.pack("ii", 1, 0)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            writer.transport.abort()


class NetProxy:
    """The proxy; ``await start()``, point the browser at ``url``, ``await close()``."""

    def __init__(
        self,
        target_port: int,
        *,
        port: int | None = None,
        seed: int = 0,
        conditions: Conditions | None = None,
    ) -> None:
        self.target_port = target_port
        self.port = port or live.free_port()
        self.conditions = conditions or Conditions()
        # Two streams, so the outages do not shift with the number of connections.
        self.cuts = random.Random(f"{seed} cuts")
        self.weather = random.Random(f"{seed} weather")
        self.counters = Counters()
        self._lanes = {"up": _Lane(), "down": _Lane()}
        self._open: set[_Connection] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._up = asyncio.Event()
        self._up.set()
        self._kind: Kind | None = None
        self._server: asyncio.Server | None = None
        self._weather: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def close(self) -> None:
        self.stop_weather()
        if self._server is not None:
            self._server.close()
        for connection in list(self._open):
            connection.abort()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # Outages -----------------------------------------------------------

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def down(self, kind: Kind) -> None:
        """The link goes down now, until ``up()``."""
        if not self.is_up:
            return
        self._kind = kind
        self._up.clear()
        self.counters.outages.append(Outage(kind, asyncio.get_running_loop().time()))
        if kind == "drop":
            for connection in list(self._open):
                self.counters.dropped += 1
                connection.abort()

    def up(self) -> None:
        if self.is_up:
            return
        self._kind = None
        self.counters.outages[-1].end = asyncio.get_running_loop().time()
        self._up.set()

    def start_weather(self) -> None:
        """Random outages from now on: up for a while, down for a while, again."""
        if self._weather is None:
            self._weather = asyncio.create_task(self._outages())

    def stop_weather(self) -> None:
        """No more random outages; one under way ends now."""
        if self._weather is not None:
            self._weather.cancel()
            self._weather = None
        self.up()

    async def _outages(self) -> None:
        count = 0
        while self.conditions.outages is None or count < self.conditions.outages:
            uptime = self.conditions.uptime
            if count == 0 and self.conditions.first_uptime is not None:
                uptime = self.conditions.first_uptime
            count += 1
            await asyncio.sleep(self.weather.uniform(*uptime))
            kind: Kind = self.weather.choice(("drop", "stall"))
            self.down(kind)
            await asyncio.sleep(self.weather.uniform(*self.conditions.outage))
            self.up()

    # Connections -------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        self.counters.connections += 1
        connection = _Connection(writer, math.inf)
        if self._kind == "drop":
            self.counters.dropped += 1
            connection.abort()
            return
        # Drawn only for connections that carry something, so the n-th one
        # after the conditions changed always gets the same budget.
        mean = self.conditions.cut_after
        connection.budget = self.cuts.expovariate(1 / mean) if mean else math.inf
        self._open.add(connection)
        try:
            await self._carry(connection, reader)
        finally:
            self._open.discard(connection)
            connection.abort()

    async def _carry(self, connection: _Connection, phone: asyncio.StreamReader) -> None:
        up: asyncio.Queue[_Slice] = asyncio.Queue(WINDOW)
        down: asyncio.Queue[_Slice] = asyncio.Queue(WINDOW)
        tasks = [self._guard(connection, self._read(connection, phone, up, "up"))]
        try:
            # Out of coverage, the connection to the server opens when the link is back.
            await self._up.wait()
            if connection.closed:
                return
            try:
                server, connection.server = await asyncio.open_connection(
                    "127.0.0.1", self.target_port
                )
            except OSError:
                return
            if connection.closed:  # dropped while connecting
                connection.abort()
                return
            tasks += [
                self._guard(connection, self._write(connection, up, connection.server)),
                self._guard(connection, self._read(connection, server, down, "down")),
                self._guard(connection, self._write(connection, down, connection.phone)),
            ]
            # Until both sides are done, or the connection is reset.
            gone = asyncio.create_task(connection.gone.wait())
            both = asyncio.gather(*tasks, return_exceptions=True)
            waiting: set[asyncio.Future[Any]] = {gone, both}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    def _guard(connection: _Connection, work: Coroutine[None, None, None]) -> asyncio.Task[None]:
        """Run one direction's half; a socket error on either side resets the connection."""

        async def guarded() -> None:
            try:
                await work
            except (OSError, RuntimeError):
                connection.abort()

        return asyncio.create_task(guarded())

    async def _read(
        self,
        connection: _Connection,
        source: asyncio.StreamReader,
        queue: asyncio.Queue[_Slice],
        direction: Literal["up", "down"],
    ) -> None:
        """Take bytes off one side as it sends them; the cut falls in here."""
        while not connection.closed:
            try:
                data = await source.read(SLICE)
            except OSError:
                data = b""
            if not data:
                await queue.put(_Slice(b"", self._due(0, direction), end=True))
                return
            await self._up.wait()  # in a stall nothing moves: the sender's TCP waits
            if direction == "up":
                self.counters.up += len(data)
            else:
                self.counters.down += len(data)
            if len(data) >= connection.budget:
                # The cut: what got through before it arrives, then the reset.
                data = data[: int(connection.budget)]
                connection.budget = 0
                self.counters.cuts += 1
                await queue.put(_Slice(data, self._due(len(data), direction), cut=True))
                return
            connection.budget -= len(data)
            await queue.put(_Slice(data, self._due(len(data), direction)))

    def _due(self, size: int, direction: str) -> float:
        """Reserve the shared pipe for ``size`` bytes: when they arrive at the far end."""
        now = asyncio.get_running_loop().time()
        lane = self._lanes[direction]
        rate = self.conditions.bandwidth
        lane.free_at = max(now, lane.free_at) + (size / rate if rate else 0.0)
        return lane.free_at + self.conditions.delay

    async def _write(
        self,
        connection: _Connection,
        queue: asyncio.Queue[_Slice],
        target: asyncio.StreamWriter,
    ) -> None:
        """Hand bytes to the other side when the link would have delivered them."""
        loop = asyncio.get_running_loop()
        while True:
            piece = await queue.get()
            await asyncio.sleep(max(0.0, piece.due - loop.time()))
            await self._up.wait()  # a stall holds everything in flight
            if connection.closed:
                return
            if piece.data:
                target.write(piece.data)
                await target.drain()
            if piece.cut:
                connection.abort()
                return
            if piece.end:
                if target.can_write_eof():
                    target.write_eof()
                return


def serve_behind(
    proxy_port: int,
    env: Mapping[str, str],
    timeout: float = 30.0,
    output: IO[bytes] | None = None,
) -> live.LiveServer:
    """The app under uvicorn on a free port, its public origin the proxy's.

    As ``live.start``, but ``HOMEWARD_ORIGIN`` is ``http://localhost:PROXYPORT``:
    the browser only ever sees the proxy. ``output``: where its log goes
    (by default this process's own stdout and stderr).
    """
    port = live.free_port()
    origin = f"http://localhost:{proxy_port}"
    full_env = {**os.environ, **env, "HOMEWARD_ORIGIN": origin}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=full_env,
        stdout=output,
        stderr=output,
    )
    return live.wait_healthy(live.LiveServer(port, process), timeout)
