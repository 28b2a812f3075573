"""Sealing as the phone does it (pwa/outbox code), in Python, for API tests."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def seal(content: dict[str, Any], *, record_id: str, kid: str, spki_b64: str) -> dict[str, str]:
    public = serialization.load_der_public_key(base64.b64decode(spki_b64))
    assert isinstance(public, rsa.RSAPublicKey)
    aes_key = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(12)
    data = AESGCM(aes_key).encrypt(iv, json.dumps(content).encode(), record_id.encode())
    wrapped = public.encrypt(
        aes_key,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return {"kid": kid, "key": b64(wrapped), "iv": b64(iv), "data": b64(data)}
