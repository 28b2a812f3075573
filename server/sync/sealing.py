"""Opening entries sealed on the phone.

An entry is encrypted with a fresh AES-256-GCM key, which is wrapped with
the server's RSA-OAEP (SHA-256) public key. The record id is the GCM
additional data, so a sealed body cannot be replayed under another id.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.sync.keys import KeyRing


class Unreadable(Exception):
    """The sealed entry cannot be opened (unknown key, tampered, malformed)."""


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise Unreadable("not text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Unreadable("not base64") from error


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
    try:
        aes_key = key.private_key.decrypt(
            _b64(sealed.get("key")),
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        plain = AESGCM(aes_key).decrypt(
            _b64(sealed.get("iv")), _b64(sealed.get("data")), record_id.encode()
        )
        content = json.loads(plain)
    # RecursionError: deeply nested JSON exhausts the parser's stack.
    except (ValueError, InvalidTag, UnicodeDecodeError, RecursionError) as error:
        raise Unreadable("cannot decrypt") from error
    if not isinstance(content, dict):
        raise Unreadable("not an object")
    return content
