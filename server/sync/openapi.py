"""The OpenAPI description of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import access
from server.sync.services import MAX_RECORDS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}

SEALED = {
    "type": "object",
    "required": ["kid", "epk", "iv", "data"],
    "properties": {
        "kid": {"type": "string", "description": "id of the server key it was sealed to"},
        "epk": {
            "type": "string",
            "description": "base64 ephemeral P-256 public key (65-byte uncompressed point); "
            "AES-256 key = HKDF-SHA256(ECDH, salt = these bytes, info = 'homeward-seal-v1')",
        },
        "iv": {"type": "string", "description": "base64 12-byte AES-GCM nonce"},
        "data": {"type": "string", "description": "base64 AES-GCM ciphertext; AAD = record id"},
    },
}

RESULT = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "status": {"enum": ["stored", "already_stored", "conflict", "rejected"]},
        "code": {
            "type": "string",
            "description": "why a record was rejected (docs/sync.md): malformed, unreadable, "
            "not_author (the id belongs to another user's record), not_allowed, unknown_form, "
            "invalid (see errors), no_consent",
        },
        "message": {"type": "string", "description": "the reason, in the user's language"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for status in statuses
    }


def schema() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Homeward sync API", "version": "1"},
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "homeward_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            }
        },
        "security": [{"session": [], "csrf": []}],
        "paths": {
            "/api/sync/key": {
                "get": {
                    "summary": "The public key phones seal entries to",
                    "responses": {
                        "200": {
                            "description": "current key",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["kid", "spki", "alg"],
                                        "properties": {
                                            "kid": {"type": "string"},
                                            "spki": {"type": "string"},
                                            "alg": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        **_errors(401, 404),
                    },
                }
            },
            "/api/sync/push": {
                "post": {
                    "summary": "Store a batch of sealed records, one answer each",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["records"],
                                    "properties": {
                                        "records": {
                                            "type": "array",
                                            "maxItems": MAX_RECORDS,
                                            "items": {
                                                "type": "object",
                                                "required": ["id", "type", "sealed"],
                                                "properties": {
                                                    "id": {"type": "string", "format": "uuid"},
                                                    "type": {
                                                        "enum": [
                                                            "session_log",
                                                            "appointment_response",
                                                        ]
                                                    },
                                                    "sealed": SEALED,
                                                },
                                            },
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "one result per record, in order",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["results"],
                                        "properties": {
                                            "results": {"type": "array", "items": RESULT}
                                        },
                                    }
                                }
                            },
                        },
                        **_errors(400, 401, 403, 404, 413, 415, 422, 429),
                    },
                }
            },
            "/api/sync/pull": {
                "get": {
                    "summary": "What changed since a cursor, and the whole caseload",
                    "parameters": [
                        {
                            "name": "since",
                            "in": "query",
                            "description": "the cursor of the phone's last pull, as it came "
                            "(0 or absent: everything); never one the phone made up",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                        {"name": "forms", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "every change numbered in (since, cursor], one "
                            "consistent cut; the complete caseload; and all open appointments "
                            "of participants whose record changed since the cursor",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": [
                                            "cursor",
                                            "participants",
                                            "appointments",
                                            "records",
                                            "conflicts",
                                            "forms_hash",
                                        ],
                                    }
                                }
                            },
                        },
                        **_errors(401, 404, 422),
                    },
                }
            },
            "/api/me": {
                "get": {
                    "summary": "The signed-in user",
                    "responses": {"200": {"description": "user"}, **_errors(401)},
                }
            },
        },
    }


@access.public
async def openapi(request: Request) -> Response:
    return JSONResponse(schema())
