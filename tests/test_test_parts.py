"""How `make test` deals each database's tests into parts (tests/support/parts.py):
every test in exactly one part, the slow ones spread, a module-scoped fixture's
tests together, and the tests that use no database told apart."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support import parts


@dataclass
class FixtureDef:
    scope: str


@dataclass
class FixtureInfo:
    name2fixturedefs: dict[str, tuple[FixtureDef, ...]]


@dataclass
class Item:
    """What parts.py reads of a pytest item."""

    nodeid: str
    fixturenames: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    module_scoped: bool = False
    module: Any = field(default_factory=lambda: types.SimpleNamespace())

    @property
    def _fixtureinfo(self) -> FixtureInfo:
        scope = "module" if self.module_scoped else "function"
        return FixtureInfo({name: (FixtureDef(scope),) for name in self.fixturenames})

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name in self.marks else None


def test_each_test_is_in_exactly_one_part() -> None:
    items = [Item(f"tests/test_a.py::test_{i}", ("app",)) for i in range(7)]
    dealt = parts.deal(items, 3)  # type: ignore[arg-type]
    assert dealt == [0, 1, 2, 0, 1, 2, 0]


def test_the_browser_tests_are_spread_over_the_parts() -> None:
    quick = [Item(f"tests/test_q.py::test_{i}", ("orm",)) for i in range(10)]
    slow = [
        Item("tests/test_b.py::test_1", ("page",)),
        Item("tests/test_b.py::test_2", ("browser",)),
        Item("tests/test_b.py::test_3", ("live_server",)),
        Item("tests/test_b.py::test_4", (), marks=("browser",)),
    ]
    dealt = parts.deal([*quick, *slow], 2)  # type: ignore[list-item]
    # The quick ones alternate; then each browser test goes to the lighter part.
    assert dealt == [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    assert [dealt[10:].count(0), dealt[10:].count(1)] == [2, 2]


def test_tests_sharing_a_module_fixture_stay_in_one_part() -> None:
    items = [
        Item("tests/test_fuzz.py::test_1", ("app", "schema"), module_scoped=True),
        Item("tests/test_fuzz.py::test_2", ("app", "schema"), module_scoped=True),
        Item("tests/test_fuzz.py::test_3", ("app", "schema"), module_scoped=True),
        Item("tests/test_other.py::test_1", ("app",)),
    ]
    assert parts.deal(items, 2) == [0, 0, 0, 1]  # type: ignore[arg-type]


def test_a_part_is_k_of_n() -> None:
    assert parts.part_of("1/2") == (0, 2)
    assert parts.part_of("2/2") == (1, 2)
    for wrong in ("0/2", "3/2"):
        with pytest.raises(pytest.UsageError):
            parts.part_of(wrong)


def test_a_test_uses_no_database_only_if_nothing_reaches_it() -> None:
    pure = Item("tests/test_v.py::test_1", ("tmp_path",))
    with_db = Item("tests/test_v.py::test_2", ("app", "settings", "database_url"))
    asks_backend = Item(
        "tests/test_ops.py::test_1", ("tmp_path",), module=types.SimpleNamespace(BACKEND="x")
    )
    assert parts.uses_no_database(pure) is True  # type: ignore[arg-type]
    assert parts.uses_no_database(with_db) is False  # type: ignore[arg-type]
    assert parts.uses_no_database(asks_backend) is False  # type: ignore[arg-type]
