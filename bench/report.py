"""Write the rows, the machine and the method as ``docs/performance.md``."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from types import ModuleType

from bench.context import Options
from bench.rows import Row

HEADER = """\
# Performance

Written by `python -m bench.run` (the `bench/` package); change the
benchmarks, not this file, and run it again.

The machine these figures come from is shared and noisy. Each throughput
figure is the median of several runs, with the slowest and fastest in
brackets, and is read against a **ceiling measured in the same run**: the
ratio stays comparable from one run or machine to the next, the absolute
numbers do not. Benchmarks never assert speed; targets are there to be read,
not to fail a build.
"""

COLUMNS = ("Area", "Measure", "Result", "Against", "Ratio", "Target", "Notes")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rows: Sequence[Row]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = (row.area, row.measure, row.result, row.reference, row.ratio, row.target)
        lines.append("| " + " | ".join(_cell(c) for c in (*cells, row.notes)) + " |")
    return lines


def _method(module: ModuleType) -> str:
    # Each benchmark's docstring is its method, so a new module documents itself.
    name = module.__name__.rpartition(".")[2]
    text = inspect.cleandoc(module.__doc__ or "").replace("``", "`")
    return f"### `bench/{name}.py`\n\n{text}\n"


def markdown(
    rows: Sequence[Row],
    machine: Sequence[tuple[str, str]],
    options: Options,
    seconds: float,
    benchmarks: Sequence[ModuleType],
) -> str:
    lines = [HEADER, "## Results", ""]
    lines += _table(rows)
    lines += [
        "",
        f"Load: {options.connections} keep-alive connections over loopback, "
        f"{options.seconds:g} s per run, {options.repeat} runs per endpoint "
        f"after {options.warmup:g} s of warm-up, interleaved; the whole run took "
        f"{seconds:.0f} s.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_cell(value)} |" for name, value in machine]
    lines += ["", "## How each figure is made", ""]
    lines += [_method(module) for module in benchmarks]
    lines += [
        "## How to repeat",
        "",
        "From the repository root, after `make test` or `make demo` has built `.venv`:",
        "",
        "    .venv/bin/python -m bench.run",
        "",
        "It starts its own servers on free loopback ports, with a fresh SQLite database",
        "in a temporary directory, and rewrites this file. `--seconds`, `--repeat`,",
        "`--warmup` and `--connections` change the load; `--output` writes elsewhere.",
        "Run it on an otherwise idle machine when you can, and compare ratios, not",
        "absolute figures, with earlier runs.",
        "",
    ]
    return "\n".join(lines)
