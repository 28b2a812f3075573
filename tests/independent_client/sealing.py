"""Sealing a record for the server, per docs/client.md §6 (ECIES on P-256).

epk = a fresh P-256 key pair's public point, uncompressed (65 bytes);
key = HKDF-SHA-256(IKM = ECDH shared x-coordinate, salt = epk, info =
"homeward-seal-v1", 32 bytes); data = AES-256-GCM(key, iv, UTF-8 JSON,
AAD = the record id as text). Base64 is the standard alphabet, padded.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "ECDH-ES-P256+HKDF-SHA256+A256GCM"
INFO = b"homeward-seal-v1"


def seal(
    content: dict[str, Any],
    record_id: str,
    server_key: dict[str, str],
    *,
    ephemeral: ec.EllipticCurvePrivateKey | None = None,
    iv: bytes | None = None,
) -> dict[str, str]:
    """``{kid, epk, iv, data}`` for ``content`` under ``record_id``.

    ``ephemeral`` and ``iv`` are for worked examples only: a real client
    makes both fresh for every record.
    """
    assert server_key["alg"] == ALGORITHM, server_key["alg"]
    public = serialization.load_der_public_key(base64.b64decode(server_key["spki"]))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    private = ephemeral or ec.generate_private_key(ec.SECP256R1())
    epk = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    shared = private.exchange(ec.ECDH(), public)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk, info=INFO).derive(shared)
    nonce = iv or os.urandom(12)
    plaintext = json.dumps(content, ensure_ascii=False).encode()
    data = AESGCM(key).encrypt(nonce, plaintext, record_id.encode())
    return {
        "kid": server_key["kid"],
        "epk": base64.b64encode(epk).decode(),
        "iv": base64.b64encode(nonce).decode(),
        "data": base64.b64encode(data).decode(),
    }
