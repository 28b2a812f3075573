"""The shapes of the JSON API, as OpenAPI 3.0 schema objects (see openapi.py).

Answers are described with ``additionalProperties: false``: a key the server
starts sending without describing it here fails the schemathesis run
(tests/test_hostile_fuzz.py), so a client writer can trust that every key is
listed. Who is signed in and the WebAuthn ceremonies: openapi_webauthn.py.
"""

from __future__ import annotations

from typing import Any

from server.enums import AppointmentStatus, FamilyResponse, Pillar
from server.forms.fields import FieldType
from server.settings import LANGUAGES
from server.sync.sealing import ALGORITHM, INFO
from server.sync.services import MAX_RECORDS

REJECTION_CODES = (
    "malformed",
    "unreadable",
    "not_author",
    "not_allowed",
    "unknown_form",
    "invalid",
    "no_consent",
    "pillar_not_referred",
)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        # OpenAPI 3.0 (JSON Schema draft 4) allows no empty `required`.
        **({"required": required} if required else {}),
        "properties": properties,
        "additionalProperties": False,
        **extra,
    }


def _string(description: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
B64URL = "base64url without padding (RFC 4648 §5)"

ERROR = _closed(
    ["error"],
    {
        "error": _closed(
            ["code", "message"],
            {
                "code": _string(
                    "machine code: sign_in_required (401), csrf or cross_origin (403), "
                    "not_found (404), method_not_allowed (405), passkey_failed (400), "
                    "invitation_unusable (410), too_large or batch_too_large (413), "
                    "unsupported_media_type (415), invalid (422), rate_limited (429), "
                    "server_error (500), busy (503)"
                ),
                "message": _string("the reason, in the user's language"),
            },
        )
    },
)

# --- Sync -----------------------------------------------------------------------

SEALING_KEY = _closed(
    ["kid", "spki", "alg"],
    {
        "kid": _string("16 hex digits: the first 8 bytes of SHA-256(spki DER)"),
        "spki": _string("the P-256 public key, DER SubjectPublicKeyInfo, standard base64"),
        "alg": {"type": "string", "enum": [ALGORITHM]},
    },
)

SEALED = _closed(
    ["kid", "epk", "iv", "data"],
    {
        "kid": _string("the kid of the server key it was sealed to (GET /api/sync/key)"),
        "epk": _string(
            "standard base64 (with padding) of the ephemeral P-256 public key, "
            "uncompressed point: 0x04 | X (32) | Y (32) = 65 bytes. AES-256 key = "
            f"HKDF-SHA-256(IKM = ECDH x-coordinate (32 bytes), salt = these 65 bytes, "
            f"info = '{INFO.decode()}', length 32)"
        ),
        "iv": _string("standard base64 of the 12-byte AES-GCM nonce, random per entry"),
        "data": _string(
            "standard base64 of AES-256-GCM(plaintext) = ciphertext | 16-byte tag; "
            "AAD = the record id in lowercase 8-4-4-4-12 form, UTF-8; plaintext = UTF-8 "
            "JSON of SessionLogContent or AppointmentResponseContent"
        ),
    },
)

SESSION_LOG_CONTENT = _closed(
    ["author", "pillar", "form_version", "values"],
    {
        "author": {"type": "integer", "description": "the signed-in user's id (GET /api/me)"},
        "pillar": {"type": "string", "enum": [p.value for p in Pillar]},
        "form_version": {"type": "integer", "description": "a version from the pull's forms"},
        "values": {
            "type": "object",
            "description": "field key → answer, for the form's fields only (an unknown "
            "key is an error): text, date YYYY-MM-DD, time HH:MM, choice key, number, "
            "'yes'/'no' (or true/false), a list of keys for multiple_choice, the "
            "participant's id for `participant`; hidden fields are dropped",
        },
        "appointment": _nullable(_string("the appointment this session fulfils", format="uuid")),
    },
    description="The plaintext sealed in a `session_log` record.",
)

APPOINTMENT_RESPONSE_CONTENT = _closed(
    ["author", "appointment", "response", "base_version"],
    {
        "author": {"type": "integer"},
        "appointment": _string(format="uuid"),
        "response": {"type": "string", "enum": [r.value for r in FamilyResponse]},
        "message": _string("at most 300 characters", maxLength=300),
        "base_version": {
            "type": "integer",
            "minimum": 0,
            "description": "the appointment's `version` as the phone showed it",
        },
    },
    description="The plaintext sealed in an `appointment_response` record (families).",
)

PUSH_REQUEST = _closed(
    ["records"],
    {
        "records": {
            "type": "array",
            "maxItems": MAX_RECORDS,
            "items": _closed(
                ["id", "type", "sealed"],
                {
                    "id": _string(
                        "made by the client (UUID, lowercase 8-4-4-4-12); the idempotency key",
                        format="uuid",
                    ),
                    "type": {"enum": ["session_log", "appointment_response"]},
                    "sealed": ref("Sealed"),
                },
            ),
        }
    },
)

RESULT = {
    "type": "object",
    "required": ["id", "status"],
    "additionalProperties": False,
    "properties": {
        "id": _string("the record's id, lowercase 8-4-4-4-12 (as sent when it was a UUID)"),
        "status": {"enum": ["stored", "already_stored", "conflict", "rejected"]},
        "code": {
            "type": "string",
            "enum": list(REJECTION_CODES),
            "description": "only when rejected",
        },
        "message": _string("only when rejected: the reason, in the user's language"),
        "errors": {
            **STRINGS,
            "description": "only when rejected: field key → message (code `invalid`), else {}",
        },
    },
}

PUSH_RESPONSE = _closed(
    ["results"],
    {"results": {"type": "array", "items": ref("RecordResult")}},
)

APPOINTMENT = _closed(
    [
        "id",
        "participant",
        "pillar",
        "starts_at",
        "ends_at",
        "place",
        "what_to_bring",
        "status",
        "version",
    ],
    {
        "id": _string(format="uuid"),
        "participant": _string("a participant id of `participants`", format="uuid"),
        "pillar": {"type": "string", "enum": [p.value for p in Pillar]},
        "starts_at": _string("ISO 8601 with offset", format="date-time"),
        "ends_at": _string(format="date-time"),
        "place": _string(),
        "what_to_bring": _string(),
        "status": {"type": "string", "enum": [s.value for s in AppointmentStatus]},
        "version": {"type": "integer"},
    },
)

FIELD = _closed(
    [
        "key",
        "type",
        "label",
        "help",
        "required",
        "show_when",
        "required_when",
        "choices",
        "min",
        "max",
        "max_length",
        "low_label",
        "high_label",
        "default_from",
        "messages",
        "gendered",
    ],
    {
        "key": _string(),
        "type": {"type": "string", "enum": [t.value for t in FieldType]},
        "label": _string(),
        "help": _string(),
        "required": {"type": "boolean"},
        "show_when": _nullable(
            {
                "type": "object",
                "description": "{field: [values]}: shown only when that field is shown "
                "and holds one of the values",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        ),
        "required_when": _nullable(
            {
                "type": "object",
                "description": "{field: [values]}: required only when that holds",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        ),
        "choices": {
            "type": "array",
            "items": _closed(
                ["key", "label", "exclusive"],
                {"key": _string(), "label": _string(), "exclusive": {"type": "boolean"}},
            ),
        },
        "min": _nullable({"type": "integer"}),
        "max": _nullable({"type": "integer"}),
        "max_length": _nullable({"type": "integer"}),
        "low_label": _string(),
        "high_label": _string(),
        "default_from": _nullable({"type": "string", "enum": ["user"]}),
        "messages": {**STRINGS, "description": "error code → message, translated"},
        "gendered": _nullable(
            {
                "type": "object",
                "description": "the label and answers worded for a participant who is "
                "`female` or `male`, where the language words them by gender; "
                "missing keys keep the plain wording",
                "additionalProperties": _closed(
                    [],
                    {"label": _string(), "choices": STRINGS},
                ),
            }
        ),
    },
)

FORM = _closed(
    [
        "pillar",
        "version",
        "hash",
        "language",
        "title",
        "moment",
        "clock_skew_minutes",
        "earliest_day",
        "messages",
        "sections",
        "fields",
    ],
    {
        "pillar": {"type": "string", "enum": [p.value for p in Pillar]},
        "version": {"type": "integer"},
        "hash": _string("SHA-256 of the definition, language-free"),
        "language": {"type": "string", "enum": list(LANGUAGES)},
        "title": _string(),
        "moment": _nullable(
            {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 2,
                "maxItems": 2,
                "description": "the date and time fields that say when the session was",
            }
        ),
        "clock_skew_minutes": {"type": "integer"},
        "earliest_day": _string(format="date"),
        "messages": STRINGS,
        "sections": {
            "type": "array",
            "items": _closed(
                ["title", "fields"],
                {"title": _string(), "fields": {"type": "array", "items": {"type": "string"}}},
            ),
        },
        "fields": {"type": "array", "items": ref("FormField")},
    },
)

FORMS = _closed(
    ["language", "direction", "latest", "forms"],
    {
        "language": {"type": "string", "enum": list(LANGUAGES)},
        "direction": {"type": "string", "enum": ["ltr", "rtl"]},
        "latest": {
            "type": "object",
            "description": "pillar → the version new logs should use",
            "additionalProperties": {"type": "integer"},
        },
        "forms": {"type": "array", "items": ref("Form")},
    },
)

CONFLICT_STATE = _closed(
    ["id", "resolved"],
    {
        "id": _string("the record id the conflict is about", format="uuid"),
        "resolved": {"type": "boolean"},
    },
)

STAFF_PULL = _closed(
    [
        "cursor",
        "participants",
        "appointments",
        "open_appointments",
        "records",
        "conflicts",
        "forms_hash",
    ],
    {
        "cursor": {"type": "integer", "minimum": 0, "description": "send back as `since`"},
        "participants": {
            "type": "array",
            "description": "the complete caseload, every time, by code",
            "items": _closed(
                ["id", "code", "gender", "pillars"],
                {
                    "id": _string(format="uuid"),
                    "code": _string("pseudonymous code"),
                    "pillars": {
                        "type": "array",
                        "description": "the pillars this user may log for the participant: "
                        "all four in their own organisation, the referred ones otherwise",
                        "items": _string(enum=["counselling", "education", "family", "vocational"]),
                    },
                    "gender": _nullable(
                        _string(
                            "`female` or `male` where the forms' wording follows it, else null",
                            enum=["female", "male", None],
                        )
                    ),
                },
            ),
        },
        "appointments": {
            "type": "array",
            "description": "appointments changed since `since` (all open ones of a caseload "
            "member whose record changed)",
            "items": ref("Appointment"),
        },
        "open_appointments": {
            "type": "array",
            "description": "the ids of every open appointment this user may hold, every time: "
            "drop any held appointment not among them (moved to another worker, for example)",
            "items": _string(format="uuid"),
        },
        "records": {
            "type": "array",
            "description": "the user's own session logs changed since `since`",
            "items": _closed(
                ["id", "status", "revision"],
                {
                    "id": _string(format="uuid"),
                    "status": {"enum": ["stored", "reviewed"]},
                    "revision": {"type": "integer", "minimum": 1},
                },
            ),
        },
        "conflicts": {"type": "array", "items": ref("ConflictState")},
        "forms_hash": _string("16 hex digits; send back as `forms`"),
        "forms": ref("Forms"),
    },
    description="A worker's or officer's pull (`forms` only when `forms` differed).",
)

FAMILY_APPOINTMENT = _closed(
    [
        "id",
        "starts_at",
        "ends_at",
        "place",
        "organisation",
        "with",
        "what_to_bring",
        "status",
        "response",
        "version",
        "pillar",
        "contact_phone",
        "latitude",
        "longitude",
        "moved_from",
        "answerable",
    ],
    {
        "id": _string(format="uuid"),
        "starts_at": _string(format="date-time"),
        "ends_at": _string(format="date-time"),
        "place": _string(),
        "organisation": _string("the organisation's name"),
        "with": _string("the worker's first name"),
        "what_to_bring": _string(),
        "status": {"type": "string", "enum": [s.value for s in AppointmentStatus]},
        "response": {
            "type": "string",
            "enum": ["", *(r.value for r in FamilyResponse)],
            "description": "the family's answer; '' when none yet",
        },
        "version": {"type": "integer"},
        "pillar": {"type": "string", "enum": [p.value for p in Pillar]},
        "contact_phone": _string(),
        "latitude": _nullable({"type": "number"}),
        "longitude": _nullable({"type": "number"}),
        "moved_from": _nullable(_string(format="date-time")),
        "answerable": {"type": "boolean"},
    },
)

FAMILY_PULL = _closed(
    ["cursor", "appointments", "conflicts"],
    {
        "cursor": {"enum": [0]},
        "appointments": {
            "type": "array",
            "description": "complete every time: replace the phone's copy",
            "items": ref("FamilyAppointment"),
        },
        "conflicts": {"type": "array", "items": ref("ConflictState")},
    },
    description="A family member's pull.",
)

SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "SealingKey": SEALING_KEY,
    "Sealed": SEALED,
    "SessionLogContent": SESSION_LOG_CONTENT,
    "AppointmentResponseContent": APPOINTMENT_RESPONSE_CONTENT,
    "PushRequest": PUSH_REQUEST,
    "RecordResult": RESULT,
    "PushResponse": PUSH_RESPONSE,
    "Appointment": APPOINTMENT,
    "FormField": FIELD,
    "Form": FORM,
    "Forms": FORMS,
    "ConflictState": CONFLICT_STATE,
    "StaffPull": STAFF_PULL,
    "FamilyAppointment": FAMILY_APPOINTMENT,
    "FamilyPull": FAMILY_PULL,
}
