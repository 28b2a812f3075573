"""A versioned form: sections of fields, checked once when it is declared."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from server.enums import Pillar
from server.forms.fields import Condition, Field, FieldType, tokens

# The fields that together say when a session happened; the validator
# checks them against the clock.
MOMENT = ("occurred_on", "occurred_time")


@dataclass(frozen=True)
class Section:
    """A group of questions under one heading."""

    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Questions:
    """One version of a declared form: sections of fields, checked once.

    What the validator, the declaration checks and the macros need of any
    form. A session form is a ``Form`` (below), tied to its pillar; the
    needs assessment (server/assessments/) is a ``Questions`` of its own,
    with a section per pillar, no pillar of its own and no moment, and is
    never in the session forms' registry.

    A version is never edited once shipped: submissions record the version
    they were made with, and old ones must stay readable. Change wording or
    questions by declaring a new version.
    """

    pillar: Pillar | None
    version: int
    title: str
    sections: tuple[Section, ...]
    moment: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        # Catch declaration mistakes when the module is imported, not when a
        # worker first opens the form.
        seen: dict[str, Field] = {}
        for field in self.fields:
            if field.key in seen:
                raise ValueError(f"{self.pillar} v{self.version}: {field.key} is declared twice")
            for condition in (field.show_when, field.required_when):
                if condition is not None:
                    _check_condition(field, condition, seen)
            seen[field.key] = field
        if self.moment is not None:
            day, hour = (seen.get(key) for key in self.moment)
            if day is None or hour is None or day.type is not FieldType.DATE:
                raise ValueError(f"{self.pillar} v{self.version}: moment fields missing")
            if hour.type is not FieldType.TIME:
                raise ValueError(f"{self.pillar} v{self.version}: moment time field missing")

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        return tuple(field for section in self.sections for field in section.fields)

    @cached_property
    def by_key(self) -> dict[str, Field]:
        return {field.key: field for field in self.fields}

    def shown(self, values: Mapping[str, object]) -> frozenset[str]:
        """The keys of the fields shown for ``values`` (as posted: a string, or
        a list for multiple choice).

        A field with ``show_when`` is shown when the field it names is shown
        and holds one of its values: the rule of the validator and of
        ``pwa/forms.js``, which decides once it runs; the page uses this to
        start out as the script will leave it.
        """
        shown: set[str] = set()
        for field in self.fields:
            condition = field.show_when
            if condition is None or (
                condition.field in shown
                and any(token in condition.values for token in tokens(values.get(condition.field)))
            ):
                shown.add(field.key)
        return frozenset(shown)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the definition (keys, types, msgids, rules), language-free.

        Lets a phone tell whether its cached copy of a version is the one
        the server validates with.
        """
        canonical = json.dumps(
            dataclasses.asdict(self), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Form(Questions):
    """One version of one pillar's session form (fields as ``Questions``;
    the content hash is unchanged by the split, phones' caches stay valid)."""

    pillar: Pillar
    moment: tuple[str, str] | None = MOMENT


def _check_condition(field: Field, condition: Condition, earlier: dict[str, Field]) -> None:
    # Conditions may only look back: the validator decides visibility in
    # declaration order, so a parent must be decided before its child.
    parent = earlier.get(condition.field)
    if parent is None:
        raise ValueError(f"{field.key}: condition on unknown or later field {condition.field}")
    if parent.choices:
        unknown = set(condition.values) - set(parent.choice_keys)
        if unknown:
            raise ValueError(f"{field.key}: condition values {unknown} are not choices")
