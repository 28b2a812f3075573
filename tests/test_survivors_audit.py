"""The audit trail's writing, checking and key (server/audit/services.py,
verification.py, keys.py), written against mutants that survived the audit
tests (issue 15): exact break positions and reasons, anchors, the key file,
what one event stores, and the legacy upgrade. Expected values by hand.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Secret
from tortoise import connections
from tortoise.transactions import in_transaction

from server.audit import keys, services, verification
from server.audit.chain import Break
from server.audit.models import AuditEvent, AuditHead
from server.audit.services import Actor, Event, OutsideTransaction, record, record_many, upgrade
from server.audit.verification import Anchor, current_anchor, verify
from server.settings import Settings
from tests.test_audit import five_events
from tests.test_audit_chain import plain_sha256
from tests.test_survivors_audit_chain import far_east_server  # noqa: F401 (a fixture)

GENESIS = "0" * 64


# --- keys.py


def test_a_key_from_the_environment_must_be_long_enough(settings: Settings) -> None:
    with pytest.raises(
        ValueError, match=r"^HOMEWARD_AUDIT_KEY must be at least 32 characters long$"
    ):
        keys.load(replace(settings, audit_key=Secret("k" * 31)))
    assert keys.load(replace(settings, audit_key=Secret("k" * 32))) == b"k" * 32


def test_the_key_file_is_made_once_private_and_whole(settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"  # the directory does not exist yet
    fresh = replace(settings, data_dir=data, audit_key=Secret(""))
    key = keys.load(fresh)
    stored = data / "audit_key"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    text = stored.read_text()
    assert text.endswith("\n") and len(text) == 64 + 1  # 48 random bytes, base64url
    assert key == text.strip().encode()
    assert keys.load(fresh) == key  # read again, never made again
    assert sorted(p.name for p in data.iterdir()) == ["audit_key"]  # no draft left


def test_the_first_server_to_link_its_key_wins(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def another_server_first(draft: Any, path: Any) -> None:
        Path(path).write_text("the other server's key\n")
        real_link(draft, path)  # raises FileExistsError, as in a real race

    monkeypatch.setattr(keys.os, "link", another_server_first)
    fresh = replace(settings, data_dir=tmp_path, audit_key=Secret(""))
    assert keys.load(fresh) == b"the other server's key"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit_key"]


# --- verification.py: anchors


def test_an_anchor_is_written_and_read_back() -> None:
    anchor = Anchor(5, "ab" * 32)
    data = json.loads(anchor.dumps())
    assert (data["length"], data["mac"]) == (5, "ab" * 32)
    made = datetime.fromisoformat(data["made_at"])
    assert made.tzinfo is not None and made.microsecond == 0
    assert Anchor.loads(anchor.dumps()) == anchor
    assert Anchor.loads('{"length": 0, "mac": "' + "0" * 64 + '"}') == Anchor(0, "0" * 64)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[5]",
        '{"mac": "' + "ab" * 32 + '"}',
        '{"length": 5}',
        '{"length": "5", "mac": "' + "ab" * 32 + '"}',
        '{"length": -1, "mac": "' + "ab" * 32 + '"}',
        '{"length": 5, "mac": "' + "ab" * 31 + '"}',
        '{"length": 5, "mac": "' + "ab" * 32 + 'c"}',
        '{"length": 5, "mac": 7}',
    ],
)
def test_what_is_not_an_anchor(text: str) -> None:
    with pytest.raises(ValueError, match=r"^not an audit anchor: "):
        Anchor.loads(text)


# --- verification.py: the walk


async def test_a_long_trail_is_read_in_batches(orm: None, monkeypatch: pytest.MonkeyPatch) -> None:
    await five_events()
    monkeypatch.setattr(verification, "BATCH", 2)
    assert [e.id async for e in verification.all_events()] == [1, 2, 3, 4, 5]
    assert [e.id async for e in verification.all_events(upto=3)] == [1, 2, 3]
    assert await verify() is None
    head = await AuditHead.get(id=1)
    assert await verify(Anchor(5, head.hash)) is None
    assert await verify(Anchor(3, (await AuditEvent.get(id=3)).hash)) is None


async def test_each_break_is_named_where_it_is(orm: None) -> None:
    await five_events()
    third = await AuditEvent.get(id=3)
    assert await verify(Anchor(3, "cd" * 32)) == Break(
        3, "this event differs from the anchor: history was rewritten"
    )
    assert await verify(Anchor(7, "cd" * 32)) == Break(
        6,
        "the trail ends before the anchor (7 events): events were removed from the end",
    )
    await AuditEvent.filter(id=4).update(prev_hash=third.prev_hash)
    assert await verify() == Break(4, "the link to the previous event is broken")
    await AuditEvent.filter(id=4).delete()
    assert await verify() == Break(4, "an event is missing before this position")
    await AuditEvent.filter(id=5).delete()
    assert await verify() == Break(4, "events were removed from the end")
    await AuditEvent.filter(id=2).update(object_id="x")
    assert await verify() == Break(2, "the event was altered (or sealed with another key)")


async def test_the_head_must_match_the_last_event(orm: None) -> None:
    await five_events()
    await AuditHead.filter(id=1).update(hash="ef" * 32)
    assert await verify() == Break(6, "events were removed from the end")
    assert await current_anchor() == (None, Break(6, "events were removed from the end"))


async def test_an_empty_trail_and_its_anchor(orm: None) -> None:
    assert await verify(Anchor(0, GENESIS)) is None
    assert await verify(Anchor(3, "ab" * 32)) == Break(
        1, "the trail is empty but the anchor has 3 events"
    )
    assert await current_anchor() == (Anchor(0, GENESIS), None)
    await five_events()
    head = await AuditHead.get(id=1)
    assert await current_anchor() == (Anchor(5, head.hash), None)
    await AuditHead.all().delete()
    assert await verify() == Break(1, "the chain's head record is missing")


# --- services.py: what one event stores


async def test_an_event_stores_who_where_and_for_which_organisation(orm: None) -> None:
    actor = Actor(7, 1, "1" * 70, "d" * 210)
    async with in_transaction():
        mine = await record(actor=actor, action="test.mine", object_type="x", object_id="1")
        theirs = await record(
            actor=actor,
            action="test.theirs",
            detail={"n": 2},
            organisation_id=3,
            object_organisation_id=4,
        )
    stored = await AuditEvent.all().order_by("id")
    assert [
        (e.id, e.action, e.actor_id, e.organisation_id, e.object_organisation_id, e.detail)
        for e in stored
    ] == [(1, "test.mine", 7, 1, None, {}), (2, "test.theirs", 7, 3, 4, {"n": 2})]
    assert (stored[0].object_type, stored[0].object_id) == ("x", "1")
    assert (stored[0].ip, stored[0].device) == ("1" * 64, "d" * 200)
    assert (mine.id, theirs.id) == (1, 2)
    assert stored[1].prev_hash == stored[0].hash and stored[0].prev_hash == GENESIS
    head = await AuditHead.get(id=1)
    assert (head.length, head.hash, head.version) == (2, stored[1].hash, 2)
    assert await verify() is None


async def test_nothing_to_write_touches_nothing(orm: None) -> None:
    async with in_transaction() as conn:
        assert await record_many(conn, Actor(), []) == []
    assert await AuditHead.all().count() == 0


@pytest.mark.parametrize(
    ("action", "alone"),
    [
        ("signin", True),
        ("participant.read", True),
        ("export.indicators", True),
        ("participant.updated", False),
        ("reading", False),
        ("report.export", False),
    ],
)
async def test_only_changes_must_come_with_their_transaction(
    orm: None, action: str, alone: bool
) -> None:
    assert services.standalone(action) is alone
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stored = await record(actor=Actor(7, 1), action=action)
    assert [w.category for w in caught] == ([] if alone else [OutsideTransaction])
    assert (await AuditEvent.get(id=stored.id)).action == action


# --- services.py: the upgrade of a chain from before keyed MACs


async def legacy_chain(length: int = 3) -> str:
    prev = GENESIS
    for n in range(1, length + 1):
        event = AuditEvent(
            id=n,
            at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
            actor_id=4,
            organisation_id=1,
            action="legacy.event",
            object_id=str(n),
            detail={"n": n},
            prev_hash=prev,
            hash="",
        )
        event.hash = plain_sha256(event, prev)
        await event.save()
        prev = event.hash
    await AuditHead.create(id=1, length=length, hash=prev, version=1)
    return prev


async def test_upgrading_nothing_creates_nothing(orm: None) -> None:
    assert await upgrade() == 0
    assert await AuditHead.all().count() == 0
    await five_events()
    assert await upgrade() == 0
    assert await AuditEvent.all().count() == 5


async def test_a_broken_legacy_chain_is_sealed_and_says_so(orm: None) -> None:
    head = await legacy_chain()
    await AuditEvent.filter(id=2).update(detail={"n": 20})
    assert await upgrade() == 3
    marker = await AuditEvent.get(id=4)
    assert (marker.action, marker.object_type) == ("audit.sealed", "audit")
    assert marker.detail == {"legacy_events": 3, "legacy_intact": False, "legacy_head": head}
    assert await verify() is None  # sealed from here on, whatever came before


async def test_an_upgrade_that_lost_the_race_seals_nothing(
    orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await legacy_chain()
    real_lock = services._lock_head

    async def sealed_meanwhile(conn: Any) -> AuditHead:
        # Another process sealed the chain between our first look and our lock.
        head = await real_lock(conn)
        return await services._seal_legacy(conn, head)

    monkeypatch.setattr(services, "_lock_head", sealed_meanwhile)
    assert await upgrade() == 0
    assert await AuditEvent.filter(action="audit.sealed").count() == 1
    assert await verify() is None


async def test_the_first_write_after_a_legacy_chain_seals_it(orm: None) -> None:
    await legacy_chain(2)
    async with in_transaction() as conn:
        rows = await record_many(conn, Actor(4, 1), [Event("test.after", "x", "9")])
    assert [(r.id, r.action) for r in rows] == [(4, "test.after")]
    assert [e.action for e in await AuditEvent.all().order_by("id")] == [
        "legacy.event",
        "legacy.event",
        "audit.sealed",
        "test.after",
    ]
    assert await verify() is None


async def test_a_chain_from_before_keyed_macs_asks_for_the_migration(orm: None) -> None:
    await legacy_chain()
    assert await verify() == Break(
        1,
        "the trail is still a plain hash chain from before keyed MACs; "
        "run `homeward migrate` to seal it with the audit key",
    )
    await AuditEvent.all().delete()
    await AuditHead.all().delete()
    assert await verify(Anchor(1, "ab" * 32)) == Break(
        1, "the trail is empty but the anchor has 1 events"
    )


async def legacy_verdict() -> Break | None:
    async with in_transaction() as conn:
        head = await AuditHead.get(id=1)
        return await verification.legacy_break(head, conn)


async def test_where_a_legacy_chain_was_broken(orm: None) -> None:
    last = await legacy_chain(4)
    assert await legacy_verdict() is None
    second = await AuditEvent.get(id=2)
    await AuditEvent.filter(id=3).update(prev_hash=GENESIS)  # in place, link broken
    assert await legacy_verdict() == Break(3, "an event is missing or out of place")
    await AuditEvent.filter(id=3).update(prev_hash=second.hash, detail={"n": 30})
    assert await legacy_verdict() == Break(3, "the event was altered")
    await AuditEvent.filter(id=3).update(detail={"n": 3})
    await AuditHead.filter(id=1).update(hash="ab" * 32)  # the head alone is wrong
    assert await legacy_verdict() == Break(5, "events were removed from the end")
    await AuditHead.filter(id=1).update(hash=last, length=5)  # the length alone
    assert await legacy_verdict() == Break(5, "events were removed from the end")
    await AuditHead.filter(id=1).update(length=4)
    await AuditEvent.filter(id=4).delete()
    # Renumbered, its link intact.
    await connections.get("default").execute_script("UPDATE audit_event SET id = 4 WHERE id = 3")
    assert await legacy_verdict() == Break(3, "an event is missing or out of place")


def test_a_script_without_an_installed_key_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(keys, "_installed", None)
    monkeypatch.setenv("HOMEWARD_AUDIT_KEY", "z" * 40)
    monkeypatch.setenv("HOMEWARD_SECRET_KEY", "s")
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    assert keys.current() == b"z" * 40
    assert keys.current() == b"z" * 40  # installed now


async def test_an_event_outside_its_transaction_is_flagged_where_it_was_written(
    orm: None, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("WARNING"):
        warnings.simplefilter("always")
        stored = await record(actor=Actor(7, 1), action="participant.updated")
    (warning,) = caught
    # Pointed at the caller, not at the audit module itself.
    assert str(warning.message) == "participant.updated"
    assert not warning.filename.endswith(("audit/services.py", "audit\\services.py"))
    assert caplog.messages == [
        "audit event participant.updated written outside its change's transaction"
    ]
    assert (stored.object_type, stored.object_id) == ("", "")


async def test_a_legacy_chain_of_many_events_is_sealed_in_batches(
    orm: None, caplog: pytest.LogCaptureFixture
) -> None:
    prev, rows = GENESIS, []
    for n in range(1, 502):  # more than one batch of 500
        event = AuditEvent(
            id=n,
            at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
            action="legacy.event",
            detail={},
            prev_hash=prev,
            hash="",
        )
        event.hash = prev = plain_sha256(event, prev)
        rows.append(event)
    await AuditEvent.bulk_create(rows)
    await AuditHead.create(id=1, length=501, hash=prev, version=1)
    with caplog.at_level("WARNING"):
        assert await upgrade() == 501
    assert caplog.messages == []  # intact: nothing to warn about
    assert await verify() is None
    assert (await AuditEvent.get(id=502)).action == "audit.sealed"


async def test_an_empty_legacy_chain_is_sealed_from_the_start(orm: None) -> None:
    await AuditHead.create(id=1, length=0, hash=GENESIS, version=1)
    assert await upgrade() == 0
    (marker,) = await AuditEvent.all()
    assert (marker.id, marker.prev_hash, marker.action) == (1, GENESIS, "audit.sealed")
    assert marker.detail == {"legacy_events": 0, "legacy_intact": True, "legacy_head": GENESIS}
    assert await verify() is None


async def test_a_broken_legacy_chain_is_reported_when_sealed(
    orm: None, caplog: pytest.LogCaptureFixture
) -> None:
    await legacy_chain()
    await AuditEvent.filter(id=2).update(detail={"n": 20})
    with caplog.at_level("WARNING"):
        await upgrade()
    assert caplog.messages == [
        "audit trail sealed, but its earlier chain was broken: "
        "Break(position=2, reason='the event was altered')"
    ]


@pytest.mark.usefixtures("far_east_server")  # a server whose local time is not UTC
async def test_events_are_stamped_with_the_time_in_utc(orm: None) -> None:
    async with in_transaction():
        await record(actor=Actor(7, 1), action="test.stamped")
    stored = await AuditEvent.get(action="test.stamped")
    assert abs(stored.at - datetime.now(UTC)) < timedelta(minutes=5)
    assert await verify() is None


async def test_a_removed_head_stops_writing_with_directions(orm: None) -> None:
    await five_events()
    await AuditHead.all().delete()
    with pytest.raises(RuntimeError) as raised:
        async with in_transaction():
            await record(actor=Actor(7, 1), action="test.after_removal")
    assert str(raised.value) == "The audit chain's head is missing; run `homeward audit verify`."
