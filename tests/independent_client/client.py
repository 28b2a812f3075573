"""The HTTP side of the client, step by step as docs/client.md tells it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.independent_client.authenticator import Authenticator

META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
MAX_WAIT = 60  # seconds: a Retry-After longer than this is a server to report, not to wait for


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        self.status = response.status_code
        self.code = str(body.get("error", {}).get("code", ""))
        super().__init__(f"{self.status} {self.code}: {body}")


@dataclass
class Client:
    """One phone: a cookie jar, the CSRF token of its current state, its cursor."""

    origin: str
    transport: httpx.AsyncBaseTransport | None = None
    http: httpx.AsyncClient = field(init=False)
    csrf: str = ""
    cursor: int = 0
    forms_hash: str = ""
    forms: dict[str, Any] = field(default_factory=dict)
    waited: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(
            base_url=self.origin,
            transport=self.transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
            timeout=30,
        )

    async def close(self) -> None:
        await self.http.aclose()

    # -- plumbing -------------------------------------------------------------

    async def refresh_csrf(self) -> str:
        """§3: the token is in the meta tag of GET / (a new one after signing in)."""
        response = await self.http.get("/", headers={"Accept": "text/html"})
        response.raise_for_status()
        found = META.search(response.text)
        assert found, "no csrf-token meta tag"
        self.csrf = found.group(1)
        return self.csrf

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; a 429 or 503 with Retry-After waits that long and tries again (§8)."""
        headers = dict(kwargs.pop("headers", {}))
        if method == "POST":
            headers |= {"Origin": self.origin, "X-CSRF-Token": self.csrf}
        while True:
            response = await self.http.request(method, path, headers=headers, **kwargs)
            if response.status_code not in (429, 503) or "Retry-After" not in response.headers:
                return response
            wait = int(response.headers["Retry-After"])
            assert wait <= MAX_WAIT, wait
            self.waited.append(wait)
            await asyncio.sleep(wait)  # the server said how long: nothing else to await

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        if response.status_code != 200:
            raise ApiError(response)
        return response.json()

    # -- §1-2: enrolment and sign-in -------------------------------------------

    async def enrol(self, link: str, device: Authenticator, language: str) -> dict[str, Any]:
        token = urlsplit(link).path.rsplit("/", 1)[-1]
        await self.refresh_csrf()
        options = await self.call("POST", f"/api/auth/enrol/{token}/options", json={})
        credential = device.register(options, self.origin)
        body = {"credential": credential, "language": language, "name": "Test phone"}
        answer = await self.call("POST", f"/api/auth/enrol/{token}/verify", json=body)
        await self.refresh_csrf()  # the session's own token from now on
        return dict(answer)

    async def sign_in(self, device: Authenticator) -> dict[str, Any]:
        await self.refresh_csrf()
        options = await self.call("POST", "/api/auth/signin/options", json={})
        credential = device.sign_in(options, self.origin)
        answer = await self.call("POST", "/api/auth/signin/verify", json={"credential": credential})
        await self.refresh_csrf()
        return dict(answer)

    async def add_passkey(self, device: Authenticator) -> dict[str, Any]:
        options = await self.call("POST", "/api/account/passkeys/options", json={})
        credential = device.register(options, self.origin)
        body = {"credential": credential, "name": "Second phone"}
        return dict(await self.call("POST", "/api/account/passkeys/verify", json=body))

    async def sign_out(self) -> httpx.Response:
        response = await self.request("POST", "/signout", data={})
        assert response.status_code == 303, response.status_code
        self.csrf = ""
        return response

    # -- §4-7: sync --------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        return dict(await self.call("GET", "/api/me"))

    async def sealing_key(self) -> dict[str, str]:
        return dict(await self.call("GET", "/api/sync/key"))

    async def pull(self) -> dict[str, Any]:
        params = {"since": str(self.cursor), "forms": self.forms_hash}
        body: dict[str, Any] = await self.call("GET", "/api/sync/pull", params=params)
        if "forms" in body:
            self.forms = body["forms"]
        self.forms_hash = body["forms_hash"]
        # Stored with the rest of the answer: a crash between the two would
        # skip changes (the next pull starts after this cursor).
        self.cursor = body["cursor"]
        return body

    async def push(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = await self.call("POST", "/api/sync/push", json={"records": records})
        results: list[dict[str, Any]] = body["results"]
        assert [r["id"] for r in results] == [r["id"] for r in records]
        return results
