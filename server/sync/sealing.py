"""Opening entries sealed on the phone.

An entry is sealed to the server's P-256 key with ECIES: the phone makes a
fresh ECDH key pair for each entry, derives an AES-256-GCM key from the
shared secret with HKDF-SHA-256 (salt: the ephemeral public key, info:
``INFO``), encrypts, and forgets the private half, so the phone cannot open
it again. The record id is the GCM additional data, so a sealed body cannot
be replayed under another id.

Why not RSA-OAEP, as before: unwrapping with a 3072-bit RSA key took
0.75 ms per entry, more than everything else the server does with it, and
the wrapped key was 384 bytes against the 65 of an ephemeral P-256 key,
on phones that pay for every byte.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.sync.keys import KeyRing

INFO = b"homeward-seal-v1"
ALGORITHM = "ECDH-ES-P256+HKDF-SHA256+A256GCM"


class Unreadable(Exception):
    """The sealed entry cannot be opened (unknown key, tampered, malformed)."""


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise Unreadable("not text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Unreadable("not base64") from error


def derive_key(shared: bytes, ephemeral: bytes) -> bytes:
    """The AES-256 key: HKDF-SHA-256 (RFC 5869), as WebCrypto's ``deriveBits`` on the phone."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral, info=INFO).derive(shared)


def unseal(sealed: Any, *, record_id: str, ring: KeyRing) -> dict[str, Any]:
    """The JSON object inside ``sealed``.

    Raises:
        Unreadable: anything at all wrong with it.
    """
    if not isinstance(sealed, dict):
        raise Unreadable("not an object")
    key = ring.keys.get(str(sealed.get("kid", "")))
    if key is None:
        raise Unreadable("unknown key")
    ephemeral = _b64(sealed.get("epk"))
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ephemeral)
        shared = key.private_key.exchange(ec.ECDH(), public)
        plain = AESGCM(derive_key(shared, ephemeral)).decrypt(
            _b64(sealed.get("iv")), _b64(sealed.get("data")), record_id.encode()
        )
        content = json.loads(plain)
    # RecursionError: deeply nested JSON exhausts the parser's stack.
    except (ValueError, InvalidTag, UnicodeDecodeError, RecursionError) as error:
        raise Unreadable("cannot decrypt") from error
    if not isinstance(content, dict):
        raise Unreadable("not an object")
    return content
