"""JSON from strangers, parsed with a bound on nesting.

``json.loads`` recurses once per level, and so does every walk over its
result (looking for NUL characters, hashing, checking a schema): a body of a
few kilobytes nested 950 deep parses, then exhausts the stack in whichever
walk comes next, as a 500 with a 200 KB traceback. The nesting is counted
on the raw text first, in one pass without recursion, so nothing deeper
than ``MAX_DEPTH`` is ever parsed. No record we accept nests more than a
handful of levels.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
# Strings are skipped whole (their brackets do not count); escapes included.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """The JSON nests deeper than allowed."""


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of ``raw``, counting no further than ``limit + 1``."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with unique keys and bounded nesting.

    Raises:
        ValueError: not JSON, a repeated key, or nested deeper than ``max_depth``
            (``TooDeep``); UnicodeDecodeError for bytes that are not UTF-8.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if nesting_depth(data, max_depth) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(data, object_pairs_hook=unique_keys)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different; a repeated key is ambiguous
    (which value counts?), so it is refused rather than silently resolved."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in JSON object")
    return dict(pairs)
