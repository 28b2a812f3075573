"""The audit key: what makes the chain's MACs unforgeable.

The key lives outside the database (``$HOMEWARD_DATA_DIR/audit_key``, or
``HOMEWARD_AUDIT_KEY``), so someone who can write the database but not read
the server's files cannot re-seal the chain after deleting or changing an
event. Every app server and the ``homeward`` command must use the same key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from server.settings import Settings

KEY_FILE = "audit_key"
MIN_LENGTH = 32  # characters of an operator-supplied key

_installed: bytes | None = None


def load(settings: Settings) -> bytes:
    """The key from ``HOMEWARD_AUDIT_KEY``, or from the data directory (made once).

    Raises:
        ValueError: the environment's key is too short to be a secret.
    """
    given = str(settings.audit_key)
    if given:
        if len(given) < MIN_LENGTH:
            raise ValueError(f"HOMEWARD_AUDIT_KEY must be at least {MIN_LENGTH} characters long")
        return given.encode()
    return _stored(settings.data_dir / KEY_FILE)


def install(key: bytes) -> None:
    """Make ``key`` the one this process seals and verifies the chain with."""
    global _installed
    _installed = key


def current() -> bytes:
    """The installed key; scripts that never installed one get the environment's."""
    if _installed is None:
        install(load(Settings.from_env()))
    assert _installed is not None
    return _installed


def _stored(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: a server
        # starting at the same moment sees no key or the full key, never half,
        # and the first link wins, so every process agrees on one key.
        draft = path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()
