"""The CSRF check (server/web/csrf.py), rule by rule, through the real app.

A state-changing request passes only when it comes from our origin (its
``Origin`` header, or without one, ``Sec-Fetch-Site: same-origin`` or
``none``, a navigation the user typed) AND carries the visitor's token (the
``X-CSRF-Token`` header, else the ``csrf_token`` form field). The form body
read for the check still reaches the route. Written after a mutant that let
``Sec-Fetch-Site: cross-site`` through survived the whole suite.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from server.settings import Settings
from server.web.csrf import CsrfMiddleware
from tests.support.web import ORIGIN, csrf_token

JSON = {"accept": "application/json"}


async def set_language(
    client: httpx.AsyncClient, headers: dict[str, str], **form: str
) -> httpx.Response:
    return await client.post(
        "/language", data={"language": "kk", "next": "/help", **form}, headers=headers
    )


def changed_language(response: httpx.Response) -> bool:
    """The route ran: it answers 303 to ``next`` and sets the language cookie."""
    return (
        response.status_code == 303
        and response.headers["location"] == "/help"
        and "homeward_lang=kk" in response.headers.get("set-cookie", "").replace('"', "")
    )


def refused(response: httpx.Response, code: str) -> bool:
    return response.status_code == 403 and response.json()["error"] == {
        "code": code,
        "message": "This form has expired or did not come from Homeward. "
        "Please go back, reload the page and try again.",
    }


@pytest.mark.parametrize("site", ["cross-site", "same-site", "", "CROSS-SITE"])
async def test_without_origin_only_same_origin_metadata_passes(
    client: httpx.AsyncClient, site: str
) -> None:
    token = await csrf_token(client)
    headers = {**JSON, "sec-fetch-site": site} if site else JSON
    response = await set_language(client, headers, csrf_token=token)
    assert refused(response, "cross_origin"), response.text
    assert "set-cookie" not in response.headers or "kk" not in response.headers["set-cookie"]


@pytest.mark.parametrize("site", ["same-origin", "none"])
async def test_without_origin_same_origin_or_typed_navigation_passes(
    client: httpx.AsyncClient, site: str
) -> None:
    token = await csrf_token(client)
    response = await set_language(client, {"sec-fetch-site": site}, csrf_token=token)
    assert changed_language(response), response.headers


async def test_null_origin_falls_back_on_fetch_metadata(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    cross = await set_language(
        client, {**JSON, "origin": "null", "sec-fetch-site": "cross-site"}, csrf_token=token
    )
    assert refused(cross, "cross_origin")
    same = await set_language(
        client, {"origin": "null", "sec-fetch-site": "same-origin"}, csrf_token=token
    )
    assert changed_language(same)


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://localhost:8001", "https://localhost:8000", ""]
)
async def test_a_foreign_origin_is_refused_whatever_the_metadata(
    client: httpx.AsyncClient, origin: str
) -> None:
    token = await csrf_token(client)
    headers = {**JSON, "origin": origin, "sec-fetch-site": "same-origin"}
    response = await set_language(client, headers, csrf_token=token)
    assert refused(response, "cross_origin"), response.text


async def test_our_origin_with_the_form_token_passes(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await set_language(client, {"origin": ORIGIN}, csrf_token=token)
    assert changed_language(response)


async def test_multipart_form_token_passes_and_the_body_reaches_the_route(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client)
    fields = {"language": "kk", "next": "/help", "csrf_token": token}
    body = "".join(
        f'--b0undary\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    response = await client.post(
        "/language",
        content=(body + "--b0undary--\r\n").encode(),
        headers={"origin": ORIGIN, "content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert changed_language(response), response.text


@pytest.mark.parametrize("submitted", ["", "wrong", "missing"])
async def test_a_missing_or_wrong_form_token_is_refused(
    client: httpx.AsyncClient, submitted: str
) -> None:
    token = await csrf_token(client)
    form = {} if submitted == "missing" else {"csrf_token": submitted or ""}
    if submitted == "wrong":
        form["csrf_token"] = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = await set_language(client, {**JSON, "origin": ORIGIN}, **form)
    assert refused(response, "csrf"), response.text


async def test_the_header_token_passes_and_the_form_is_not_needed(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client)
    response = await set_language(client, {"origin": ORIGIN, "x-csrf-token": token})
    assert changed_language(response)


async def test_a_wrong_header_token_is_refused_even_with_a_right_form_token(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client)
    headers = {**JSON, "origin": ORIGIN, "x-csrf-token": "not-the-token"}
    response = await set_language(client, headers, csrf_token=token)
    assert refused(response, "csrf")


async def test_a_token_in_a_json_body_does_not_count(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/language",
        json={"language": "kk", "csrf_token": token},
        headers={**JSON, "origin": ORIGIN},
    )
    assert refused(response, "csrf")


async def test_another_visitors_token_is_refused(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=ORIGIN) as mine,
        httpx.AsyncClient(transport=transport, base_url=ORIGIN) as theirs,
    ):
        their_token = await csrf_token(theirs)
        await csrf_token(mine)
        response = await set_language(mine, {**JSON, "origin": ORIGIN}, csrf_token=their_token)
    assert refused(response, "csrf")


async def test_a_nul_byte_in_any_field_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await set_language(
        client, {**JSON, "origin": ORIGIN}, csrf_token=token, note="a\x00b"
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "The text contains an invisible control character. Please type it again.",
    }
    assert "kk" not in response.headers.get("set-cookie", "")


async def test_an_oversized_form_is_refused_before_the_token_is_read(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client)
    response = await set_language(
        client, {**JSON, "origin": ORIGIN}, csrf_token=token, note="x" * 1_100_000
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_large",
        "message": "What you sent is too large.",
    }


async def test_a_body_of_no_declared_type_needs_the_header_token(
    client: httpx.AsyncClient,
) -> None:
    await csrf_token(client)
    response = await client.post("/language", headers={**JSON, "origin": ORIGIN})
    assert refused(response, "csrf"), response.text


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_safe_methods_need_no_token(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/signin", headers={"origin": "http://evil.example"})
    assert response.status_code in {200, 405}, response.status_code


# --- the middleware alone: what it hands on, and a visitor without a token ---


async def _downstream(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the body it received, then what a second receive() gives."""
    if scope["type"] == "lifespan":
        await send({"type": "lifespan.startup.complete", "seen": (await receive())["type"]})
        return
    first = await receive()
    after = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": first.get("body", b""), "after": after})


async def _call(middleware: CsrfMiddleware, scope: Scope, body: bytes) -> list[Message]:
    """Sends ``body`` in two pieces, then a last message without the optional ASGI keys."""
    sent: list[Message] = []
    messages: list[Message] = [
        {"type": "http.request", "body": body[:3], "more_body": True},
        {"type": "http.request", "body": body[3:], "more_body": True},
        {"type": "http.request"},
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def _scope(token: str | None, headers: dict[str, str], method: str = "POST") -> Scope:
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": "/api/x",
        "raw_path": b"/api/x",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("localhost", 8000),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    if token is not None:
        scope["state"] = {"csrf_token": token}
    return scope


async def test_without_a_token_of_its_own_the_visitor_is_refused(
    app: Starlette, settings: Settings
) -> None:
    middleware = CsrfMiddleware(_downstream, settings=settings)
    form = {"origin": ORIGIN, "content-type": "application/x-www-form-urlencoded"}
    for token in (None, ""):
        sent = await _call(middleware, _scope(token, {**form, "x-csrf-token": ""}), b"a=1")
        assert sent[0]["status"] == 403
        sent = await _call(middleware, _scope(token, form), b"csrf_token=")
        assert sent[0]["status"] == 403
        # Nothing a visitor could guess stands in for the missing token.
        for guess in ("None", "XXXX", "XXXXXX"):
            sent = await _call(middleware, _scope(token, {**form, "x-csrf-token": guess}), b"")
            assert sent[0]["status"] == 403


async def test_the_route_gets_the_whole_body_then_the_rest_of_the_stream(
    app: Starlette, settings: Settings
) -> None:
    middleware = CsrfMiddleware(_downstream, settings=settings)
    form = {"origin": ORIGIN, "content-type": "application/x-www-form-urlencoded"}
    body = b"csrf_token=secret-token&note=" + b"n" * 40
    sent = await _call(middleware, _scope("secret-token", form), body)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == body
    assert sent[1]["after"] == {"type": "http.disconnect"}


async def test_safe_requests_and_the_lifespan_pass_untouched(
    app: Starlette, settings: Settings
) -> None:
    middleware = CsrfMiddleware(_downstream, settings=settings)
    sent = await _call(middleware, _scope(None, {}, method="GET"), b"")
    assert sent[0]["status"] == 200
    # The stream as it came: the second message of three.
    assert sent[1]["after"] == {"type": "http.request", "body": b"", "more_body": True}
    lifespan: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        lifespan.append(message)

    await middleware({"type": "lifespan"}, receive, send)
    assert lifespan == [{"type": "lifespan.startup.complete", "seen": "lifespan.startup"}]
