import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, Response

from server.i18n import load_catalogues
from server.pwa.messages import client_messages
from server.settings import ROOT, Settings
from tests.support import live
from tests.support.live import LiveServer
from tests.support.pwa import ACTIVATED

pytestmark = pytest.mark.browser

OFFLINE = "You are offline. What you save stays on this phone and is sent when the network returns."
STORAGE = (
    "This phone may delete saved work when space runs low. "
    "Keep the app installed and open it online often."
)
CACHE_CONTENTS = """async () => {
  const contents = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    contents[name] = (await cache.keys()).map(({ url }) => url.slice(location.origin.length));
  }
  return contents;
}"""


class Traffic:
    """Every response that came over the network rather than from the service worker."""

    def __init__(self, context: BrowserContext) -> None:
        self.network: list[str] = []
        context.on("response", self._seen)

    def _seen(self, response: Response) -> None:
        if not response.from_service_worker:
            self.network.append(response.url)


def served_shell(live_server: LiveServer) -> dict[str, Any]:
    source = httpx.get(f"{live_server.url}/sw.js").text
    config: dict[str, Any] = json.loads(source.splitlines()[0][len("const SHELL = ") : -1])
    return config


def stored_on_install(config: dict[str, Any], *languages: str) -> list[str]:
    """What the worker stores: the assets and each language's files."""
    per_language = [u.replace("{lang}", lang) for lang in languages for u in config["languageUrls"]]
    return sorted([*config["assets"], *per_language])


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def shell_cache(page: Page, config: dict[str, Any]) -> list[str]:
    contents = await page.evaluate(CACHE_CONTENTS)
    return sorted(contents[f"homeward-shell-{config['version']}"])


def translated(language: str, message: str) -> str:
    return load_catalogues(ROOT / "locales")[language].gettext(message)


async def install(page: Page, language: str) -> None:
    await page.context.set_extra_http_headers({"Accept-Language": language})
    await page.goto("/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # Start-up done: registered, language stored in the worker, storage checked.
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")


async def test_offline_pages_come_from_the_cache_in_the_right_language(page: Page) -> None:
    traffic = Traffic(page.context)
    await install(page, "kk")
    assert any("/app/shell?lang=kk" in url for url in traffic.network), "sees the precache"
    traffic.network.clear()
    await page.context.set_offline(True)

    for path in ("/", "/app/shell", "/participants/42"):
        response = await page.goto(path)
        assert response is not None and response.ok, path
        assert response.from_service_worker, path
        await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
        assert await page.locator("html").get_attribute("lang") == "kk"
        assert await page.locator("#app").count() == 1
        assert await page.locator("#offline-notice").inner_text() == translated("kk", OFFLINE)
        assert await page.locator(".langs-label").inner_text() == translated("kk", "Language")
        # The style sheet and modules really came from the cache.
        assert await page.evaluate("getComputedStyle(document.querySelector('.bar')).display") == (
            "flex"
        )
    assert traffic.network == []


async def test_arabic_offline_shell_is_right_to_left(page: Page, live_server: LiveServer) -> None:
    await install(page, "ar")
    # Only Arabic's shell, messages and manifest were stored, not all five languages'.
    config = served_shell(live_server)
    assert await shell_cache(page, config) == stored_on_install(config, "ar")
    await page.context.set_offline(True)
    for path in ("/", "/app/shell", "/app/shell?lang=en"):
        await page.goto(path)
        await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
        html = page.locator("html")
        assert (await html.get_attribute("lang"), await html.get_attribute("dir")) == ("ar", "rtl")
        assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        assert await page.locator("#offline-notice").inner_text() == translated("ar", OFFLINE)
        # The client's own strings too: /i18n/ar.json came from the cache.
        assert (
            await page.evaluate("import('/pwa/i18n.js').then((m) => m._('Update now'))")
            == (client_messages(ROOT / "locales", "ar")["Update now"])
        )


async def test_switching_language_online_stores_that_shell_for_offline(
    page: Page, live_server: LiveServer
) -> None:
    await install(page, "ar")
    # The person picks Russian in the footer; the page comes back in Russian.
    async with page.expect_navigation():
        await page.locator("footer button[name=language][value=ru]").click()
    assert await page.locator("html").get_attribute("lang") == "ru"
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    config = served_shell(live_server)
    assert await shell_cache(page, config) == stored_on_install(config, "ar", "ru")

    await page.context.set_offline(True)
    for path in ("/", "/participants/42"):
        response = await page.goto(path)
        assert response is not None and response.from_service_worker, path
        await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
        html = page.locator("html")
        assert (await html.get_attribute("lang"), await html.get_attribute("dir")) == ("ru", "ltr")
        assert await page.locator("#offline-notice").inner_text() == translated("ru", OFFLINE)
        assert await page.locator(".langs-label").inner_text() == translated("ru", "Language")
    # The Arabic shell stays for whoever on this phone reads Arabic.
    await page.goto("/app/shell?lang=ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"


async def test_first_install_stores_the_page_language_not_the_browsers(
    page: Page, live_server: LiveServer
) -> None:
    # The browser asks for English, but the person chose Kazakh earlier (cookie).
    await page.context.add_cookies(
        [{"name": "homeward_lang", "value": "kk", "url": live_server.url}]
    )
    await install(page, "en")
    assert await page.locator("html").get_attribute("lang") == "kk"
    config = served_shell(live_server)
    assert await shell_cache(page, config) == stored_on_install(config, "kk")


async def test_install_downloads_nothing_the_page_already_has(
    page: Page, live_server: LiveServer
) -> None:
    page_got: set[str] = set()
    worker_got: dict[str, tuple[int, bool]] = {}  # body size, revalidated
    requests: list[Request] = []
    page.context.on("requestfinished", lambda request: requests.append(request))
    await install(page, "en")
    await page.evaluate(ACTIVATED)
    config = served_shell(live_server)
    stored = stored_on_install(config, "en")

    def by_worker() -> set[str]:
        return {_path(r.url) for r in requests if r.service_worker}

    # The worker's requests are reported from its own target: let them all arrive.
    for _ in range(50):
        if set(stored) <= by_worker():
            break
        await page.wait_for_timeout(100)
    for request in requests:
        response = await request.response()
        if response is None or response.from_service_worker:
            continue
        path = _path(request.url)
        if request.service_worker:
            body = (await request.sizes())["responseBodySize"]
            worker_got[path] = (body, "if-none-match" in await request.all_headers())
        else:
            page_got.add(path)
    assert set(worker_got) - {"/sw.js"} <= set(stored)  # nothing else, no other language
    again = set(worker_got) & page_got & set(stored)
    assert {"/pwa/i18n.js", "/pwa/register.js", "/i18n/en.json"} <= again
    for path in again:
        body, revalidating = worker_got[path]
        # A 304 (headers only) or the HTTP cache (Chromium reports -headers): never the body.
        assert body <= 0, path
        if "?v=" not in path:
            assert revalidating, path  # a plain URL is always checked with the server
    # What the page never fetched (the offline screens) is downloaded once, in full.
    assert all(worker_got[path][0] > 0 for path in set(stored) - page_got), worker_got


async def test_cache_storage_holds_only_the_precache_list(
    page: Page, live_server: LiveServer
) -> None:
    await install(page, "fr")
    # Pages a person visits online are never added.
    for path in ("/", "/signin", "/healthz", "/app/shell?lang=fr"):
        await page.goto(path)
    await page.goto("/")
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    shell = served_shell(live_server)
    contents = await page.evaluate(CACHE_CONTENTS)
    name = f"homeward-shell-{shell['version']}"
    assert set(contents) == {name, "homeward-state"}
    # Nothing visited was added, and only the language in use.
    assert sorted(contents[name]) == stored_on_install(shell, "fr")
    assert sorted(contents["homeward-state"]) == ["/__homeward/language", "/__homeward/languages"]
    assert (
        await page.evaluate("() => caches.match('/__homeward/language').then((r) => r.text())")
        == "fr"
    )


def copy_of_the_app(target: Path) -> Path:
    for name in ("server", "pwa", "static", "locales"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def release(
    settings: Settings, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Path], LiveServer]]:
    """Serve a tree on one fixed port; each call stops the previous server,
    as a deployment replaces the old release at the same origin."""
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
    }
    port = live.free_port()
    running: list[LiveServer] = []

    def serve(root: Path) -> LiveServer:
        while running:
            running.pop().stop()
        monkeypatch.setattr(live, "ROOT", root)
        running.append(live.start(env, port=port))
        return running[-1]

    yield serve
    while running:
        running.pop().stop()


async def test_update_waits_for_the_person_then_replaces_the_old_cache(
    browser: Browser, release: Callable[[Path], LiveServer], tmp_path: Path
) -> None:
    first = release(copy_of_the_app(tmp_path / "first"))
    context = await browser.new_context(base_url=first.url)
    page = await context.new_page()
    await install(page, "kk")
    # Someone else on this phone reads Russian: switch there and back.
    for language in ("ru", "kk"):
        async with page.expect_navigation():
            await page.locator(f"footer button[name=language][value={language}]").click()
        await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    old = str(served_shell(first)["version"])

    # The next release changes one shell file, so it serves a new worker.
    nxt = copy_of_the_app(tmp_path / "next")
    with (nxt / "pwa" / "notices.js").open("a") as handle:
        handle.write("// the next release\n")
    new = str(served_shell(release(nxt))["version"])
    assert new != old
    await page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => r.update())")

    banner = page.locator("[data-notice=update]")
    messages = client_messages(ROOT / "locales", "kk")
    ready = "A new version is ready."
    await banner.get_by_text(messages.get(ready, ready)).wait_for()
    # Waiting: the old version still controls the page and keeps its cache.
    assert set(await page.evaluate("() => caches.keys()")) == {
        f"homeward-shell-{old}",
        f"homeward-shell-{new}",
        "homeward-state",
    }
    async with page.expect_navigation():
        await banner.get_by_role("button", name=messages.get("Update now", "Update now")).click()
    await page.evaluate(ACTIVATED)
    assert set(await page.evaluate("() => caches.keys()")) == {
        f"homeward-shell-{new}",
        "homeward-state",
    }
    assert await page.evaluate(
        "() => navigator.serviceWorker.getRegistration().then((r) => r.waiting === null)"
    )
    assert "the next release" in await page.evaluate(
        "() => caches.match('/pwa/notices.js').then((r) => r.text())"
    )
    # The new version stored the languages used on this phone, and only those.
    contents = await page.evaluate(CACHE_CONTENTS)
    shells = [url for url in contents[f"homeward-shell-{new}"] if url.startswith("/app/shell")]
    assert sorted(shells) == ["/app/shell?lang=kk", "/app/shell?lang=ru"]
    await context.close()


async def test_first_install_shows_no_update_banner(page: Page) -> None:
    await install(page, "en")
    await page.evaluate(ACTIVATED)
    assert await page.locator("[data-notice=update]").count() == 0


STORAGE_SCRIPT = """
StorageManager.prototype.persisted = async () => %(persisted)s;
StorageManager.prototype.persist = async () => %(persist)s;
StorageManager.prototype.estimate = async () => ({ usage: %(usage)s, quota: 100 });
"""


@pytest.mark.parametrize(
    ("persisted", "persist", "usage", "state"),
    [
        ("false", "false", 0, "refused"),
        ("false", "true", 10, "ok"),
        ("true", "false", 10, "ok"),
        ("true", "false", 81, "full"),
    ],
)
async def test_storage_warning(
    page: Page, persisted: str, persist: str, usage: int, state: str
) -> None:
    script = STORAGE_SCRIPT % {"persisted": persisted, "persist": persist, "usage": usage}
    await page.add_init_script(script)
    await page.goto("/")
    await page.wait_for_function("() => document.documentElement.dataset.pwa")
    assert await page.evaluate("document.documentElement.dataset.storage") == state
    warning = page.locator("[data-notice=storage]")
    if state == "ok":
        assert await warning.count() == 0
    else:
        assert await warning.inner_text() == STORAGE
        assert await warning.get_attribute("class") == "notice warn"
