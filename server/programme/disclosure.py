"""Small-number suppression of the programme's published tables (pure, no I/O).

Every cell of a page (or its CSV) has a key shared by every table it
appears in: an organisation's total of people supported is one cell,
whether the gender table or the age table shows it. A page is described by
its cells' values and by its *groups*: one row or one column of a table,
its members and the total they add up to. Suppression then works on the
page as a whole, so a margin hidden in one table is hidden in all of them.

- Primary: a count below the threshold is published as "< N". Zero too:
  "nobody of this kind here" is itself a fact about few people.
- Secondary: no group may hold exactly one hidden cell, or the total minus
  the others would give it back. While one does, the smallest other cell
  of that group is hidden as well (smallest: it costs the reader least),
  and the groups are checked again until none changes: a fixed point over
  every table of the page.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

Key = Hashable


@dataclass(frozen=True)
class Group:
    """One row or column of a table: ``members`` add up to ``total``."""

    members: tuple[Key, ...]
    total: Key

    @property
    def cells(self) -> tuple[Key, ...]:
        return (*self.members, self.total)


def suppress(values: Mapping[Key, int], groups: Sequence[Group], threshold: int) -> frozenset[Key]:
    """The keys of the cells to publish as "< threshold".

    Ties between equally small cells go to the one listed first in
    ``values``, so the same figures always hide the same cells.
    """
    order = {key: index for index, key in enumerate(values)}
    hidden = {key for key, value in values.items() if value < threshold}
    changed = True
    while changed:
        changed = False
        for group in groups:
            cells = group.cells
            if sum(1 for cell in cells if cell in hidden) != 1:
                continue
            shown = [cell for cell in cells if cell not in hidden]
            if not shown:  # a group of one cell, already hidden
                continue
            hidden.add(min(shown, key=lambda cell: (values[cell], order[cell])))
            changed = True
    return frozenset(hidden)


@dataclass(frozen=True)
class Published:
    """What leaves the server: a count, or "fewer than ``threshold``"."""

    value: int | None  # None: suppressed
    threshold: int


def publish(
    values: Mapping[Key, int], groups: Sequence[Group], threshold: int
) -> dict[Key, Published]:
    """Every cell as published: its count, or suppressed."""
    hidden = suppress(values, groups, threshold)
    return {
        key: Published(None if key in hidden else value, threshold) for key, value in values.items()
    }
