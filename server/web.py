"""Small helpers that routes share: the clock, the relying party, JSON bodies."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request

from server.accounts.passkeys import RelyingParty
from server.errors import AppError, Invalid
from server.i18n import N_
from server.ratelimit import RateLimiter
from server.settings import Settings

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
        data = json.loads(await request.body(), object_pairs_hook=_unique_keys)
    # RecursionError: deeply nested arrays ("[[[[...") exhaust the parser's stack.
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise Invalid(N_("The request could not be understood. Please try again.")) from error
    if not isinstance(data, dict):
        raise Invalid(N_("The request could not be understood. Please try again."))
    if _has_nul(data):
        raise Invalid(NUL_MESSAGE)
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different; a repeated key is ambiguous
    (which value counts?), so it is refused rather than silently resolved."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in JSON object")
    return dict(pairs)


def _has_nul(value: Any) -> bool:
    """True when a NUL character hides in any key or string of a JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
