"""HTTP helpers for tests: CSRF tokens and passkey ceremonies through the API."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.authenticator import SoftAuthenticator

ORIGIN = "http://localhost:8000"


async def csrf_token(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_json(
    client: httpx.AsyncClient, url: str, body: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(
        url,
        json=body or {},
        headers={"origin": ORIGIN, "x-csrf-token": token, "accept": "application/json", **headers},
    )


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(url, data={**data, "csrf_token": token}, headers={"origin": ORIGIN})


async def enrol(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, token: str, language: str = "en"
) -> httpx.Response:
    options = await post_json(client, f"/api/auth/enrol/{token}/options")
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    return await post_json(
        client,
        f"/api/auth/enrol/{token}/verify",
        {"credential": credential, "language": language, "name": "test phone"},
    )


async def signin(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, **knobs: Any
) -> httpx.Response:
    options = await post_json(client, "/api/auth/signin/options")
    assert options.status_code == 200, options.text
    assertion = authenticator.get(options.json(), **knobs)
    return await post_json(client, "/api/auth/signin/verify", {"credential": assertion})


async def signed_in(app: object, user: object) -> httpx.AsyncClient:
    """An HTTP client with a live sign-in session for ``user`` (no passkey dance)."""
    from datetime import UTC, datetime

    from server.accounts import sessions

    started = await sessions.start(
        user=user,  # type: ignore[arg-type]
        now=datetime.now(UTC),
        ip="127.0.0.1",
        device="test",
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),  # type: ignore[arg-type]
        base_url=ORIGIN,
    )
    client.cookies.set("homeward_session", started.token)
    return client
