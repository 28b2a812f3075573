"""Running one benchmark module by itself (``python -m bench.<module>``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.context import Context, Options
from bench.rows import Row
from bench.servers import running


def run_alone(run: Callable[[Context], list[Row]], options: Options | None = None) -> None:
    """Start fresh servers, run ``run`` against them, print its rows as a table."""
    with (
        tempfile.TemporaryDirectory(prefix="homeward-bench-") as tmp,
        running(Path(tmp)) as servers,
    ):
        rows = run(Context(servers, options or Options()))
    for row in rows:
        print(f"| {row.area} | {row.measure} | {row.result} | {row.ratio} | {row.target} |")
        print(f"|  | {row.notes} |")
