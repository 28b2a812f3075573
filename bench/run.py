"""Run every benchmark and write ``docs/performance.md``.

    .venv/bin/python -m bench.run

Each benchmark is a module with ``run(context) -> list[Row]``; a new figure
is a new module added to ``BENCHMARKS``. They run in this order, which
matters: memory is read after the load runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import (
    bad_network,
    crowd,
    first_visit,
    lighthouse,
    load_run,
    machine,
    memory,
    repeat_visit,
    report,
    scale,
    sync_ingest,
    throughput,
)
from bench.context import Context, Options
from bench.rows import Row
from bench.servers import running
from server.settings import ROOT

# load_run last: it leaves 200 users' sessions and thousands of logs behind.
BENCHMARKS = [
    throughput,
    first_visit,
    repeat_visit,
    sync_ingest,
    crowd,
    memory,
    scale,
    lighthouse,
    bad_network,
    load_run,
]


def parser() -> argparse.ArgumentParser:
    defaults = Options()
    top = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    top.add_argument("--seconds", type=float, default=defaults.seconds, help="one load run")
    top.add_argument("--repeat", type=int, default=defaults.repeat, help="load runs per endpoint")
    top.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds per endpoint")
    top.add_argument("--connections", type=int, default=defaults.connections)
    top.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    return top


def main() -> None:
    args = parser().parse_args()
    options = Options(args.seconds, args.repeat, args.warmup, args.connections)
    started = time.monotonic()
    about = machine.describe()
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="homeward-bench-") as tmp,
        running(Path(tmp)) as servers,
    ):
        context = Context(servers, options)
        for benchmark in BENCHMARKS:
            name = benchmark.__name__.rpartition(".")[2]
            print(f"{name}…", flush=True)
            try:
                rows += benchmark.run(context)
            except Exception:
                # The servers' log goes with the temporary directory: show its end.
                sys.stderr.write(servers.log.read_text(errors="replace")[-3000:])
                raise
    elapsed = time.monotonic() - started
    args.output.write_text(report.markdown(rows, about, options, elapsed, BENCHMARKS))
    print(f"Wrote {args.output} in {elapsed:.0f} s.")


if __name__ == "__main__":
    main()
