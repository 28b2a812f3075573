"""Strict headers on every response, and a cap on request bodies."""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import TooLarge
from server.i18n import N_


def csp(nonce: str) -> str:
    # No third party anywhere, no inline script or style: the nonce is only
    # for the rare script element the server itself writes.
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "worker-src 'self'",
            "form-action 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


# Types a browser only ever uses as a part of a page, never renders as a
# document of its own: CSP, framing, opener and permissions policies are
# ignored on them, and on phones that pay for every byte the ~430 bytes they
# take on each of a first visit's thirty-odd files are not free. SVG is not
# here (an SVG opened directly runs its scripts), and neither is the service
# worker, whose own CSP governs the worker (see ``_is_subresource``).
SUBRESOURCE_TYPES = frozenset(
    {"text/css", "text/javascript", "application/javascript", "image/png", "font/woff2"}
)


def _is_subresource(scope: Scope, headers: MutableHeaders) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in SUBRESOURCE_TYPES and scope.get("path") != "/sw.js"


def apply_security_headers(scope: Scope, headers: MutableHeaders) -> None:
    state = scope.setdefault("state", {})
    headers["X-Content-Type-Options"] = "nosniff"
    # "same-origin": nothing leaks to other sites, and our own form posts keep
    # their Origin header (under "no-referrer" browsers send "Origin: null").
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if not _is_subresource(scope, headers):
        nonce = state.get("csp_nonce") or secrets.token_urlsafe(16)
        headers["Content-Security-Policy"] = csp(nonce)
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if "cache-control" not in headers:
        # Personal by default: only what opts in (static files) may be cached.
        headers["Cache-Control"] = "no-store"
    if state.get("https"):
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["csp_nonce"] = secrets.token_urlsafe(16)
        state["https"] = self.https

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                apply_security_headers(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


BODY_TOO_LARGE = N_("What you sent is too large.")


class BodySizeLimitMiddleware:
    """Refuse request bodies over the limit with a 413, without reading them whole.

    The error is raised from ``receive`` so that it surfaces inside the route
    and the usual (translated) error handler renders it.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        too_large = not declared.isdigit() or int(declared) > self.max_bytes
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            if too_large:
                raise TooLarge(BODY_TOO_LARGE)
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise TooLarge(BODY_TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)
