import os
import subprocess
import sys

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from server.audit.models import AuditEvent
from server.audit.services import SYSTEM, Actor, record, verify
from server.settings import ROOT, Settings


async def five_events() -> None:
    for n in range(5):
        async with in_transaction():
            await record(
                actor=Actor(7, 1, "10.0.0.1", "phone"),
                action=f"test.event{n}",
                object_type="participant",
                object_id=str(n),
                detail={"n": n},
            )


def cli_verify(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return cli(settings, "verify", *args, env=env)


def cli(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return command(settings, "audit", *args, env=env)


def command(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_DATA_DIR": str(settings.data_dir),
        "HOMEWARD_SECRET_KEY": "x",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_intact_chain_verifies(orm: None, settings: Settings) -> None:
    await five_events()
    assert await verify() is None
    result = cli_verify(settings)
    assert result.returncode == 0 and "intact" in result.stdout


async def test_altered_event_is_found(orm: None, settings: Settings) -> None:
    await five_events()
    await AuditEvent.filter(id=3).update(detail={"n": 99})
    broken = await verify()
    assert broken is not None and broken.position == 3 and "altered" in broken.reason
    result = cli_verify(settings)
    assert result.returncode == 1 and "event 3" in result.stdout


async def test_removed_event_is_found(orm: None) -> None:
    await five_events()
    await AuditEvent.filter(id=2).delete()
    broken = await verify()
    assert broken is not None and broken.position == 2


async def test_removed_newest_events_are_found(orm: None) -> None:
    await five_events()
    await AuditEvent.filter(id__gte=4).delete()
    broken = await verify()
    assert broken is not None and "end" in broken.reason


@pytest.mark.parametrize("position", [1, 3])
async def test_inserted_event_is_found(orm: None, position: int) -> None:
    await five_events()
    conn = connections.get("default")
    # Make room and slip a forged event in, re-numbering the later ones.
    await conn.execute_script(f"UPDATE audit_event SET id = id + 100 WHERE id >= {position}")
    await conn.execute_script(f"UPDATE audit_event SET id = id - 99 WHERE id >= {100 + position}")
    genuine = await AuditEvent.get(id=position + 1)
    await AuditEvent.create(
        id=position,
        at=genuine.at,
        action="forged",
        prev_hash=genuine.prev_hash,
        hash="f" * 64,
        detail={},
    )
    broken = await verify()
    assert broken is not None and broken.position == position


async def test_events_never_hold_note_contents(orm: None) -> None:
    async with in_transaction():
        event = await record(
            actor=SYSTEM,
            action="session.created",
            object_type="session_log",
            object_id="abc",
            detail={"pillar": "family"},
        )
    assert set(event.detail) == {"pillar"}
