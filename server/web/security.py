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
# document of its own: CSP, framing, opener, referrer and permissions
# policies are ignored on them (their own fetches are same-origin only, by
# the page's CSP, where "same-origin" and the default referrer policy agree),
# and on phones that pay for every byte those ~430 bytes on each of a first
# visit's thirty-odd files are not free. SVG is not here (an SVG opened
# directly runs its scripts), and neither is the service worker, whose own
# CSP governs the worker (see ``_is_subresource``).
SUBRESOURCE_TYPES = frozenset(
    {"text/css", "text/javascript", "application/javascript", "image/png", "font/woff2"}
)
# The two static mounts (server/app.py): the same bytes for everyone, in
# every language, before and after signing in.
ASSET_PREFIXES = ("/static/", "/pwa/")
# Headers other layers add that say nothing about a static file, dropped
# there: its language (the same bytes in all five), the request id (the
# access log keeps it; nobody quotes a stylesheet's to support), and the
# modification date (the ETag, made from the bytes, is the validator the
# browser sends back; with Cache-Control always set, no heuristic freshness).
ASSET_DROPPED = ("content-language", "x-request-id", "last-modified", "accept-ranges")


def _kind(headers: MutableHeaders) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _is_subresource(scope: Scope, headers: MutableHeaders) -> bool:
    return _kind(headers) in SUBRESOURCE_TYPES and scope.get("path") != "/sw.js"


def _is_asset(scope: Scope, kind: str) -> bool:
    # An error page under a mount (a 404) is a page like any other.
    in_mount = str(scope.get("path", "")).startswith(ASSET_PREFIXES)
    return in_mount and kind not in ("text/html", "application/json")


def _trim_asset(headers: MutableHeaders) -> None:
    for name in ASSET_DROPPED:
        del headers[name]
    # The static files say "Accept-Encoding" and the compression layer adds
    # it again: once is enough. (Any asset may be compressed, so it varies
    # by encoding in any case.)
    vary = headers.get("vary", "Accept-Encoding").split(",")
    headers["Vary"] = ", ".join(dict.fromkeys(token.strip() for token in vary if token.strip()))


# Data a script or the browser fetches (the API, the offline screens'
# messages, the manifest): never a page, though one could open it in a tab,
# where it loads nothing and runs nothing. The strictest policy fits it, and
# a page's opener, referrer and permissions policies act on nothing there.
DATA_TYPES = frozenset({"application/json", "application/manifest+json"})
# What a policy a file could be opened under says: load nothing, run
# nothing, be framed by nobody.
NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'"


def apply_security_headers(
    scope: Scope, headers: MutableHeaders, *, not_modified: bool = False
) -> None:
    """The headers each response needs, by what it is.

    ``not_modified``: a 304, which updates the headers of the copy the
    browser holds. It carries no policy: the stored copy keeps the one its
    200 brought, which matches the nonce in its body (a new nonce on a
    stored page would block its own scripts).
    """
    state = scope.setdefault("state", {})
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    kind = _kind(headers)
    asset = _is_asset(scope, kind)
    if asset:
        _trim_asset(headers)
    if not_modified or _is_subresource(scope, headers):
        pass
    elif asset or kind in DATA_TYPES:
        headers["Content-Security-Policy"] = NOTHING_CSP
        headers["X-Frame-Options"] = "DENY"
    else:
        # A document (or the service worker, whose CSP governs the worker).
        # "same-origin": nothing leaks to other sites, and our own form posts
        # keep their Origin header (under "no-referrer" browsers send
        # "Origin: null").
        headers["Referrer-Policy"] = "same-origin"
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
                not_modified = message["status"] == 304
                headers = MutableHeaders(scope=message)
                apply_security_headers(scope, headers, not_modified=not_modified)
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
