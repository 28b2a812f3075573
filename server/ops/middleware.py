"""Operational middleware (structured request logs, metrics): work in progress."""

from __future__ import annotations

from starlette.middleware import Middleware

from server.settings import Settings


def middleware(settings: Settings) -> list[Middleware]:
    """Middleware to install right inside the security headers."""
    return []
