"""A push service of our own for the tests: a phone's side of Web Push.

``PushService`` is a small Starlette app under uvicorn on 127.0.0.1 that
takes what pywebpush POSTs and keeps it. ``Phone`` is what a browser holds:
a P-256 key pair and an auth secret, from which it makes the subscription
it sends to Homeward. ``verify_vapid`` checks the ``Authorization: vapid
t=<JWT>, k=<key>`` header (RFC 8292) and ``decrypt`` opens the body (RFC 8291
with RFC 8188 aes128gcm), both written here from the RFCs with
``cryptography``'s primitives, never with pywebpush, py_vapid or http_ece.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class Phone:
    """A browser's push subscription: its keys stay here, in the test."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives a page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": b64url(_point(self.private_key.public_key())),
                "auth": b64url(self.auth),
            },
        }

    def decrypt(self, body: bytes) -> bytes:
        return decrypt(body, self.private_key, self.auth)


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """RFC 8291 section 3.4 and RFC 8188 section 2, step by step."""
    # RFC 8188 2.1: salt (16) | rs (uint32) | idlen (uint8) | keyid (the
    # application server's ephemeral public key, 65 bytes in Web Push).
    salt, (record_size,), id_length = body[:16], struct.unpack(">I", body[16:20]), body[20]
    assert id_length == 65, "keyid is the sender's uncompressed P-256 key"
    as_public_raw = body[21 : 21 + id_length]
    ciphertext = body[21 + id_length :]
    as_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public_raw)
    ua_public_raw = _point(ua_private.public_key())

    ecdh_secret = ua_private.exchange(ec.ECDH(), as_public)
    key_info = b"WebPush: info\x00" + ua_public_raw + as_public_raw
    # IKM = HKDF(salt=auth_secret, ikm=ecdh_secret, info=key_info, L=32)
    ikm = HKDF(algorithm=hashes.SHA256(), length=32, salt=auth_secret, info=key_info).derive(
        ecdh_secret
    )
    # PRK = HKDF-Extract(salt, IKM); CEK and NONCE are HKDF-Expand(PRK, info)
    # (cryptography's HKDF is Extract then Expand, as the RFC writes it).
    cek = HKDF(
        algorithm=hashes.SHA256(), length=16, salt=salt, info=b"Content-Encoding: aes128gcm\x00"
    ).derive(ikm)
    nonce = HKDF(
        algorithm=hashes.SHA256(), length=12, salt=salt, info=b"Content-Encoding: nonce\x00"
    ).derive(ikm)

    records = [ciphertext[i : i + record_size] for i in range(0, len(ciphertext), record_size)]
    plain = b""
    for seq, record in enumerate(records):
        # RFC 8188 2.3: the nonce is NONCE XOR the record's sequence number.
        record_nonce = (int.from_bytes(nonce, "big") ^ seq).to_bytes(12, "big")
        padded = AESGCM(cek).decrypt(record_nonce, record, None)
        stripped = padded.rstrip(b"\x00")
        last = seq == len(records) - 1
        assert stripped[-1:] == (b"\x02" if last else b"\x01"), "padding delimiter"
        plain += stripped[:-1]
    return plain


@dataclass(frozen=True)
class Vapid:
    public_key: bytes
    claims: dict[str, Any]


def verify_vapid(header: str, *, audience: str, now: float) -> Vapid:
    """Check ``vapid t=<JWT>, k=<key>`` (RFC 8292): ES256 over the JWT with
    the key k, for ``audience``, not expired and not valid for over 24 hours."""
    scheme, _, rest = header.partition(" ")
    assert scheme == "vapid"
    params = dict(part.strip().split("=", 1) for part in rest.split(","))
    token, raw_key = params["t"], unb64url(params["k"])
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_key)
    head, claims_part, signature = token.split(".")
    assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
    raw_signature = unb64url(signature)
    assert len(raw_signature) == 64, "JWS ES256: r and s, 32 bytes each"
    der = encode_dss_signature(
        int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big")
    )
    try:
        key.verify(der, f"{head}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID JWT is not signed by the key k") from None
    claims = json.loads(unb64url(claims_part))
    assert claims["aud"] == audience
    assert now < claims["exp"] <= now + 24 * 3600
    assert claims["sub"].startswith(("https://", "mailto:"))
    return Vapid(raw_key, claims)


@dataclass
class Received:
    name: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """Answers each phone (by the last part of its endpoint) with ``answers``."""

    origin: str
    received: list[Received] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def to(self, name: str) -> list[Received]:
        return [r for r in self.received if r.name == name]

    async def _take(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.received.append(Received(name, dict(request.headers), await request.body()))
        return Response(status_code=self.answers.get(name, 201))


@asynccontextmanager
async def push_service() -> AsyncIterator[PushService]:
    """The service on a port of 127.0.0.1 bound before it is announced, so a
    request sent at once waits in the socket's queue instead of failing."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    service = PushService(origin=f"http://127.0.0.1:{sock.getsockname()[1]}")
    app = Starlette(routes=[Route("/push/{name}", service._take, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield service
    finally:
        server.should_exit = True
        await task
        sock.close()
