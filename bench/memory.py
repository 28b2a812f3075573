"""Resident memory of the app server, read after the load runs.

The ceiling app served the same number of connections for as long, so its
size is what uvicorn, Starlette, Jinja2 and Babel's catalogues alone take;
the difference is Homeward's own (routes, middleware, the ORM and its
models).
"""

from __future__ import annotations

from bench import proc
from bench.context import Context
from bench.rows import Row, megabytes, ratio

TARGET_BYTES = 150_000_000


def run(context: Context) -> list[Row]:
    app = proc.memory_bytes(context.servers.app.process.pid)
    ceiling = proc.memory_bytes(context.servers.ceiling.process.pid)
    return [
        Row(
            "Memory",
            "Resident memory (VmRSS) of the app's uvicorn process after the load runs",
            megabytes(app["VmRSS"]),
            f"ceiling app {megabytes(ceiling['VmRSS'])}",
            f"{ratio(app['VmRSS'] / ceiling['VmRSS'])} · {ratio(app['VmRSS'] / TARGET_BYTES)}",
            f"≤ {megabytes(TARGET_BYTES)}",
            f"ratios: to the ceiling app · to the target; peak (VmHWM) "
            f"{megabytes(app['VmHWM'])}, ceiling app {megabytes(ceiling['VmHWM'])}",
        )
    ]
