"""Admission control: a busy server says so at once instead of making phones wait.

Each app process lets a bounded number of sync requests (push and pull) run
at once and a bounded number wait behind them; pages have a budget of their
own, so a crowd of phones syncing cannot take the pages' turn. A request
beyond both bounds, or one that waited longer than the queue allows, is
answered ``503`` with ``Retry-After`` before anything else happens: no
session look-up, no body parsed, nothing written. The phone keeps its
entries and sends them again after that many seconds (docs/sync.md,
"When the server is busy").

A push's body is read before it joins the queue: a phone on a slow link
spends its upload outside the budget, so eight slow uploads cannot hold
every slot while the server sits idle.

Static files, the service worker, ``/healthz`` and ``/metrics`` are cheap
and needed to see what is going on: they are never queued.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import i18n
from server.accounts.cookies import request_cookies
from server.errors import DEFAULT_MESSAGES, render_error
from server.settings import Settings

SYNC_PATHS = frozenset({"/api/sync/push", "/api/sync/pull"})
UNQUEUED_PREFIXES = ("/static/", "/pwa/")
UNQUEUED_PATHS = frozenset({"/healthz", "/metrics", "/sw.js", "/manifest.webmanifest"})
BUSY_CODE = "busy"


@dataclass
class Lane:
    """At most ``limit`` requests inside at once, ``queue`` more waiting in
    order for at most ``wait`` seconds; anyone else is turned away."""

    limit: int
    queue: int
    wait: float
    active: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    async def enter(self) -> bool:
        """Take a place (True), or be refused at once or after the wait (False)."""
        if self.active < self.limit and not self.waiters:
            self.active += 1
            return True
        if len(self.waiters) >= self.queue:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(turn)
        try:
            await asyncio.wait_for(turn, self.wait)
        except BaseException as error:
            if turn.done() and not turn.cancelled():
                self.leave()  # the place was handed over as we gave up: pass it on
            elif turn in self.waiters:
                self.waiters.remove(turn)
            if isinstance(error, TimeoutError):
                return False
            raise
        return True

    def leave(self) -> None:
        """Give the place to the first still waiting, or free it."""
        while self.waiters:
            turn = self.waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # ``active`` stays: the place changes hands
                return
        self.active -= 1


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.sync = Lane(settings.sync_concurrency, settings.sync_queue, settings.queue_seconds)
        self.pages = Lane(settings.page_concurrency, settings.page_queue, settings.queue_seconds)

    def _lane(self, scope: Scope) -> Lane | None:
        path: str = scope["path"]
        if path in SYNC_PATHS:
            return self.sync
        if path in UNQUEUED_PATHS or path.startswith(UNQUEUED_PREFIXES):
            return None
        return self.pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane(scope) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        if lane is self.sync and scope["method"] == "POST":
            receive = await _received(receive)
        if not await lane.enter():
            await self._busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            lane.leave()

    async def _busy(self, scope: Scope, receive: Receive, send: Send) -> None:
        """503 with Retry-After, in the visitor's language (no session is read)."""
        # Spread over base…2×base seconds, so refused phones do not all
        # come back in the same second.
        base = self.settings.busy_retry_after
        retry_after = random.randint(base, 2 * base)  # noqa: S311 — spreading, not secrecy
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        language = i18n.negotiate(
            user_language=None,
            cookie_language=request_cookies(scope).get(i18n.LANGUAGE_COOKIE),
            accept_language=headers.get("accept-language", ""),
            fallback=self.settings.default_language,
        )
        catalogues = scope["app"].state.catalogues
        i18n.activate(
            i18n.Translator(
                language=language,
                translations=catalogues[language],
                time_zone=self.settings.time_zone,
            )
        )
        request = Request(scope, receive)
        message = i18n.gettext(DEFAULT_MESSAGES[503])
        answer = {"Retry-After": str(retry_after), "Content-Language": language}
        response = await render_error(request, 503, message, BUSY_CODE, answer)
        await response(scope, receive, send)


async def _received(receive: Receive) -> Receive:
    """Read the request's body now; hand the same messages to the app later.

    An error while reading (a body over the size limit) is raised again from
    the app's first ``receive``, so the route answers it as it always did.
    """
    messages: list[Message] = []
    failure: Exception | None = None
    try:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
    except Exception as error:  # re-raised below, where the route handles it
        failure = error

    async def replay() -> Message:
        if failure is not None:
            raise failure
        if messages:
            return messages.pop(0)
        return await receive()

    return replay
