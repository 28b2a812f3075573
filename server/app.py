"""The application factory: routes, middleware and the database lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Mount, Route
from tortoise.contrib.starlette import RegisterTortoise

from server import db, i18n, views
from server.accounts import admin_views as admin
from server.accounts import views as accounts
from server.accounts.middleware import AuthMiddleware
from server.appointments import views as appointment_views
from server.assessments import views as assessment_views
from server.audit import keys as audit_keys
from server.audit import views as audit_views
from server.clock import Clock, system_clock
from server.errors import EXCEPTION_HANDLERS
from server.family import reminder_views
from server.family import views as family_views
from server.forms import views as form_views
from server.imports import views as import_views
from server.indicators import views as indicator_views
from server.ops import middleware as ops_middleware
from server.ops import views as ops_views
from server.orgs import views as org_views
from server.participants import access_views as subject_access_views
from server.participants import views as participant_views
from server.programme import views as programme_views
from server.pwa.views import routes as pwa_routes
from server.ratelimit import RateLimiter
from server.referrals import views as referral_views
from server.reviews import views as review_views
from server.sessions import views as session_views
from server.settings import Settings, secure_data_dir
from server.sync import views as sync_views
from server.sync.keys import KeyRing
from server.web.admission import AdmissionMiddleware
from server.web.csrf import CsrfMiddleware
from server.web.locale_middleware import LocaleMiddleware
from server.web.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from server.web.static_files import HashedStaticFiles
from server.web.templating import PWA_DIR, STATIC_DIR


def routes() -> list[BaseRoute]:
    return [
        Route("/", views.home, name="home"),
        Route("/language", views.set_language, methods=["POST"], name="set_language"),
        Route("/healthz", views.healthz, name="healthz"),
        *account_routes(),
        *participant_views.routes,
        *subject_access_views.routes,
        *appointment_views.routes,
        *session_views.routes,
        *form_views.routes,
        *sync_views.routes,
        *family_views.routes,
        *reminder_views.routes,
        *review_views.routes,
        *assessment_views.routes,
        *referral_views.routes,
        *indicator_views.routes,
        *programme_views.routes,
        *ops_views.routes,
        *org_views.routes,
        *import_views.routes,
        *pwa_routes,
        Mount("/static", HashedStaticFiles(directory=STATIC_DIR), name="static"),
        Mount("/pwa", HashedStaticFiles(directory=PWA_DIR), name="pwa"),
    ]


def account_routes() -> list[BaseRoute]:
    post = ["POST"]
    return [
        Route("/signin", accounts.signin_page, name="signin"),
        Route("/api/auth/signin/options", accounts.signin_options, methods=post),
        Route("/api/auth/signin/verify", accounts.signin_verify, methods=post),
        Route("/enrol/{token}", accounts.enrol_page, name="enrol"),
        Route("/api/auth/enrol/{token}/options", accounts.enrol_options, methods=post),
        Route("/api/auth/enrol/{token}/verify", accounts.enrol_verify, methods=post),
        Route("/signout", accounts.signout, methods=post, name="signout"),
        Route("/account", accounts.account_page, name="account"),
        Route("/api/me", accounts.me, name="me"),
        Route("/account/language", accounts.account_language, methods=post),
        Route("/api/account/passkeys/options", accounts.add_passkey_options, methods=post),
        Route("/api/account/passkeys/verify", accounts.add_passkey_verify, methods=post),
        Route("/account/passkeys/{passkey_id:int}/rename", accounts.rename_passkey, methods=post),
        Route("/account/passkeys/{passkey_id:int}/remove", accounts.remove_passkey, methods=post),
        Route("/invitations/new", admin.invitation_form, name="invitation_form"),
        Route("/invitations", admin.invitation_create, methods=post, name="invitation_create"),
        Route("/admin/users", admin.users_page, name="admin_users"),
        Route("/admin/users/{id:int}/disable", admin.user_disable, methods=post),
        Route("/admin/users/{id:int}/enable", admin.user_enable, methods=post),
        Route("/admin/users/{id:int}/recovery", admin.user_recovery, methods=post),
        Route("/admin/passkeys/{id:int}/revoke", admin.passkey_revoke, methods=post),
        Route("/admin/audit", audit_views.audit_page, name="admin_audit"),
    ]


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> Starlette:
    settings = settings or Settings.from_env()
    secure_data_dir(settings.data_dir)
    catalogues = i18n.load_catalogues(settings.locales_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=db.tortoise_config(settings.database_url)):
            db.restrict_files(settings.database_url)
            yield

    def now() -> datetime:
        # Read at call time: tests replace app.state.clock after creation.
        current: datetime = app.state.clock()
        return current

    middleware = [
        Middleware(SecurityHeadersMiddleware, https=settings.secure),
        *ops_middleware.middleware(settings),
        # Level 6, not Starlette's 9: a third of the CPU for 2% more bytes.
        Middleware(GZipMiddleware, minimum_size=500, compresslevel=6),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        # Before the session look-up: a refusal when busy costs no query.
        Middleware(AdmissionMiddleware, settings=settings),
        Middleware(AuthMiddleware, settings=settings, clock=now),
        Middleware(LocaleMiddleware, settings=settings, catalogues=catalogues),
        Middleware(CsrfMiddleware, settings=settings),
    ]
    app = Starlette(
        debug=False,
        routes=routes(),
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalogues = catalogues
    # Tests replace the clock to move time instead of sleeping.
    app.state.clock = clock
    app.state.rate_limiter = RateLimiter.from_url(settings.redis_url)
    app.state.sealing_keys = KeyRing.load(settings.data_dir / "sync-keys")
    audit_keys.install(audit_keys.load(settings))
    return app
