"""Sealing as the phone does it (pwa/outbox code), in Python, for API tests."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"homeward-seal-v1"  # the protocol's constant, written out again on purpose


def seal(content: dict[str, Any], *, record_id: str, kid: str, spki_b64: str) -> dict[str, str]:
    """ECIES to the server's P-256 key, step by step as pwa/outbox/seal.js does it."""
    public = serialization.load_der_public_key(base64.b64decode(spki_b64))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    epk = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    # HKDF written out with the cryptography package, not server code, so a
    # mistake in the server's derivation shows up as an unreadable entry.
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk, info=INFO).derive(
        ephemeral.exchange(ec.ECDH(), public)
    )
    iv = os.urandom(12)
    data = AESGCM(aes_key).encrypt(iv, json.dumps(content).encode(), record_id.encode())

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return {"kid": kid, "epk": b64(epk), "iv": b64(iv), "data": b64(data)}


def family_values(participant_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid answers to the family-engagement form (v1), as a phone sends them."""
    from datetime import UTC, datetime, timedelta

    values: dict[str, Any] = {
        "participant": participant_id,
        "occurred_on": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
        "occurred_time": "09:15",
        "attendance": "attended",
        "duration_minutes": 60,
        "place": "Office",
        "engagement": 3,
        "notes": "",
        "follow_up": "no",
        "family_present": ["mother"],
        "setting": "office",
        "family_readiness": 4,
        "family_concerns": ["none"],
    }
    values.update(overrides)
    return values


def session_log_entry(
    *,
    author: int,
    values: dict[str, Any],
    key: dict[str, str],
    record_id: str = "",
    **content: Any,
) -> dict[str, Any]:
    """One outbox entry as the phone pushes it: a session log sealed to ``key``."""
    import uuid

    record_id = record_id or str(uuid.uuid4())
    body = {
        "author": author,
        "pillar": "family",
        "form_version": 1,
        "values": values,
        "appointment": None,
        **content,
    }
    sealed = seal(body, record_id=record_id, kid=key["kid"], spki_b64=key["spki"])
    return {"id": record_id, "type": "session_log", "sealed": sealed}
