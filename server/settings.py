"""Every setting Homeward reads, in one place.

Settings come from ``HOMEWARD_*`` environment variables (see the table in the
README). ``Settings.from_env`` builds an immutable object; tests build their
own instead of mutating a global, and the app factory takes one.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config
from starlette.datastructures import Secret

LANGUAGES = ("kk", "ru", "ar", "fr", "en")
TIME_ZONES = ("Asia/Almaty", "Africa/Tunis", "Africa/Kampala", "UTC")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: Secret
    origin: str = "http://localhost:8000"
    default_language: str = "en"
    time_zone: str = "Asia/Almaty"
    invitation_hours: int = 72
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    max_body_bytes: int = 1_000_000
    redis_url: str = ""
    # Networks (CIDR) whose clients may read /metrics without signing in.
    metrics_networks: tuple[str, ...] = ()
    # The proxy addresses whose X-Forwarded-For/-Proto uvicorn believes (docs/deploy.md).
    forwarded_allow_ips: str = "127.0.0.1"
    # How many app servers share the database; above one they need Redis (`homeward check`).
    app_servers: int = 1
    # Admission control per app process (server/web/admission.py): sync
    # requests and pages running at once, waiting behind them, for how long,
    # and the Retry-After (base; up to twice it) of a 503 past that.
    sync_concurrency: int = 8
    sync_queue: int = 100
    page_concurrency: int = 16
    page_queue: int = 100
    queue_seconds: float = 30.0
    busy_retry_after: int = 5
    debug: bool = False
    # Empty: the audit key is kept in $HOMEWARD_DATA_DIR/audit_key (server.audit.keys).
    audit_key: Secret = field(default=Secret(""))
    locales_dir: Path = field(default=ROOT / "locales")

    @property
    def rp_id(self) -> str:
        """The WebAuthn relying-party id: the host of the public origin."""
        return urlsplit(self.origin).hostname or "localhost"

    @property
    def secure(self) -> bool:
        return self.origin.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        config = Config(environ=dict(os.environ if environ is None else environ))
        data_dir = Path(config("HOMEWARD_DATA_DIR", default=str(ROOT / "var"))).resolve()
        database_url = config(
            "HOMEWARD_DATABASE_URL", default=f"sqlite://{data_dir / 'homeward.sqlite3'}"
        )
        secret = config("HOMEWARD_SECRET_KEY", cast=Secret, default="")
        language = config("HOMEWARD_DEFAULT_LANGUAGE", default="en")
        if language not in LANGUAGES:
            raise ValueError(f"HOMEWARD_DEFAULT_LANGUAGE must be one of {LANGUAGES}")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=secret if str(secret) else _stored_secret(data_dir),  # type: ignore[arg-type]
            origin=config("HOMEWARD_ORIGIN", default="http://localhost:8000").rstrip("/"),
            default_language=language,
            time_zone=config("HOMEWARD_TIME_ZONE", default="Asia/Almaty"),
            invitation_hours=config("HOMEWARD_INVITATION_HOURS", cast=int, default=72),
            session_idle_minutes=config("HOMEWARD_SESSION_IDLE_MINUTES", cast=int, default=30),
            session_max_hours=config("HOMEWARD_SESSION_MAX_HOURS", cast=int, default=12),
            max_body_bytes=config("HOMEWARD_MAX_BODY_BYTES", cast=int, default=1_000_000),
            redis_url=config("HOMEWARD_REDIS_URL", default=""),
            metrics_networks=_networks(config("HOMEWARD_METRICS_NETWORKS", default="")),
            forwarded_allow_ips=config("HOMEWARD_FORWARDED_ALLOW_IPS", default="127.0.0.1"),
            app_servers=config("HOMEWARD_APP_SERVERS", cast=int, default=1),
            sync_concurrency=config("HOMEWARD_SYNC_CONCURRENCY", cast=int, default=8),
            sync_queue=config("HOMEWARD_SYNC_QUEUE", cast=int, default=100),
            page_concurrency=config("HOMEWARD_PAGE_CONCURRENCY", cast=int, default=16),
            page_queue=config("HOMEWARD_PAGE_QUEUE", cast=int, default=100),
            queue_seconds=config("HOMEWARD_QUEUE_SECONDS", cast=float, default=30.0),
            busy_retry_after=config("HOMEWARD_BUSY_RETRY_AFTER", cast=int, default=5),
            debug=config("HOMEWARD_DEBUG", cast=bool, default=False),
            audit_key=Secret(config("HOMEWARD_AUDIT_KEY", default="")),
        )


def _networks(text: str) -> tuple[str, ...]:
    """Comma-separated CIDR networks, checked now so a typo fails at start."""
    networks = tuple(part.strip() for part in text.split(",") if part.strip())
    for network in networks:
        ipaddress.ip_network(network, strict=False)  # raises ValueError on a typo
    return networks


def secure_data_dir(data_dir: Path) -> None:
    """Make what the service writes readable by the service alone.

    Called once at start (app factory, CLI). The umask covers every file made
    later, including SQLite's WAL and SHM beside the database, which open()
    calls we do not control create; the chmod tightens a folder made earlier
    under a looser umask. The data directory holds the database, the secret
    key and the sealing keys: nobody else on the machine has any use for them.
    """
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)


def _stored_secret(data_dir: Path) -> Secret:
    """Read the secret key kept in the data directory, creating it once.

    The key must survive restarts (and be shared by every app server), so it
    is written with owner-only permissions rather than regenerated.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; use its key
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return Secret(path.read_text().strip())
