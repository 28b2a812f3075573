"""The OpenAPI description of the JSON API (served at /api/openapi.json).

Written for a partner writing their own client (docs/client.md walks through
it; tests/test_independent_client.py follows that walk with its own code).
The served copy names this deployment's origin and cookie names; the
account routes are in openapi_account.py, the shapes in openapi_schemas.py
and openapi_webauthn.py. tests/test_openapi.py checks that every
``/api/`` route is described and the document is valid OpenAPI 3.0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import Secret
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import access
from server.accounts.cookies import csrf_cookie, session_cookie
from server.ratelimit import (
    ENROL_PER_IP,
    SIGNIN_PER_ACCOUNT,
    SIGNIN_PER_IP,
    SYNC_PER_ACCOUNT,
    SYNC_PER_SESSION,
)
from server.settings import Settings
from server.sync import openapi_schemas, openapi_webauthn
from server.sync.openapi_account import auth_paths, reminder_paths
from server.sync.openapi_parts import (
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

DEFAULT_ORIGIN = "http://localhost:8000"

DESCRIPTION = """\
The API a phone uses: enrol and sign in with a passkey, pull the caseload and
the form definitions, push sealed session logs. Step by step, with worked
examples: docs/client.md. Protocol guarantees: docs/sync.md.

**Origin.** Every POST must carry `Origin: {origin}` (this server's origin,
exactly), or no Origin and `Sec-Fetch-Site: same-origin`. Otherwise 403
`cross_origin`. WebAuthn's clientDataJSON.origin must be the same string and
the RP id is its host.

**Cookies.** Keep a cookie jar. Names on this server: session
`{session}`, anonymous CSRF `{csrf}`, ceremony `homeward_ceremony`,
language `homeward_lang`. On an https origin the first two are
`__Host-homeward` and `__Host-homeward_csrf` (with Secure); on http (only
http://localhost, for development) `homeward_session` and `homeward_csrf`.
All are HttpOnly, Path=/.

**CSRF.** Every POST carries `X-CSRF-Token`. The token is the `content` of
`<meta name="csrf-token" content="…">` in the HTML of `GET /`. Signed out it
is an anonymous token tied to the CSRF cookie (set by that same answer);
signed in it is the session's own token: fetch it again after signing in.
A wrong or missing token: 403 `csrf`.

**Errors.** Every error under `/api/` (and elsewhere with
`Accept: application/json`) is `{{"error": {{"code", "message"}}}}`, the
message in the user's language. 401: sign in again (the session ends after
30 minutes idle or 12 hours). 429 and 503 `busy`: wait `Retry-After`
seconds. Other 5xx (also 502/503/504 from a proxy, perhaps not JSON): retry
later with backoff.

**Rate limits** (moving one-minute windows): sign-in options+verify
{signin_ip} per client address, verify {signin_account} per credential id;
enrolment options+verify {enrol_ip} per address; push+pull together
{sync_session} per sign-in session (one phone) and {sync} per account (all
of a user's phones).
"""


def _page_paths() -> dict[str, Any]:
    """The two browser routes a client needs: the CSRF token and sign-out."""
    return {
        "/": {
            "get": {
                "summary": "Any page: the CSRF token",
                "description": 'Read `<meta name="csrf-token" content="TOKEN">`. Signed out, '
                "the answer also sets the anonymous CSRF cookie when the jar has none.",
                "tags": ["pages"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "an HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                        "headers": SET_COOKIE,
                    },
                    "503": {"description": "busy: wait Retry-After seconds"},
                },
            }
        },
        "/signout": post(
            "Sign out",
            "Ends the session on the server. Answers 303 to `/?signed_out=1`, clears the "
            'session cookie and sends `Clear-Site-Data: "cache"`. Without a session: 401 '
            "(JSON when `Accept: application/json`, else 303 to /signin).",
            tags=["pages"],
            security=SIGNED_IN_POST,
            requestBody=body(EMPTY, required=False),
            responses={
                "303": {"description": "signed out", "headers": SET_COOKIE},
                **errors(401, 403),
            },
        ),
    }


def _sync_paths() -> dict[str, Any]:
    return {
        "/api/sync/key": {
            "get": {
                "summary": "The public key to seal entries to",
                "description": "Fetch it at every sync: after a rotation `kid` changes. "
                "Entries sealed to an older key still open.",
                "tags": ["sync"],
                "security": SIGNED_IN,
                "responses": {"200": answer(ref("SealingKey")), **errors(401, 404)},
            }
        },
        "/api/sync/push": post(
            "Store a batch of sealed records, one answer each, in order",
            "Each record is answered on its own: stored / already_stored (done: forget it), "
            "conflict (done, the other version is kept for an officer), rejected (kept; "
            "show `message`; sending it unchanged again gives the same answer). Retrying a "
            "whole batch is always safe. A client that hangs up mid-upload stores nothing "
            "(logged as 499, never seen by the client).",
            tags=["sync"],
            security=SIGNED_IN_POST,
            requestBody=body(ref("PushRequest")),
            responses={
                "200": answer(ref("PushResponse"), "one result per record, in order"),
                "499": {"description": "only in the server's log: the client hung up"},
                **errors(401, 403, 404, 413, 415, 422, 429),
            },
        ),
        "/api/sync/pull": {
            "get": {
                "summary": "What changed since a cursor, and the whole caseload",
                "description": "One answer, no paging: every change numbered in "
                "(since, cursor], the complete caseload, and all open appointments of "
                "participants whose record changed (put back on the caseload, consent "
                "given again). Families get FamilyPull.",
                "tags": ["sync"],
                "security": SIGNED_IN,
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "description": "the cursor of the last pull, as it came "
                        "(0 or absent: everything); never one the client made up",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                    {
                        "name": "forms",
                        "in": "query",
                        "description": "the `forms_hash` of the forms the client holds; "
                        "`forms` is sent only when it differs",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": answer({"anyOf": [ref("StaffPull"), ref("FamilyPull")]}),
                    **errors(401, 404, 422, 429),
                },
            }
        },
        "/api/forms": {
            "get": {
                "summary": "Every form definition (workers and officers)",
                "tags": ["sync"],
                "security": SIGNED_IN,
                "parameters": [
                    {
                        "name": "lang",
                        "in": "query",
                        "description": "a language other than the user's",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": answer(ref("Forms")), **errors(401, 404)},
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": answer({"type": "object"}), **errors()},
            }
        },
    }


def schema(origin: str = DEFAULT_ORIGIN) -> dict[str, Any]:
    """The document for a server at ``origin`` (its cookie names follow its scheme)."""
    session, csrf = _cookie_names(origin)
    description = DESCRIPTION.format(
        origin=origin,
        session=session,
        csrf=csrf,
        signin_ip=SIGNIN_PER_IP.amount,
        signin_account=SIGNIN_PER_ACCOUNT.amount,
        enrol_ip=ENROL_PER_IP.amount,
        sync=SYNC_PER_ACCOUNT.amount,
        sync_session=SYNC_PER_SESSION.amount,
    )
    return {
        "openapi": "3.0.3",
        "info": {"title": "Homeward API", "version": "1", "description": description},
        "servers": [{"url": origin}],
        "tags": [
            {"name": "enrolment"},
            {"name": "sign-in"},
            {"name": "account"},
            {"name": "sync"},
            {"name": "family", "description": "a family member's phone"},
            {"name": "pages", "description": "HTML routes a client needs (not JSON)"},
            {"name": "meta"},
        ],
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": session},
                "csrfCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": csrf,
                    "description": "the anonymous CSRF cookie (signed out)",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": 'from <meta name="csrf-token"> of GET /',
                },
            },
            "parameters": {
                "Origin": {
                    "name": "Origin",
                    "in": "header",
                    "required": True,
                    "description": "this server's origin, exactly",
                    "schema": {"type": "string", "enum": [origin]},
                }
            },
            "schemas": {**openapi_webauthn.SCHEMAS, **openapi_schemas.SCHEMAS},
        },
        "security": SIGNED_IN,
        "paths": {**_page_paths(), **auth_paths(), **_sync_paths(), **reminder_paths()},
    }


def _cookie_names(origin: str) -> tuple[str, str]:
    """The names the server at ``origin`` gives its cookies (server/accounts/cookies.py)."""
    settings = Settings(data_dir=Path(), database_url="", secret_key=Secret(""), origin=origin)
    return session_cookie(settings), csrf_cookie(settings)


@access.public
async def openapi(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return JSONResponse(schema(settings.origin))
