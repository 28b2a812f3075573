"""One term, one translation: the glossary's checked terms hold in every catalogue.

``docs/glossary.md`` has a table, "Checked in the catalogues", that this test
reads: for each row, every entry of that language whose English text matches
**Where** has a translation matching **Approved**, and none matching any of
**Wrong** (each a regular expression in backticks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from babel.messages.pofile import read_po

from server.settings import LANGUAGES, ROOT

GLOSSARY = ROOT / "docs" / "glossary.md"
HEADING = "## Checked in the catalogues"


@dataclass(frozen=True)
class Rule:
    term: str
    language: str
    where: re.Pattern[str]
    approved: re.Pattern[str] | None
    wrong: tuple[re.Pattern[str], ...]


def _patterns(cell: str) -> list[re.Pattern[str]]:
    return [re.compile(text) for text in re.findall(r"`([^`]+)`", cell)]


def rules() -> list[Rule]:
    text = GLOSSARY.read_text(encoding="utf-8")
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    found = []
    for line in section.splitlines():
        # Cells are split on pipes; "\\|" inside a cell is a pipe of the pattern.
        parts = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        cells = [cell.strip().replace("\\|", "|") for cell in parts]
        if not line.startswith("|") or cells[0] == "Term" or set(cells[0]) <= {"-"}:
            continue
        assert len(cells) == 5, f"glossary row with {len(cells)} cells: {line}"
        term, language, where, approved, wrong = cells
        approved_patterns = _patterns(approved)
        found.append(
            Rule(
                term=term,
                language=language,
                where=_patterns(where)[0],
                approved=approved_patterns[0] if approved_patterns else None,
                wrong=tuple(_patterns(wrong)),
            )
        )
    return found


def entries(language: str) -> list[tuple[str, str]]:
    """(English text, translation) of every entry; each plural form on its own."""
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    found = []
    for message in catalogue:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[-1]
        strings = [message.string] if isinstance(message.string, str) else message.string
        found.extend((english, text) for text in strings if text)
    return found


def test_the_glossary_table_is_read() -> None:
    found = rules()
    assert len(found) >= 30
    assert {rule.language for rule in found} == set(LANGUAGES)
    assert any(rule.term == "caseload" and rule.language == "en" for rule in found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_term_has_its_one_translation(language: str) -> None:
    problems = []
    catalogue = entries(language)
    for rule in (r for r in rules() if r.language == language):
        matched = [(english, text) for english, text in catalogue if rule.where.search(english)]
        assert matched, f"{rule.term}: no entry matches {rule.where.pattern}"
        for english, text in matched:
            if rule.approved and not rule.approved.search(text):
                problems.append((rule.term, english, text, "missing " + rule.approved.pattern))
            problems += [
                (rule.term, english, text, "wrong " + bad.pattern)
                for bad in rule.wrong
                if bad.search(text)
            ]
    assert problems == []
