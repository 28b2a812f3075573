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
            "Sync ingest",
            "Session logs accepted per second through sync vs raw bulk insert, SQLite",
            "the sync endpoint",
        ),
        pending(
            "Sync ingest",
            "Session logs accepted per second through sync vs raw bulk insert, PostgreSQL",
            "the sync endpoint",
        ),
        pending(
            "Repeat visit",
            "Network requests on a repeat visit (service worker installed)",
            "the service worker",
        ),
        pending(
            "Offline visit",
            "Network requests when opened offline",
            "the service worker and the offline shell",
        ),
        pending(
            "Lighthouse",
            "Performance, accessibility, best practices, PWA scores (mobile)",
            "Lighthouse in the toolchain and the worker screens",
        ),
    ]
