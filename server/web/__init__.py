"""The HTTP plumbing, kept apart from the domain packages (which never import it).

This module holds the small helpers routes share (the clock, the relying
party, JSON bodies, page numbers); its siblings are the middlewares (CSRF,
security headers, language), query-string and JSON parsing, static files and
the template environment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request

from server.accounts.passkeys import RelyingParty
from server.errors import AppError, Invalid
from server.i18n import N_
from server.ratelimit import RateLimiter
from server.settings import Settings
from server.web import safejson

NUL_MESSAGE = N_("The text contains an invisible control character. Please type it again.")


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def now(request: Request) -> datetime:
    moment: datetime = request.app.state.clock()
    return moment


def relying_party(request: Request) -> RelyingParty:
    settings = settings_of(request)
    return RelyingParty(rp_id=settings.rp_id, origin=settings.origin)


def limiter(request: Request) -> RateLimiter:
    rate_limiter: RateLimiter = request.app.state.rate_limiter
    return rate_limiter


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def json_body(request: Request) -> dict[str, Any]:
    """A JSON object from the request body, or a clear 4xx."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise UnsupportedMediaType(N_("This kind of content is not accepted here."))
    try:
        # Nesting is bounded before parsing (server/web/safejson.py), so neither
        # the parser nor the walks below can run out of stack.
        data = safejson.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid(N_("The request could not be understood. Please try again.")) from error
    if not isinstance(data, dict):
        raise Invalid(N_("The request could not be understood. Please try again."))
    if _has_nul(data):
        raise Invalid(NUL_MESSAGE)
    return data


MAX_PAGE = 100_000  # far past any list we have; keeps OFFSET a small number


def page_number(raw: str | None) -> int:
    """A page number from a query string: 1 when missing or unreadable, at
    most ``MAX_PAGE`` (a 20-digit number would overflow the database's OFFSET)."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(1, int(text)), MAX_PAGE)


def whole_number(raw: object, *, least: int, most: int) -> int | None:
    """An integer within [least, most] written in ASCII digits, or None."""
    text = str(raw if raw is not None else "").strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        return None
    value = int(text)
    return value if least <= value <= most else None


def _has_nul(value: Any) -> bool:
    """True when a NUL character hides in any key or string of a JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
