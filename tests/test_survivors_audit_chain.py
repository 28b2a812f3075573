"""The audit MAC's input is a stored contract (server/audit/chain.py): events
sealed by one server, or one release, must verify on another. So its exact
bytes are pinned here, written out by hand, and the MAC is recomputed with
hmac/hashlib directly rather than by the code under test."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from server.audit import chain

KEY = b"k" * 32
PREV = "ab" * 32
FIVE_EAST = datetime(2020, 1, 1, 5, 0, 0, 7, tzinfo=timezone(timedelta(hours=5)))  # 00:00 UTC


def fields() -> dict[str, object]:
    """Made inside each test, so the server's time zone of that test applies."""
    return chain.hashed_fields(**_args())  # type: ignore[arg-type]


CANONICAL = (
    '{"action":"participant.read","actor_id":null,"at":"2020-01-01T00:00:00.000007+00:00",'
    '"chain_version":2,"detail":{"n":1,"on":"2020-01-02"},"device":"phone \\u00e9","id":3,'
    '"ip":"192.0.2.1","object_id":"p-1","object_organisation_id":null,'
    '"object_type":"participant","organisation_id":2,"prev_hash":"' + PREV + '"}'
)
LEGACY = (
    '{"action":"participant.read","actor_id":null,"at":"2020-01-01T00:00:00.000007+00:00",'
    '"detail":{"n":1,"on":"2020-01-02"},"device":"phone \\u00e9","id":3,'
    '"ip":"192.0.2.1","object_id":"p-1","object_type":"participant","organisation_id":2,'
    '"prev_hash":"' + PREV + '"}'
)


@pytest.fixture
def far_east_server(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A server whose local time zone is not UTC."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_mac_covers_exactly_these_bytes(far_east_server: None) -> None:
    expected = hmac.new(KEY, CANONICAL.encode(), hashlib.sha256).hexdigest()
    assert chain.event_mac(fields(), PREV, KEY) == expected


def test_the_version_1_link_is_sha256_of_these_bytes(far_east_server: None) -> None:
    expected = hashlib.sha256(LEGACY.encode()).hexdigest()
    assert chain.legacy_hash(fields(), PREV) == expected


def test_the_time_is_sealed_in_utc_whatever_zone_it_came_in(far_east_server: None) -> None:
    assert fields()["at"] == "2020-01-01T00:00:00.000007+00:00"
    same_moment = chain.hashed_fields(
        **{**_args(), "at": datetime(2020, 1, 1, 0, 0, 0, 7, tzinfo=UTC)}
    )  # type: ignore[arg-type]
    assert chain.event_mac(same_moment, PREV, KEY) == chain.event_mac(fields(), PREV, KEY)


def _args() -> dict[str, object]:
    return {
        "id": 3,
        "at": FIVE_EAST,
        "actor_id": None,
        "organisation_id": 2,
        "object_organisation_id": None,
        "action": "participant.read",
        "object_type": "participant",
        "object_id": "p-1",
        "ip": "192.0.2.1",
        "device": "phone é",
        "detail": {"on": date(2020, 1, 2), "n": 1},
    }
