"""The rows of the Benchmarks issue that wait for features, so the table is whole.

When a feature lands, its figure becomes a module of its own (listed in
``bench.run.BENCHMARKS``) and its row leaves this list.
"""

from __future__ import annotations

from bench.context import Context
from bench.rows import Row, pending


def run(context: Context) -> list[Row]:
    return [
        pending(
            "Lighthouse",
            "Performance, accessibility, best practices, PWA scores (mobile)",
            "Lighthouse in the toolchain and the worker screens",
        ),
    ]
