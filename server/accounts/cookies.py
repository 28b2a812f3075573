"""Cookie names and flags, stricter whenever the origin is https."""

from __future__ import annotations

from starlette.responses import Response

from server.settings import Settings


def session_cookie(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to this exact host, path / and https.
    return "__Host-homeward" if settings.secure else "homeward_session"


def csrf_cookie(settings: Settings) -> str:
    return "__Host-homeward_csrf" if settings.secure else "homeward_csrf"


CEREMONY_COOKIE = "homeward_ceremony"


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict" if name != session_cookie(settings) else "lax",
        secure=settings.secure,
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, secure=settings.secure)
