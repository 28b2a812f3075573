"""Who is asking: resume the sign-in session from its cookie, and make sure
every visitor has a CSRF token (the session's, or an anonymous one)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.accounts import sessions
from server.accounts.cookies import csrf_cookie, request_cookies, session_cookie
from server.clock import Clock
from server.settings import Settings


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def user_agent(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"user-agent":
            return str(value.decode("latin-1"))[:200]
    return ""


class AuthMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings, clock: Clock) -> None:
        self.app = app
        self.settings = settings
        self.clock = clock
        self.lifetimes = sessions.Lifetimes(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_max_hours),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        cookies = request_cookies(scope)
        state["user"] = None
        state["login_session"] = None
        state["session_token"] = None
        token = cookies.get(session_cookie(self.settings))
        clear_session = False
        if token and not scope["path"].startswith(("/static/", "/pwa/")):
            session = await sessions.resume(token=token, now=self.clock(), lifetimes=self.lifetimes)
            if session is None:
                clear_session = True
            else:
                state["user"] = session.user
                state["login_session"] = session
                state["session_token"] = token
        anonymous_csrf = cookies.get(csrf_cookie(self.settings))
        new_csrf = None
        if state["login_session"] is not None:
            state["csrf_token"] = state["login_session"].csrf_token
        else:
            if not anonymous_csrf or len(anonymous_csrf) < 32:
                anonymous_csrf = new_csrf = secrets.token_urlsafe(32)
            state["csrf_token"] = anonymous_csrf

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                secure = "; Secure" if self.settings.secure else ""
                if new_csrf:
                    headers.append(
                        "set-cookie",
                        f"{csrf_cookie(self.settings)}={new_csrf}; HttpOnly; Path=/; "
                        f"SameSite=Strict{secure}",
                    )
                if clear_session and not state.get("session_cookie_set"):
                    headers.append(
                        "set-cookie",
                        f"{session_cookie(self.settings)}=; HttpOnly; Max-Age=0; Path=/; "
                        f"SameSite=Lax{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookies)
