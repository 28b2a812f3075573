"""The application factory: routes, middleware and the database lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Mount, Route
from tortoise.contrib.starlette import RegisterTortoise

from server import db, i18n, views
from server.errors import EXCEPTION_HANDLERS
from server.locale_middleware import LocaleMiddleware
from server.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from server.settings import Settings
from server.static_files import HashedStaticFiles
from server.templating import PWA_DIR, STATIC_DIR


def routes() -> list[BaseRoute]:
    return [
        Route("/", views.home, name="home"),
        Route("/language", views.set_language, methods=["POST"], name="set_language"),
        Route("/healthz", views.healthz, name="healthz"),
        Mount("/static", HashedStaticFiles(directory=STATIC_DIR), name="static"),
        Mount("/pwa", HashedStaticFiles(directory=PWA_DIR), name="pwa"),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    catalogues = i18n.load_catalogues(settings.locales_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=db.tortoise_config(settings.database_url)):
            yield

    middleware = [
        Middleware(SecurityHeadersMiddleware, https=settings.secure),
        Middleware(GZipMiddleware, minimum_size=500),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        Middleware(LocaleMiddleware, settings=settings, catalogues=catalogues),
    ]
    app = Starlette(
        debug=False,
        routes=routes(),
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
