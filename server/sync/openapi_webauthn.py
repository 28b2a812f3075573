"""The shapes of the account routes, as OpenAPI 3.0 schema objects: who is
signed in, and the WebAuthn ceremonies (py_webauthn's JSON, the W3C
"…JSON" dictionaries). Their options are left open: a library update may add
W3C keys a client should ignore. See openapi_schemas.py for the sync shapes.
"""

from __future__ import annotations

from typing import Any

from server.enums import Role
from server.settings import LANGUAGES
from server.sync.openapi_schemas import B64URL, _closed, _nullable, _string

ME = _closed(
    ["id", "name", "role", "language", "time_zone", "country"],
    {
        "id": {"type": "integer", "description": "the user id; the `author` of sealed content"},
        "name": _string("the name on the invitation"),
        "role": {"type": "string", "enum": [r.value for r in Role]},
        "language": {"type": "string", "enum": list(LANGUAGES)},
        "time_zone": _string("IANA zone; dates and times typed in forms are local to it"),
        "country": _nullable(
            _string("the organisation's country code (KZ, TN, UG…), for date formats")
        ),
    },
)

CREATION_OPTIONS = {
    "type": "object",
    "description": "PublicKeyCredentialCreationOptionsJSON. Every byte string is " + B64URL,
    "required": [
        "rp",
        "user",
        "challenge",
        "pubKeyCredParams",
        "timeout",
        "authenticatorSelection",
        "attestation",
    ],
    "properties": {
        "rp": {
            "type": "object",
            "required": ["name", "id"],
            "properties": {
                "name": _string(example="Homeward"),
                "id": _string("the RP id: the host of the server's origin"),
            },
        },
        "user": {
            "type": "object",
            "required": ["id", "name", "displayName"],
            "properties": {
                "id": _string("the user handle (32 random bytes), " + B64URL),
                "name": _string(),
                "displayName": _string(),
            },
        },
        "challenge": _string("64 random bytes, " + B64URL),
        "pubKeyCredParams": {
            "type": "array",
            "description": "accepted: -8 (EdDSA), -7 (ES256), -257 (RS256)",
            "items": {
                "type": "object",
                "required": ["type", "alg"],
                "properties": {"type": {"enum": ["public-key"]}, "alg": {"type": "integer"}},
            },
        },
        "timeout": {"type": "integer", "description": "milliseconds"},
        "excludeCredentials": {
            "type": "array",
            "description": "the user's live passkeys (recovery and adding a passkey)",
            "items": {
                "type": "object",
                "required": ["id", "type"],
                "properties": {"id": _string(B64URL), "type": {"enum": ["public-key"]}},
            },
        },
        "authenticatorSelection": {
            "type": "object",
            "properties": {
                "residentKey": {"enum": ["required"]},
                "requireResidentKey": {"type": "boolean"},
                "userVerification": {"enum": ["required"]},
            },
        },
        "attestation": {"enum": ["none"]},
    },
}

REQUEST_OPTIONS = {
    "type": "object",
    "description": "PublicKeyCredentialRequestOptionsJSON (discoverable credential: "
    "allowCredentials is empty). Byte strings are " + B64URL,
    "required": ["challenge", "timeout", "rpId", "userVerification"],
    "properties": {
        "challenge": _string("64 random bytes, " + B64URL),
        "timeout": {"type": "integer"},
        "rpId": _string(),
        "allowCredentials": {"type": "array", "maxItems": 0},
        "userVerification": {"enum": ["required"]},
    },
}

CLIENT_DATA = (
    "clientDataJSON bytes, " + B64URL + ": UTF-8 JSON with `type` (webauthn.create or "
    "webauthn.get), `challenge` (the options' challenge, as sent) and `origin` (the "
    "server's origin exactly, e.g. https://homeward.example.org); `crossOrigin` false or absent"
)

REGISTRATION_CREDENTIAL = {
    "type": "object",
    "description": "RegistrationResponseJSON, as navigator.credentials.create() gives it",
    "required": ["id", "rawId", "type", "response"],
    "properties": {
        "id": _string("the credential id, " + B64URL + "; must equal rawId"),
        "rawId": _string(B64URL),
        "type": {"enum": ["public-key"]},
        "response": {
            "type": "object",
            "required": ["clientDataJSON", "attestationObject"],
            "properties": {
                "clientDataJSON": _string(CLIENT_DATA),
                "attestationObject": _string(
                    "CBOR map {fmt, attStmt, authData}, " + B64URL + ". fmt `none` with an "
                    "empty attStmt is accepted (also packed, tpm, apple, android-key, "
                    "android-safetynet, fido-u2f); authData flags must have UP and UV and "
                    "AT, rpIdHash = SHA-256(rp id)"
                ),
                "transports": {"type": "array", "items": {"type": "string"}},
            },
        },
        "authenticatorAttachment": {"enum": ["platform", "cross-platform"]},
        "clientExtensionResults": {"type": "object", "description": "ignored"},
    },
}

AUTHENTICATION_CREDENTIAL = {
    "type": "object",
    "description": "AuthenticationResponseJSON, as navigator.credentials.get() gives it",
    "required": ["id", "rawId", "type", "response"],
    "properties": {
        "id": _string("the credential id, " + B64URL + "; must equal rawId"),
        "rawId": _string(B64URL),
        "type": {"enum": ["public-key"]},
        "response": {
            "type": "object",
            "required": ["clientDataJSON", "authenticatorData", "signature", "userHandle"],
            "properties": {
                "clientDataJSON": _string(CLIENT_DATA),
                "authenticatorData": _string(
                    "rpIdHash (32) | flags (1: UP 0x01 and UV 0x04 required) | signCount "
                    "(4, big-endian; 0 forever, or growing at every use), " + B64URL
                ),
                "signature": _string(
                    "over authenticatorData | SHA-256(clientDataJSON): ES256 as a DER "
                    "ECDSA-Sig-Value, " + B64URL
                ),
                "userHandle": _string("the user.id of the creation options (required)"),
            },
        },
        "authenticatorAttachment": {"enum": ["platform", "cross-platform"]},
        "clientExtensionResults": {"type": "object", "description": "ignored"},
    },
}

SIGNED_IN = _closed(
    ["ok", "redirect"],
    {
        "ok": {"enum": [True]},
        "redirect": _string("where a browser goes next ('/')"),
    },
)

PASSKEY_ADDED = _closed(
    ["ok", "redirect"], {"ok": {"enum": [True]}, "redirect": {"enum": ["/account"]}}
)


SCHEMAS: dict[str, Any] = {
    "Me": ME,
    "CreationOptions": CREATION_OPTIONS,
    "RequestOptions": REQUEST_OPTIONS,
    "RegistrationCredential": REGISTRATION_CREDENTIAL,
    "AuthenticationCredential": AUTHENTICATION_CREDENTIAL,
    "SignedIn": SIGNED_IN,
    "PasskeyAdded": PASSKEY_ADDED,
}
