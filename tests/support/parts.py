"""Which tests a run takes, when `make test` splits the suite into parts that
run side by side (Makefile, "test"); with neither variable set, every test.

``HOMEWARD_TEST_PART=k/n`` keeps the k-th of n parts. Most of a browser
test's time is waiting (for Chromium, a live server, a link that stalls), so
two parts per database keep both cores busy where one part would leave them
idle. Each part is a pytest session of its own: its own database, data
folder, live server on a free port and Chromium; `make test` gives each its
own Redis database for the live server's rate limits.

``HOMEWARD_TEST_DATABASE_ONLY=1`` keeps only the tests that can meet the
database: `make test` sets it on the PostgreSQL run, since a test that uses no
database (its fixtures never reach ``database_url`` and its module never asks
which database runs) tests the same code on both and runs once, on SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

# Guesses of a test's cost, only to deal the tests out evenly: a test with
# Chromium or a live server takes seconds, one with the app or the ORM a
# tenth of a second, a pure function's test a few milliseconds.
SLOW = {"browser", "page", "live_server"}
DATABASE = {"app", "client", "orm", "database_url"}


def _fixtures(item: pytest.Item) -> set[str]:
    return set(getattr(item, "fixturenames", ()))


def uses_no_database(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    asks_backend = module is not None and hasattr(module, "BACKEND")
    return "database_url" not in _fixtures(item) and not asks_backend


def _weight(item: pytest.Item) -> float:
    names = _fixtures(item)
    if names & SLOW or item.get_closest_marker("browser"):
        return 10.0
    if names & DATABASE:
        return 0.3
    return 0.02


def _group(item: pytest.Item) -> str:
    """Tests that share a module-scoped fixture stay together: the fixture is
    set up once, in one part."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    if any(d[-1].scope == "module" for d in defs if d):
        return item.nodeid.split("::")[0]
    return item.nodeid


def deal(items: Sequence[pytest.Item], count: int) -> list[int]:
    """The part (0 to count - 1) of each item: each group, in collection order,
    to the part with the least guessed time so far."""
    totals = [0.0] * count
    placed: dict[str, int] = {}
    parts = []
    for item in items:
        group = _group(item)
        if group not in placed:
            placed[group] = min(range(count), key=lambda i: totals[i])
        part = placed[group]
        totals[part] += _weight(item)
        parts.append(part)
    return parts


def part_of(value: str) -> tuple[int, int]:
    """``"k/n"`` as (k - 1, n), refused unless 1 <= k <= n."""
    k, _, n = value.partition("/")
    index, count = int(k), int(n)
    if not 1 <= index <= count:
        raise pytest.UsageError(f"HOMEWARD_TEST_PART={value}: want k/n with 1 <= k <= n")
    return index - 1, count


def select(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep = list(items)
    if os.environ.get("HOMEWARD_TEST_DATABASE_ONLY") == "1":
        keep = [item for item in keep if not uses_no_database(item)]
    part = os.environ.get("HOMEWARD_TEST_PART")
    if part:
        index, count = part_of(part)
        keep = [item for item, p in zip(keep, deal(keep, count), strict=True) if p == index]
    if len(keep) == len(items):
        return
    kept = set(map(id, keep))
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
    items[:] = keep
