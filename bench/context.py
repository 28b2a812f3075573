"""What every benchmark is given: the running servers and the run's options."""

from __future__ import annotations

from dataclasses import dataclass

from bench.servers import Servers


@dataclass(frozen=True)
class Options:
    seconds: float = 2.0  # one load run
    repeat: int = 7  # load runs per endpoint; the report gives their median
    warmup: float = 1.0  # seconds of load per endpoint before measuring
    connections: int = 8


@dataclass(frozen=True)
class Context:
    servers: Servers
    options: Options
