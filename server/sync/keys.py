"""The server's sealing keys: phones encrypt outbox entries to the public
key; only the server holds the private key.

Keys live in ``$HOMEWARD_DATA_DIR/sync-keys/<kid>.pem`` (owner-only). The
newest is the current one; older ones are kept so entries sealed before a
rotation still open. Several app servers share the folder (or a copy).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass(frozen=True)
class SealingKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    def public_spki(self) -> str:
        """The public key as base64 SubjectPublicKeyInfo, which WebCrypto imports."""
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()


def _kid(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def generate(folder: Path) -> SealingKey:
    """Create a new key and make it the current one (rotation).

    The file takes the next number after the highest in the folder, not the
    count of files plus one: once an old key is deleted the count repeats a
    number in use, and "newest" would then depend on the kids' hex order.
    A lock on the folder keeps two rotations at once from sharing a number.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    kid = _kid(key)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    lock = os.open(folder / ".rotation.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index = max((_number(path) for path in folder.glob("*.pem")), default=0) + 1
        path = folder / f"{index:04d}-{kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    finally:
        os.close(lock)  # closing releases the lock
    return SealingKey(kid, key)


@dataclass(frozen=True)
class KeyFile:
    """One key on disk, for ``homeward keys list``."""

    kid: str
    path: Path
    made_at: datetime
    current: bool


def key_files(folder: Path) -> list[KeyFile]:
    """The keys in ``folder``, oldest first; the last is the current one."""
    paths = sorted(folder.glob("*.pem"), key=_number) if folder.exists() else []
    return [
        KeyFile(
            _kid_of_path(path),
            path,
            datetime.fromtimestamp(path.stat().st_mtime, UTC),
            current=index == len(paths) - 1,
        )
        for index, path in enumerate(paths)
    ]


def _number(path: Path) -> int:
    prefix = path.stem.split("-", 1)[0]
    return int(prefix) if prefix.isdigit() else 0


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, SealingKey]
    current: SealingKey

    @classmethod
    def load(cls, folder: Path) -> KeyRing:
        """Read every key in ``folder``, creating the first one if there is none."""
        keys: dict[str, SealingKey] = {}
        newest = ""
        for path in sorted(folder.glob("*.pem"), key=_number) if folder.exists() else []:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            # RSA keys of the first sealing scheme: nothing sealed with them
            # was ever deployed, so they are passed over (see sealing.py).
            if isinstance(loaded, ec.EllipticCurvePrivateKey):
                key = SealingKey(_kid(loaded), loaded)
                keys[key.kid] = key
                newest = _kid_of_path(path)
        if not keys:
            first = generate(folder)
            return cls({first.kid: first}, first)
        return cls(keys, keys[newest])


def _kid_of_path(path: Path) -> str:
    return path.stem.split("-", 1)[1]
