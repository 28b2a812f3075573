"""A software passkey: what a phone's authenticator does, per docs/client.md §1-2.

One P-256 key per credential (COSE alg -7, ES256), attestation "none",
flags UP|UV (and AT when registering), a sign count that grows at each use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40
ES256 = -7
AAGUID = bytes(16)  # a software authenticator has no model to name


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def client_data(kind: str, challenge: str, origin: str) -> bytes:
    """clientDataJSON: the challenge exactly as the options gave it."""
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


@dataclass
class Authenticator:
    """One discoverable credential for one RP, made at the first ``register``."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    user_handle: bytes = b""
    rp_id: str = ""
    sign_count: int = 0

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: ES256,  # alg
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def register(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """navigator.credentials.create(): RegistrationResponseJSON."""
        algorithms = [p["alg"] for p in options["pubKeyCredParams"]]
        assert ES256 in algorithms, algorithms
        assert options["authenticatorSelection"]["userVerification"] == "required"
        self.rp_id = options["rp"]["id"]
        self.user_handle = from_b64url(options["user"]["id"])
        excluded = {from_b64url(c["id"]) for c in options.get("excludeCredentials", [])}
        assert self.credential_id not in excluded, "this authenticator is already registered"
        attested = (
            AAGUID
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.cose_key()
        )
        auth_data = self._auth_data(UP | UV | AT) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        data = client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def sign_in(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """navigator.credentials.get(): AuthenticationResponseJSON."""
        assert options["rpId"] == self.rp_id
        self.sign_count += 1
        auth_data = self._auth_data(UP | UV)
        data = client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(
            auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256())
        )  # DER-encoded, as WebAuthn wants for ES256
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def _auth_data(self, flags: int) -> bytes:
        rp_id_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count)
