"""Repeat and offline visits: what still goes over the network once the app is installed.

A signed-in worker (a session made in the database, as the tests do) opens
`/` in Chromium (`/usr/bin/chromium` through Playwright, with the flags of
`tests/support/browser.py`) and waits until the service worker controls the
page and the app says it is ready (`data-pwa="ready"`): the app is
installed. Then:

- **repeat visit**: the page is reloaded online;
- **offline visit**: the browser is taken offline and the page reloaded.

Every response the browser context sees that the service worker did not
answer counts as reaching the network; Playwright reports the service
worker's own fetches too (marked "by the service worker" in the notes), so a
page answered by the worker from a fetch of its own still counts. A request
is a *shell* request when its path is in the service worker's precache list
(the first line of `/sw.js`: the assets and every language's shell page,
messages and manifest); the page itself and API calls are listed apart,
since online a signed-in page is fetched fresh on purpose (network first, the
cache only when offline). Offline, requests the browser tried and failed
(the page's network-first fetch, API calls) are listed but never reached
the network.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from playwright.async_api import BrowserContext, Page, Response, async_playwright
from tortoise import Tortoise

from bench.context import Context
from bench.rows import Row
from server import db
from server.accounts import sessions
from server.enums import Role
from tests.support import browser, world
from tests.support.live import LiveServer

READY = "() => document.documentElement.dataset.pwa === 'ready'"
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
SETTLE_MS = 1500  # after load: late fetches (sync, update checks) have time to show


@dataclass
class Traffic:
    """Paths the browser got from the network rather than from the service worker."""

    network: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("response", self._response)
        context.on("requestfailed", lambda request: self.failed.append(_path(request.url)))

    def _response(self, response: Response) -> None:
        if not response.from_service_worker:
            by_worker = " (by the service worker)" if response.request.service_worker else ""
            self.network.append(_path(response.url) + by_worker)

    def clear(self) -> None:
        self.network.clear()
        self.failed.clear()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _precache(base: str) -> tuple[set[str], int]:
    """Every URL the worker may store (the assets and each language's files),
    and how many it stores for one language."""
    first = httpx.get(f"{base}/sw.js", timeout=10).text.splitlines()[0]
    config = json.loads(first[len("const SHELL = ") : -1])
    per_language = [
        url.replace("{lang}", language)
        for language in config["languages"]
        for url in config["languageUrls"]
    ]
    storable = {_path(str(url)) for url in [*config["assets"], *per_language]}
    return storable, len(config["assets"]) + len(config["languageUrls"])


async def _signed_in_worker(database_url: str) -> str:
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        org = await world.organisation("Repeat visit NGO")
        officer = await world.user(org, Role.OFFICER)
        worker = await world.user(org, Role.WORKER)
        participant = await world.participant(org, officer)
        await participant.workers.add(worker)
        started = await sessions.start(
            user=worker, now=datetime.now(UTC), ip="127.0.0.1", device="repeat visit"
        )
        return started.token
    finally:
        await Tortoise.close_connections()


@dataclass(frozen=True)
class Visit:
    network: list[str]
    failed: list[str]
    page_ok: bool

    def reached(self) -> list[str]:
        return self.network


async def _visit(page: Page, traffic: Traffic) -> Visit:
    traffic.clear()
    response = await page.reload(wait_until="load")
    await page.wait_for_function(READY, timeout=20_000)
    await page.wait_for_timeout(SETTLE_MS)
    ok = response is not None and response.ok
    return Visit(list(traffic.network), list(traffic.failed), ok)


async def _measure(app: LiveServer, token: str) -> tuple[Visit, Visit]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=browser.CHROMIUM, args=browser.ARGS
        )
        try:
            context = await chromium.new_context(base_url=app.url)
            await context.add_cookies(
                [{"name": "homeward_session", "value": token, "url": app.url}]
            )
            traffic = Traffic()
            traffic.watch(context)
            page = await context.new_page()
            await page.goto("/")
            await page.wait_for_function(CONTROLLED, timeout=30_000)
            await page.wait_for_function(READY, timeout=30_000)
            await page.wait_for_load_state("networkidle")
            repeat = await _visit(page, traffic)
            await context.set_offline(True)
            offline = await _visit(page, traffic)
            await context.close()
        finally:
            await chromium.close()
    return repeat, offline


def _bare(entry: str) -> str:
    return entry.removesuffix(" (by the service worker)")


def _notes(visit: Visit, shell: set[str]) -> str:
    reached = visit.reached()
    shell_hits = [p for p in reached if _bare(p) in shell]
    other = [p for p in reached if _bare(p) not in shell]
    notes = f"network requests: {len(reached)}; shell files among them: {len(shell_hits)}"
    if shell_hits:
        notes += " (" + ", ".join(shell_hits) + ")"
    if other:
        notes += "; not in the precache: " + ", ".join(other)
    if visit.failed:
        notes += "; tried and failed, never reaching the network: "
        notes += ", ".join(visit.failed)
    if not visit.page_ok:
        notes += "; the page did not load"
    return notes


def run(context: Context) -> list[Row]:
    if not browser.available():
        return [
            Row("Repeat visit", "Network requests on a repeat visit", "not measured — no Chromium")
        ]
    app = context.servers.app
    data_dir = context.servers.log.parent
    token = asyncio.run(_signed_in_worker(f"sqlite://{data_dir / 'bench.sqlite3'}"))
    shell, precached = _precache(f"http://127.0.0.1:{app.port}")
    repeat, offline = asyncio.run(_measure(app, token))
    repeat_shell = sum(_bare(p) in shell for p in repeat.reached())
    offline_all = len(offline.reached())
    return [
        Row(
            "Repeat visit",
            "Shell files fetched over the network on a repeat visit, signed-in worker, "
            "service worker installed (online reload of `/`)",
            f"{repeat_shell}",
            f"{precached} files in the precache (one language)",
            target=f"0 ({'met' if repeat_shell == 0 else 'not met'})",
            notes=_notes(repeat, shell),
        ),
        Row(
            "Offline visit",
            "Network requests when `/` is reloaded offline, signed-in worker",
            f"{offline_all}",
            target=f"0 ({'met' if offline_all == 0 and offline.page_ok else 'not met'})",
            notes=_notes(offline, shell),
        ),
    ]


def main() -> None:
    """Run only this benchmark and print its rows (``python -m bench.repeat_visit``)."""
    from bench.alone import run_alone

    run_alone(run)


if __name__ == "__main__":
    main()
