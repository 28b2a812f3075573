"""The server's VAPID key (RFC 8292): it signs every Web Push request, and
phones subscribe with its public half (``applicationServerKey``).

The key is made once and kept in ``$HOMEWARD_DATA_DIR/vapid_private.pem``
(owner-only, 0600). Every app server and ``homeward reminders run`` must use
the same file: a phone's subscription is bound to the public key it was made
with, and a push signed with another key is refused by its push service.
Losing the file means every phone must turn reminders on again.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

KEY_FILE = "vapid_private.pem"


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The VAPID private key, created on first use."""
    path = key_path(data_dir)
    if not path.exists():
        _create(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path} is not a P-256 private key")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written whole under a private name, then linked into place (as the
    # audit key is): an app server and a reminders run starting at the same
    # moment agree on one key, and nobody reads half a file.
    draft = path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def public_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The uncompressed public point, base64url without padding: what
    ``pushManager.subscribe({applicationServerKey})`` takes."""
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signer(key: ec.EllipticCurvePrivateKey) -> Vapid:
    """pywebpush's signer (py_vapid, RFC 8292 ``vapid t=…, k=…``) for ``key``."""
    return Vapid(private_key=key)
