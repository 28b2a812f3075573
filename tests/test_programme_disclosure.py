"""Disclosure control: nothing suppressed can be worked back by subtraction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from server.enums import Attendance, Country, Gender, Pillar
from server.programme.disclosure import Group, publish, suppress
from server.programme.period import Quarter, last_ended, read_quarter
from tests.support import programme as pw
from tests.support.web import signed_in

KAMPALA, ALMATY = "Africa/Kampala", "Asia/Almaty"


def solve(values: dict[str, int], hidden: frozenset[str], groups: list[Group]) -> set[str]:
    """The attacker: every equation with one unknown is solved, until none is left."""
    known = {key: value for key, value in values.items() if key not in hidden}
    changed = True
    while changed:
        changed = False
        for group in groups:
            unknown = [c for c in group.cells if c not in known]
            if len(unknown) != 1:
                continue
            (missing,) = unknown
            others = sum(known[c] for c in group.members if c != missing)
            known[missing] = others if missing == group.total else known[group.total] - others
            changed = True
    return {key for key in hidden if key in known}


def test_the_examples_by_hand() -> None:
    # One row: 3 | 9 | total 12. 3 < 5; 12 − 9 would give it back: 9 goes too.
    values = {"a": 3, "b": 9, "t": 12}
    assert suppress(values, [Group(("a", "b"), "t")], 5) == {"a", "b"}
    # 0 is below 5 as well; 5 is not.
    values = {"a": 0, "b": 5, "c": 6, "t": 11}
    assert suppress(values, [Group(("a", "b", "c"), "t")], 5) == {"a", "b"}
    published = publish(values, [Group(("a", "b", "c"), "t")], 5)
    assert [published[k].value for k in "abct"] == [None, None, 6, 11]
    # Nothing small: nothing hidden.
    assert suppress({"a": 5, "t": 5}, [Group(("a",), "t")], 5) == frozenset()
    # A margin shared by two tables is hidden in both (same key), and its
    # hiding spreads into the second table until that is safe too.
    groups = [Group(("f", "m"), "T"), Group(("young", "old"), "T"), Group(("T",), "all")]
    values = {"f": 2, "m": 3, "young": 40, "old": 60, "T": 5, "all": 5}
    # f, m < 5; T would be recovered... T is not small but row f+m=T hides
    # nothing more (two hidden). T = 5 shown: young+old=T is fine.
    assert suppress(values, groups, 5) == {"f", "m"}
    values = {"f": 2, "m": 30, "young": 40, "old": 60, "T": 32, "all": 32}
    # f < 5 → m (30, smaller than T) goes; nothing else needs to.
    assert suppress(values, groups, 5) == {"f", "m"}


@st.composite
def pages(draw: st.DrawFn) -> tuple[dict[str, int], list[Group], int]:
    """Random pages: two tables sharing their row totals, organisations in
    countries under a programme, counts often small, thresholds 2 to 10."""
    threshold = draw(st.integers(2, 10))
    countries = draw(st.integers(1, 3))
    orgs = [draw(st.integers(1, 3)) for _ in range(countries)]
    widths = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    small = st.one_of(st.integers(0, threshold + 2), st.integers(0, 200))
    values: dict[str, int] = {}
    groups: list[Group] = []
    units: list[tuple[str, list[str]]] = []  # (parent, children)
    leaves = [f"o{c}.{o}" for c in range(countries) for o in range(orgs[c])]
    for c in range(countries):
        units.append((f"c{c}", [f"o{c}.{o}" for o in range(orgs[c])]))
    units.append(("p", [f"c{c}" for c in range(countries)]))
    # Leaves' row totals are shared by both tables: draw table 1 first,
    # then split the same total across table 2's columns.
    for leaf in leaves:
        first = [draw(small) for _ in range(widths[0])]
        total = sum(first)
        second = []
        left = total
        for _ in range(widths[1] - 1):
            part = draw(st.integers(0, left))
            second.append(part)
            left -= part
        second.append(left)
        for t, row in ((0, first), (1, second)):
            for j, n in enumerate(row):
                values[f"t{t}:{leaf}:{j}"] = n
        values[f"{leaf}:total"] = total
    for parent, children in units:
        for t in (0, 1):
            for j in range(widths[t]):
                values[f"t{t}:{parent}:{j}"] = sum(values[f"t{t}:{c}:{j}"] for c in children)
        values[f"{parent}:total"] = sum(values[f"{c}:total"] for c in children)
    for t in (0, 1):
        for unit in [*leaves, *(p for p, _ in units)]:
            members = tuple(f"t{t}:{unit}:{j}" for j in range(widths[t]))
            groups.append(Group(members, f"{unit}:total"))
        for parent, children in units:
            for j in range(widths[t]):
                groups.append(Group(tuple(f"t{t}:{c}:{j}" for c in children), f"t{t}:{parent}:{j}"))
    for parent, children in units:
        groups.append(Group(tuple(f"{c}:total" for c in children), f"{parent}:total"))
    return values, groups, threshold


@settings(max_examples=300, deadline=None)
@given(pages())
def test_no_suppressed_cell_can_be_recovered(page: tuple[dict[str, int], list[Group], int]) -> None:
    values, groups, threshold = page
    hidden = suppress(values, groups, threshold)
    # Every small count is hidden ...
    assert {k for k, v in values.items() if v < threshold} <= hidden
    # ... and subtraction over rows, columns and shared margins finds none.
    assert solve(values, hidden, groups) == set()
    # The equations hold: the attacker's model is the page's.
    for group in groups:
        assert sum(values[m] for m in group.members) == values[group.total]


def test_quarters_only_once_ended() -> None:
    now = datetime(2026, 10, 1, 5, 0, tzinfo=UTC)  # 1 October in Almaty, not yet in Kampala's west
    assert last_ended(now) == Quarter(2026, 2)
    later = datetime(2026, 10, 1, 13, 0, tzinfo=UTC)
    assert last_ended(later) == Quarter(2026, 3)
    assert read_quarter("2026-Q3", later) == Quarter(2026, 3)
    assert read_quarter("2026-Q3", now) is None
    assert read_quarter("2026-Q0", later) is None
    assert read_quarter("2026-q3", later) is None
    assert Quarter(2026, 1).last.isoformat() == "2026-03-31"
    assert Quarter(2024, 4).previous() == Quarter(2024, 3)
    assert Quarter(2025, 1).previous() == Quarter(2024, 4)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_nothing_is_recovered_from_the_page_or_the_csv(app: Starlette, seed: int) -> None:
    """A real programme with small and large counts, attacked through its CSV
    (the same cells as the page), in two countries."""
    import random

    app.state.clock = lambda: pw.NOW
    chance = random.Random(seed)
    programme = await pw.organisation("Programme office", Country.UGANDA, KAMPALA, programme=True)
    names: dict[str, str] = {}
    for index, (country, zone) in enumerate(
        [(Country.UGANDA, KAMPALA)] * 3 + [(Country.KAZAKHSTAN, ALMATY)] * 2
    ):
        org = await pw.organisation(f"NGO {index}", country, zone)
        names[org.name] = country.value
        worker = await pw.staff(org)
        for _ in range(chance.choice([1, 3, 6, 12])):
            who = await pw.person(
                org,
                gender=chance.choice(list(Gender)),
                born=chance.choice([None, "2009-02-01", "1995-06-01", "1970-01-01"]),
            )
            for _ in range(chance.randint(1, 3)):
                await pw.log(
                    who,
                    worker,
                    pw.local(zone, 2026, chance.randint(7, 9), 10, 10),
                    pillar=chance.choice(list(Pillar)),
                    attendance=chance.choice(list(Attendance)),
                )
    user = await pw.coordinator(programme, [Country.UGANDA, Country.KAZAKHSTAN])
    async with await signed_in(app, user) as client:
        export = await client.get("/programme/export.csv?quarter=2026-Q3")
        page = await client.get("/programme?quarter=2026-Q3")
    rows = pw.read_csv(export.text)
    assert rows, export.text
    assert any(r["value"].startswith("<") for r in rows)
    assert pw.attack(rows, names) == {}
    # The page shows the same cells: as many "< 5" as the CSV.
    hidden = sum(1 for r in rows if r["value"] == "< 5")
    assert page.text.count("data-suppressed") == hidden
