"""The account routes in the OpenAPI document (openapi.py): enrolment,
sign-in, adding a passkey, who is signed in, and a family's reminders."""

from __future__ import annotations

from typing import Any

from server.settings import LANGUAGES
from server.sync.openapi_parts import (
    ANONYMOUS_POST,
    EMPTY,
    SET_COOKIE,
    SIGNED_IN,
    SIGNED_IN_POST,
    answer,
    body,
    errors,
    post,
)
from server.sync.openapi_schemas import ref

TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "the last path segment of the invitation link `/enrol/{token}`",
    "schema": {"type": "string"},
}


def auth_paths() -> dict[str, Any]:
    signed_in = {
        **answer(ref("SignedIn"), "signed in: a new session cookie is set"),
        "headers": SET_COOKIE,
    }
    options_cookie = "Sets the `homeward_ceremony` cookie (5 minutes, one use), send it back."
    return {
        "/api/auth/enrol/{token}/options": post(
            "Start enrolment from an invitation",
            "Registration options for the person the invitation names. " + options_cookie,
            tags=["enrolment"],
            parameters=[TOKEN],
            security=ANONYMOUS_POST,
            requestBody=body(EMPTY, required=False),
            responses={
                "200": {**answer(ref("CreationOptions")), "headers": SET_COOKIE},
                **errors(403, 404, 410, 413, 429),
            },
        ),
        "/api/auth/enrol/{token}/verify": post(
            "Finish enrolment: create the account, sign in",
            "The new credential; the invitation is used up and the person is signed in.",
            tags=["enrolment"],
            parameters=[TOKEN],
            security=ANONYMOUS_POST,
            requestBody=body(
                {
                    "type": "object",
                    "required": ["credential", "language"],
                    "properties": {
                        "credential": ref("RegistrationCredential"),
                        "language": {"type": "string", "enum": list(LANGUAGES)},
                        "name": {"type": "string", "description": "the passkey's name"},
                    },
                }
            ),
            responses={"200": signed_in, **errors(400, 403, 404, 410, 413, 415, 422, 429)},
        ),
        "/api/auth/signin/options": post(
            "Start signing in (discoverable passkey, no user name)",
            options_cookie,
            tags=["sign-in"],
            security=ANONYMOUS_POST,
            requestBody=body(EMPTY, required=False),
            responses={
                "200": {**answer(ref("RequestOptions")), "headers": SET_COOKIE},
                **errors(403, 413, 429),
            },
        ),
        "/api/auth/signin/verify": post(
            "Finish signing in",
            "A new session every time (an earlier one in the same jar is ended).",
            tags=["sign-in"],
            security=ANONYMOUS_POST,
            requestBody=body(
                {
                    "type": "object",
                    "required": ["credential"],
                    "properties": {"credential": ref("AuthenticationCredential")},
                }
            ),
            responses={"200": signed_in, **errors(400, 403, 413, 415, 422, 429)},
        ),
        "/api/account/passkeys/options": post(
            "Start adding a passkey to the signed-in account",
            options_cookie,
            tags=["account"],
            security=SIGNED_IN_POST,
            requestBody=body(EMPTY, required=False),
            responses={
                "200": {**answer(ref("CreationOptions")), "headers": SET_COOKIE},
                **errors(401, 403, 413),
            },
        ),
        "/api/account/passkeys/verify": post(
            "Finish adding a passkey",
            "The session stays as it is.",
            tags=["account"],
            security=SIGNED_IN_POST,
            requestBody=body(
                {
                    "type": "object",
                    "required": ["credential"],
                    "properties": {
                        "credential": ref("RegistrationCredential"),
                        "name": {"type": "string"},
                    },
                }
            ),
            responses={"200": answer(ref("PasskeyAdded")), **errors(400, 401, 403, 413, 415, 422)},
        ),
        "/api/me": {
            "get": {
                "summary": "The signed-in user",
                "tags": ["account"],
                "security": SIGNED_IN,
                "responses": {"200": answer(ref("Me")), **errors(401)},
            }
        },
    }


def reminder_paths() -> dict[str, Any]:
    """Web Push reminders on a family member's phone (server/family/reminder_views.py)."""
    subscription = {
        "type": "object",
        "description": "PushSubscription.toJSON() of the phone's push service",
        "required": ["endpoint", "keys"],
        "properties": {
            "endpoint": {"type": "string", "description": "https URL, at most 1024 characters"},
            "keys": {
                "type": "object",
                "required": ["p256dh", "auth"],
                "properties": {
                    "p256dh": {"type": "string", "description": "65-byte P-256 point, base64url"},
                    "auth": {"type": "string", "description": "16 bytes, base64url"},
                },
            },
        },
    }

    def state(value: str) -> dict[str, Any]:
        closed = {"required": ["reminders"], "additionalProperties": False}
        return answer({"type": "object", **closed, "properties": {"reminders": {"enum": [value]}}})

    return {
        "/api/family/reminders/key": {
            "get": {
                "summary": "The VAPID public key (families)",
                "tags": ["family"],
                "security": SIGNED_IN,
                "responses": {
                    "200": answer(
                        {
                            "type": "object",
                            "required": ["key"],
                            "additionalProperties": False,
                            "properties": {
                                "key": {
                                    "type": "string",
                                    "description": "applicationServerKey: the uncompressed "
                                    "P-256 point, base64url without padding",
                                }
                            },
                        }
                    ),
                    **errors(401, 404),
                },
            }
        },
        "/api/family/reminders": post(
            "Turn reminders on for this phone (families)",
            "The same endpoint again only renews its keys.",
            tags=["family"],
            security=SIGNED_IN_POST,
            requestBody=body(subscription),
            responses={"200": state("on"), **errors(401, 403, 404, 413, 415, 422)},
        ),
        "/api/family/reminders/off": post(
            "Turn reminders off for this phone (families)",
            "Forgets the subscription with this endpoint.",
            tags=["family"],
            security=SIGNED_IN_POST,
            requestBody=body(
                {
                    "type": "object",
                    "required": ["endpoint"],
                    "properties": {"endpoint": {"type": "string"}},
                }
            ),
            responses={"200": state("off"), **errors(401, 403, 404, 413, 415, 422)},
        ),
    }
