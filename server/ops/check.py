"""``homeward check``: what a production set-up gets wrong, one line each.

It only looks. Building the usual settings would write a secret key into
the data directory when none is set, and the CLI's start tightens the data
directory's mode: both would hide the very things reported here, so this
module reads the environment itself and changes nothing (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as redis
from tortoise import Tortoise, connections
from tortoise.migrations.executor import MigrationExecutor

from server import db
from server.audit.keys import KEY_FILE as AUDIT_KEY_FILE
from server.audit.keys import MIN_LENGTH
from server.settings import Settings

STORED_KEY = "secret_key"  # where server.settings keeps a generated secret key
SYNC_KEYS = "sync-keys"
MAX_SKEW_SECONDS = 30
# Secret keys that are written down somewhere public: the example environment
# file (deploy/homeward.env.example) and the tests'.
PLACEHOLDERS = frozenset(
    {
        "change-me-to-the-output-of-openssl-rand-hex-32",
        "test-secret-key-not-for-production",
        "change-me",
        "changeme",
        "secret",
    }
)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Finding:
    ok: bool
    topic: str
    text: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'problem'}: {self.topic}: {self.text}"


def _ok(topic: str, text: str) -> Finding:
    return Finding(True, topic, text)


def _problem(topic: str, text: str) -> Finding:
    return Finding(False, topic, text)


def settings_of(environ: Mapping[str, str]) -> Settings:
    """The settings the app servers would use, without making a secret key file."""
    given = environ.get("HOMEWARD_SECRET_KEY", "")
    return Settings.from_env({**environ, "HOMEWARD_SECRET_KEY": given or "not-read-by-check"})


def origin(settings: Settings) -> Finding:
    if settings.secure:
        return _ok("origin", f"{settings.origin} is https")
    if (urlsplit(settings.origin).hostname or "") in LOCAL_HOSTS:
        return _ok("origin", f"{settings.origin} is http on this machine only (not for real use)")
    return _problem(
        "origin",
        f"HOMEWARD_ORIGIN is {settings.origin}; outside localhost it must be https://"
        " (passkeys need it, and cookies would travel in clear)",
    )


def _secret_strength(name: str, value: str) -> Finding | None:
    if value.strip().lower() in PLACEHOLDERS:
        return _problem(
            "secret key",
            f"{name} is a placeholder written in public; make one with `openssl rand -hex 32`",
        )
    if len(value) < MIN_LENGTH:
        return _problem(
            "secret key",
            f"{name} has {len(value)} characters; it needs at least {MIN_LENGTH}"
            " (`openssl rand -hex 32`)",
        )
    return None


def secret_key(environ: Mapping[str, str], data_dir: Path) -> Finding:
    given = environ.get("HOMEWARD_SECRET_KEY", "")
    if given:
        weak = _secret_strength("HOMEWARD_SECRET_KEY", given)
        return weak or _ok("secret key", f"set in HOMEWARD_SECRET_KEY ({len(given)} characters)")
    path = data_dir / STORED_KEY
    if not path.is_file():
        return _problem(
            "secret key",
            f"HOMEWARD_SECRET_KEY is not set and {path} does not exist;"
            " set it in the environment file (`openssl rand -hex 32`)",
        )
    weak = _secret_strength(str(path), path.read_text().strip())
    return weak or _ok("secret key", f"kept in {path}")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def data_dir(settings: Settings) -> list[Finding]:
    """The folder and every file in it: the service's user's alone, keys present."""
    folder = settings.data_dir
    if not folder.is_dir():
        return [
            _problem(
                "data directory",
                f"{folder} does not exist;"
                " run `homeward migrate` (it makes the folder and the keys)",
            )
        ]
    found: list[Finding] = []
    if _mode(folder) & 0o077:
        found.append(
            _problem(
                "data directory",
                f"{folder} has mode {_mode(folder):04o}; others on this machine can open it:"
                f" `chmod 700 {folder}`",
            )
        )
    if not str(settings.audit_key) and not (folder / AUDIT_KEY_FILE).is_file():
        found.append(
            _problem(
                "audit key",
                f"{folder / AUDIT_KEY_FILE} is missing; run `homeward migrate`, or put back"
                " the one from your backup if the trail already has events",
            )
        )
    if str(settings.audit_key) and len(str(settings.audit_key)) < MIN_LENGTH:
        found.append(
            _problem(
                "audit key",
                f"HOMEWARD_AUDIT_KEY has {len(str(settings.audit_key))} characters;"
                f" it needs at least {MIN_LENGTH}",
            )
        )
    if not list((folder / SYNC_KEYS).glob("*.pem")):
        found.append(
            _problem("sync keys", f"no key in {folder / SYNC_KEYS}; run `homeward migrate`")
        )
    loose = sorted(
        path
        for path in folder.rglob("*")
        if not path.is_symlink() and _mode(path) & 0o077 and (path.is_file() or path.is_dir())
    )
    for path in loose:
        wanted = "700" if path.is_dir() else "600"
        found.append(
            _problem(
                "data directory",
                f"{path} has mode {_mode(path):04o}; only the service's user may read it:"
                f" `chmod {wanted} {path}`",
            )
        )
    if not found:
        found.append(_ok("data directory", f"{folder} and everything in it are the owner's alone"))
    return found


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


async def redis_reachable(settings: Settings) -> Finding:
    if not settings.redis_url:
        if settings.app_servers > 1:
            return _problem(
                "redis",
                f"HOMEWARD_APP_SERVERS is {settings.app_servers} but HOMEWARD_REDIS_URL is empty;"
                " each server would count sign-in attempts on its own",
            )
        return _ok("redis", "not used (one app server keeps its rate limits in memory)")
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as error:
        return _problem(
            "redis", f"cannot reach {_redacted(settings.redis_url)} ({type(error).__name__})"
        )
    finally:
        await client.aclose()
    return _ok("redis", f"{_redacted(settings.redis_url)} answers")


async def _pending_migrations() -> list[str]:
    config: dict[str, Any] = db.tortoise_config("sqlite://:memory:")["apps"]
    executor = MigrationExecutor(connections.get("default"), config)
    # Every migration on disk against every one recorded, rather than
    # tortoise's plan, which looks only at the newest (like Django's) and
    # so misses one skipped in the middle.
    await executor.loader.build_graph()
    applied = set(await executor.recorder.applied_migrations())
    return sorted(key.name for key in executor.loader.disk_migrations if key not in applied)


async def _database_clock() -> datetime:
    _, rows = await connections.get("default").execute_query("SELECT now() AS now")
    moment: datetime = rows[0]["now"]
    return moment


async def database(settings: Settings, clock: Clock) -> list[Finding]:
    """Migrations applied, and this machine's clock against the database server's."""
    sqlite = db.sqlite_path(settings.database_url)
    if sqlite is not None and not sqlite.is_file():
        # Connecting would create an empty file (or wait forever on a missing folder).
        return [_problem("database", f"{sqlite} does not exist; run `homeward migrate`")]
    try:
        await Tortoise.init(config=db.tortoise_config(settings.database_url))
        await connections.get("default").execute_query("SELECT 1")  # connects on first use
    except Exception as error:  # any driver failure: say so, check the rest
        await Tortoise.close_connections()
        return [_problem("database", f"cannot connect ({type(error).__name__}: {error})")]
    try:
        pending = await _pending_migrations()
        found = [
            _problem(
                "migrations",
                f"{len(pending)} not applied ({', '.join(pending)}); run `homeward migrate`",
            )
            if pending
            else _ok("migrations", "every migration is applied")
        ]
        if sqlite is not None:
            found.append(_ok("clock", "not compared (SQLite: the database is on this machine)"))
            return found
        before = clock()
        theirs = await _database_clock()
        after = clock()
        ours = before + (after - before) / 2
        skew = (ours - theirs).total_seconds()
        if abs(skew) > MAX_SKEW_SECONDS:
            side = "ahead of" if skew > 0 else "behind"
            found.append(
                _problem(
                    "clock",
                    f"this machine is {abs(skew):.0f} s {side} the database server;"
                    " keep both on NTP (systemd-timesyncd or chrony)",
                )
            )
        else:
            found.append(_ok("clock", f"within {MAX_SKEW_SECONDS} s of the database server"))
        return found
    finally:
        await Tortoise.close_connections()


def proxy(settings: Settings) -> Finding:
    if settings.forwarded_allow_ips.strip() == "*":
        return _problem(
            "proxy",
            "HOMEWARD_FORWARDED_ALLOW_IPS is *; any client could claim any address:"
            " set it to the proxy's address",
        )
    return _ok("proxy", f"X-Forwarded-For believed from {settings.forwarded_allow_ips} only")


def now() -> datetime:
    return datetime.now(UTC)


async def run(environ: Mapping[str, str], clock: Clock = now) -> list[Finding]:
    settings = settings_of(environ)
    return [
        origin(settings),
        secret_key(environ, settings.data_dir),
        *data_dir(settings),
        proxy(settings),
        await redis_reachable(settings),
        *await database(settings, clock),
    ]


def main(environ: Mapping[str, str] | None = None) -> int:
    """Print one line per finding; 1 when any is a problem."""
    try:
        findings = asyncio.run(run(os.environ if environ is None else environ))
    except ValueError as error:  # a setting that cannot even be read
        print(f"problem: settings: {error}")
        return 1
    for finding in findings:
        print(finding.line())
    problems = sum(1 for finding in findings if not finding.ok)
    print(f"{problems} problem(s) found." if problems else "Everything checked is right.")
    return 1 if problems else 0
