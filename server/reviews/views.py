"""Routes of this domain (filled in by work in progress)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
