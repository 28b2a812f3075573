"""`homeward check`: one hand-written line per thing a production set-up gets wrong."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from server import db
from server.audit import keys as audit_keys
from server.ops import check
from server.settings import ROOT, Settings
from server.sync.keys import KeyRing
from tests.conftest import BACKEND
from tests.support import pg

# Only pinged, never written: the Redis the other tests already use.
REDIS_URL = os.environ.get("HOMEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "0123456789abcdef" * 4  # 64 characters, written nowhere else

CLOCK_OK = (
    "ok: clock: within 30 s of the database server"
    if BACKEND == "postgres"
    else "ok: clock: not compared (SQLite: the database is on this machine)"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A data directory as `homeward migrate` leaves it: the audit key and a sealing key."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    old = os.umask(0o077)
    try:
        settings = {"HOMEWARD_DATA_DIR": str(data), "HOMEWARD_SECRET_KEY": SECRET}
        audit_keys.load(Settings.from_env(settings))
        KeyRing.load(data / "sync-keys")
    finally:
        os.umask(old)
    return data


def environ(folder: Path, database_url: str, **changes: str) -> dict[str, str]:
    good = {
        "HOMEWARD_ORIGIN": "https://homeward.example.org",
        "HOMEWARD_DATABASE_URL": database_url,
        "HOMEWARD_SECRET_KEY": SECRET,
        "HOMEWARD_DATA_DIR": str(folder),
        "HOMEWARD_REDIS_URL": REDIS_URL,
        "HOMEWARD_APP_SERVERS": "2",
        "HOMEWARD_FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    return {k: v for k, v in {**good, **changes}.items() if v != "<unset>"}


def good_lines(folder: Path) -> list[str]:
    return [
        "ok: origin: https://homeward.example.org is https",
        "ok: secret key: set in HOMEWARD_SECRET_KEY (64 characters)",
        f"ok: data directory: {folder} and everything in it are the owner's alone",
        "ok: proxy: X-Forwarded-For believed from 127.0.0.1 only",
        "ok: redis: redis://127.0.0.1:6379/13 answers",
        "ok: migrations: every migration is applied",
        CLOCK_OK,
    ]


async def lines(env: dict[str, str], clock: check.Clock = check.now) -> list[str]:
    return [finding.line() for finding in await check.run(env, clock)]


async def test_a_good_set_up_is_all_ok(folder: Path, database_url: str) -> None:
    assert await lines(environ(folder, database_url)) == good_lines(folder)


async def test_http_origin_outside_localhost(folder: Path, database_url: str) -> None:
    found = await lines(
        environ(folder, database_url, HOMEWARD_ORIGIN="http://homeward.example.org")
    )
    assert found[0] == (
        "problem: origin: HOMEWARD_ORIGIN is http://homeward.example.org; outside localhost"
        " it must be https:// (passkeys need it, and cookies would travel in clear)"
    )
    assert found[1:] == good_lines(folder)[1:]


async def test_http_on_localhost_is_not_a_problem(folder: Path, database_url: str) -> None:
    found = await lines(environ(folder, database_url, HOMEWARD_ORIGIN="http://localhost:8000"))
    assert (
        found[0]
        == "ok: origin: http://localhost:8000 is http on this machine only (not for real use)"
    )


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (
            "too-short-a-secret",
            "problem: secret key: HOMEWARD_SECRET_KEY has 18 characters; it needs at least 32"
            " (`openssl rand -hex 32`)",
        ),
        (
            "change-me-to-the-output-of-openssl-rand-hex-32",
            "problem: secret key: HOMEWARD_SECRET_KEY is a placeholder written in public;"
            " make one with `openssl rand -hex 32`",
        ),
        (
            "test-secret-key-not-for-production",
            "problem: secret key: HOMEWARD_SECRET_KEY is a placeholder written in public;"
            " make one with `openssl rand -hex 32`",
        ),
    ],
)
async def test_weak_secret_keys(
    folder: Path, database_url: str, secret: str, expected: str
) -> None:
    found = await lines(environ(folder, database_url, HOMEWARD_SECRET_KEY=secret))
    assert found[1] == expected
    assert found[2:] == good_lines(folder)[2:]


async def test_missing_secret_key_is_reported_and_not_made(folder: Path, database_url: str) -> None:
    found = await lines(environ(folder, database_url, HOMEWARD_SECRET_KEY="<unset>"))
    assert found[1] == (
        f"problem: secret key: HOMEWARD_SECRET_KEY is not set and {folder}/secret_key does not"
        " exist; set it in the environment file (`openssl rand -hex 32`)"
    )
    assert not (folder / "secret_key").exists()  # it only looks


async def test_a_stored_secret_key_that_others_can_read(folder: Path, database_url: str) -> None:
    stored = folder / "secret_key"
    stored.write_text(secrets.token_hex(32))
    stored.chmod(0o644)
    found = await lines(environ(folder, database_url, HOMEWARD_SECRET_KEY="<unset>"))
    assert found[1:3] == [
        f"ok: secret key: kept in {folder}/secret_key",
        f"problem: data directory: {folder}/secret_key has mode 0644; only the service's user"
        f" may read it: `chmod 600 {folder}/secret_key`",
    ]


def _loosen(folder: Path) -> Path:
    folder.chmod(0o755)
    (folder / "audit_key").chmod(0o640)
    key = next((folder / "sync-keys").glob("*.pem"))
    key.chmod(0o604)
    return key


async def test_data_directory_and_key_files_readable_by_others(
    folder: Path, database_url: str
) -> None:
    key = _loosen(folder)
    found = await lines(environ(folder, database_url))
    assert found[2:6] == [
        f"problem: data directory: {folder} has mode 0755; others on this machine can open it:"
        f" `chmod 700 {folder}`",
        f"problem: data directory: {folder}/audit_key has mode 0640; only the service's user"
        f" may read it: `chmod 600 {folder}/audit_key`",
        f"problem: data directory: {key} has mode 0604; only the service's user"
        f" may read it: `chmod 600 {key}`",
        "ok: proxy: X-Forwarded-For believed from 127.0.0.1 only",
    ]


async def test_missing_keys(folder: Path, database_url: str) -> None:
    (folder / "audit_key").unlink()
    for key in (folder / "sync-keys").glob("*.pem"):
        key.unlink()
    found = await lines(environ(folder, database_url))
    assert found[2:5] == [
        f"problem: audit key: {folder}/audit_key is missing; run `homeward migrate`, or put back"
        " the one from your backup if the trail already has events",
        f"problem: sync keys: no key in {folder}/sync-keys; run `homeward migrate`",
        "ok: proxy: X-Forwarded-For believed from 127.0.0.1 only",
    ]


async def test_missing_data_directory(tmp_path: Path, database_url: str) -> None:
    found = await lines(environ(tmp_path / "nowhere", database_url))
    assert found[2] == (
        f"problem: data directory: {tmp_path}/nowhere does not exist; run `homeward migrate`"
        " (it makes the folder and the keys)"
    )
    assert not (tmp_path / "nowhere").exists()


async def test_several_servers_without_redis(folder: Path, database_url: str) -> None:
    found = await lines(environ(folder, database_url, HOMEWARD_REDIS_URL="<unset>"))
    assert found[4] == (
        "problem: redis: HOMEWARD_APP_SERVERS is 2 but HOMEWARD_REDIS_URL is empty;"
        " each server would count sign-in attempts on its own"
    )
    one = await lines(
        environ(folder, database_url, HOMEWARD_REDIS_URL="<unset>", HOMEWARD_APP_SERVERS="1")
    )
    assert one[4] == "ok: redis: not used (one app server keeps its rate limits in memory)"


async def test_redis_unreachable_without_showing_its_password(
    folder: Path, database_url: str
) -> None:
    found = await lines(
        environ(folder, database_url, HOMEWARD_REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
    )
    assert found[4] == "problem: redis: cannot reach redis://:***@127.0.0.1:1/0 (ConnectionError)"


async def test_proxy_headers_believed_from_anyone(folder: Path, database_url: str) -> None:
    found = await lines(environ(folder, database_url, HOMEWARD_FORWARDED_ALLOW_IPS="*"))
    assert found[3] == (
        "problem: proxy: HOMEWARD_FORWARDED_ALLOW_IPS is *; any client could claim any address:"
        " set it to the proxy's address"
    )


@pytest.fixture
def half_migrated(tmp_path: Path) -> Iterator[str]:
    """A database whose first migration is recorded as not applied."""
    if BACKEND == "postgres":
        name = f"homeward_check_{secrets.token_hex(4)}"
        url = asyncio.run(pg.create_database(name))
    else:
        url = f"sqlite://{tmp_path / 'half.sqlite3'}"
    asyncio.run(db.migrate(url))
    forget = "DELETE FROM tortoise_migrations WHERE name = '0001_initial'"
    if BACKEND == "postgres":

        async def run() -> None:
            conn = await asyncpg.connect(url)
            await conn.execute(forget)
            await conn.close()

        asyncio.run(run())
    else:
        with sqlite3.connect(tmp_path / "half.sqlite3") as conn:
            conn.execute(forget)
    yield url
    if BACKEND == "postgres":
        asyncio.run(pg.drop_database(name))


def test_migrations_not_applied(folder: Path, half_migrated: str) -> None:
    found = asyncio.run(lines(environ(folder, half_migrated)))
    assert found[5] == ("problem: migrations: 1 not applied (0001_initial); run `homeward migrate`")


async def test_missing_sqlite_database_is_not_created(folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite3"
    found = await lines(environ(folder, f"sqlite://{path}"))
    assert found[5:] == [f"problem: database: {path} does not exist; run `homeward migrate`"]
    assert not path.exists()


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has no server clock to compare")
@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        (
            timedelta(seconds=120),
            "problem: clock: this machine is 120 s ahead of the database server;"
            " keep both on NTP (systemd-timesyncd or chrony)",
        ),
        (
            timedelta(minutes=-5),
            "problem: clock: this machine is 300 s behind the database server;"
            " keep both on NTP (systemd-timesyncd or chrony)",
        ),
        (timedelta(seconds=20), "ok: clock: within 30 s of the database server"),
    ],
)
async def test_clock_skew_against_postgresql(
    folder: Path, database_url: str, shift: timedelta, expected: str
) -> None:
    found = await lines(environ(folder, database_url), lambda: datetime.now(UTC) + shift)
    assert found[6] == expected


@pytest.mark.skipif(BACKEND != "postgres", reason="a PostgreSQL server to fail to reach")
async def test_unreachable_postgresql(folder: Path) -> None:
    found = await lines(environ(folder, "postgres://postgres@127.0.0.1:1/none"))
    assert len(found) == 6 and found[5].startswith("problem: database: cannot connect (")


def _command(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "check"],
        env={
            "PATH": os.environ["PATH"],
            **{k: v for k, v in os.environ.items() if k.startswith("COVERAGE")},
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_exits_zero_when_all_is_right_and_one_otherwise(
    folder: Path, database_url: str
) -> None:
    good = _command(environ(folder, database_url))
    assert (good.returncode, good.stdout.splitlines()) == (
        0,
        [*good_lines(folder), "Everything checked is right."],
    )
    folder.chmod(0o750)
    bad = _command(environ(folder, database_url, HOMEWARD_ORIGIN="http://10.0.0.5"))
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[-1] == "2 problem(s) found."
    assert (folder.stat().st_mode & 0o777) == 0o750  # reported, not changed
