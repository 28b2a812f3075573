"""Cross-site request forgery: every state-changing request must come from
our own origin and carry the visitor's CSRF token.

The token travels in the ``X-CSRF-Token`` header (our scripts) or a
``csrf_token`` form field (plain HTML forms, which work without
JavaScript). Form bodies are read here and replayed to the route, so no
route can forget the check.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import i18n
from server.errors import TooLarge, render_error
from server.i18n import N_
from server.settings import Settings
from server.web import NUL_MESSAGE

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSED = N_(
    "This form has expired or did not come from Homeward. "
    "Please go back, reload the page and try again."
)


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.origin = settings.origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        expected = scope.get("state", {}).get("csrf_token", "")
        if not self._same_origin(headers):
            await self._refuse(scope, receive, send, "cross_origin")
            return
        submitted = headers.get("x-csrf-token", "")
        replay = receive
        if not submitted and headers.get("content-type", "").startswith(FORM_TYPES):
            try:
                body = await _read_body(receive)
            except TooLarge as error:
                request = Request(scope, receive)
                response = await render_error(request, 413, error.translated(), error.code)
                await response(scope, receive, send)
                return
            replay = _replaying(body, receive)
            form = await Request(scope, _replaying(body, receive)).form()
            submitted = str(form.get("csrf_token", ""))
            has_nul = any(
                "\x00" in value for _, value in form.multi_items() if isinstance(value, str)
            )
            await form.close()
            if has_nul:
                # No route should have to remember this: a NUL byte in any
                # field is refused before the request goes further.
                request = Request(scope, receive)
                message = i18n.gettext(NUL_MESSAGE)
                response = await render_error(request, 422, message, "invalid")
                await response(scope, receive, send)
                return
        if not expected or not hmac.compare_digest(submitted.encode(), expected.encode()):
            await self._refuse(scope, receive, send, "csrf")
            return
        await self.app(scope, replay, send)

    def _same_origin(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is not None and origin != "null":
            return origin == self.origin
        # No Origin header: fall back on Fetch Metadata; a browser that sends
        # neither is refused rather than trusted.
        return headers.get("sec-fetch-site") in {"same-origin", "none"}

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, code: str) -> None:
        request = Request(scope, receive)
        response = await render_error(request, 403, i18n.gettext(REFUSED), code)
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
