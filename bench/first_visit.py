"""First visit: the bytes a phone downloads to show the home page with a cold cache.

The home page is fetched with `Accept-Encoding: gzip`, then everything it
references, as a browser would: stylesheets, icons, the manifest and its
icons, scripts and images in the HTML; `url()` in CSS; ES module imports and
the service worker's script in JavaScript. Every icon the manifest lists is
counted, though a browser fetches only one or two, so the figure errs high.
Wire bytes are the status line, headers and compressed bodies (no TCP or TLS
overhead).

The second row is the same first visit in Chromium (`/usr/bin/chromium`
through Playwright, a fresh profile, the flags of `tests/support/browser.py`),
counted until the service worker is installed and active and the page's
start-up has finished: the page, what the browser fetches for an install
prompt (the manifest and the icon it picks), and the worker's precache, which
comes out of the same data budget. Each response counts as Chromium reports
it (`encodedDataLength`: headers and compressed body over HTTP/1.1): 0 when
the HTTP cache answered, the 304's headers when a file was revalidated. The
one gap in Chromium's figures, the worker script's body (reported as 0), is
filled from its `Content-Length`. Chromium here picks the SVG icon, which the
page already has; Chrome on a phone may fetch one PNG instead (2.6 to 6.5 KB),
which this count lacks.

What limits the figure: the code, each file on its own. The shell's 27
modules are served as they are (no build step) and compressed one by one:
about 52 KB of gzip for 139 KB of source, much of it comments, and prose
compresses worse than code. Response headers were the other large part:
every file carried a page's whole policy (about 0.7 KB a response over
HTTP/1.1). Static files now carry only what acts on a file (`nosniff`,
`Cross-Origin-Resource-Policy`, caching, `ETag`, `Vary`), an SVG icon the
policy that loads nothing, JSON the same short policy, and a 304 no policy
at all (about 0.3 KB a static file: `server/web/security.py`). Over the same 27
modules, measured with Node's zlib: Brotli (quality 11) file by file would
take off 15 %, one file for all of them (Brotli) 33 %, and the comments
removed (gzip, line and JSDoc comments) 36 %; all three together, 59 %
(22 KB), which would bring the whole first visit to about 45 KB. Each needs
a library or a build step the project does not have (its style: "no build
step"), so the target is out of reach while the modules are served as they
are.

Run alone with `python -m bench.first_visit`.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
from playwright.async_api import Request, async_playwright

from bench.context import Context
from bench.rows import Row, kilobytes, ratio
from tests.support import browser
from tests.support.pwa import ACTIVATED

TARGET_BYTES = 50_000
FOLLOWED_RELS = {"stylesheet", "icon", "apple-touch-icon", "manifest", "modulepreload", "preload"}
# Module specifiers must be paths here (there is no build step or import map),
# so only quoted strings starting with "/", "./" or "../" count.
JS_IMPORTS = re.compile(r"""(?:\bfrom|\bimport|\bimport\s*\()\s*(["'])((?:/|\./|\.\./)[^"']*)\1""")
SERVICE_WORKER = re.compile(r"""\.register\s*\(\s*(["'])((?:/|\./|\.\./)[^"']*)\1""")
CSS_REFERENCES = re.compile(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""")


class _HtmlReferences(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and FOLLOWED_RELS & set(values.get("rel", "").lower().split()):
            self.found.append(values.get("href", ""))
        elif tag in ("script", "img") and values.get("src"):
            self.found.append(values["src"])


@dataclass(frozen=True)
class Fetched:
    path: str
    status: int
    wire_bytes: int
    body_bytes: int


@dataclass
class Visit:
    fetched: list[Fetched] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # the app must never make these


def _kind(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip()


def _references(response: httpx.Response) -> list[str]:
    kind = _kind(response)
    if kind == "text/html":
        parser = _HtmlReferences()
        parser.feed(response.text)
        return parser.found
    if kind == "text/css":
        return [m.group(1) for m in CSS_REFERENCES.finditer(response.text)]
    if kind in ("text/javascript", "application/javascript"):
        found = [*JS_IMPORTS.finditer(response.text), *SERVICE_WORKER.finditer(response.text)]
        return [m.group(2) for m in found]
    if kind in ("application/manifest+json", "application/json"):
        return [icon.get("src", "") for icon in json.loads(response.text).get("icons", [])]
    return []


def _wire_bytes(response: httpx.Response) -> int:
    status_line = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
    headers = sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    return len(status_line) + headers + 2 + response.num_bytes_downloaded


def _fetch(client: httpx.Client, url: str) -> tuple[Fetched, httpx.Response]:
    response = client.get(url)
    size = _wire_bytes(response)
    return Fetched(urlsplit(url).path, response.status_code, size, len(response.content)), response


def visit(base_url: str, language: str) -> Visit:
    """Fetch the home page and all it references, as a browser with a cold cache."""
    origin = urlsplit(base_url).netloc
    result = Visit()
    seen: set[str] = set()
    queue = deque([base_url + "/"])
    with _client(language) as client:
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            if urlsplit(url).netloc != origin:
                result.foreign.append(url)
                continue
            fetched, response = _fetch(client, url)
            result.fetched.append(fetched)
            if response.status_code == 200:
                queue.extend(urljoin(url, ref) for ref in _references(response) if ref)
    return result


def _client(language: str) -> httpx.Client:
    # A new client has an empty cache and no cookies: a first visit.
    headers = {"Accept-Encoding": "gzip", "Accept-Language": language}
    return httpx.Client(headers=headers, timeout=10)


def _problems(fetched: list[Fetched], foreign: list[str]) -> str:
    notes = ""
    missing = [f"{item.path} ({item.status})" for item in fetched if item.status != 200]
    if missing:
        notes += "; failed: " + ", ".join(missing)
    if foreign:
        notes += "; third-party requests: " + ", ".join(foreign)
    return notes


def _page_notes(fetched: list[Fetched], foreign: list[str]) -> str:
    parts = [f"{item.path} {kilobytes(item.wire_bytes)}" for item in fetched]
    notes = f"{len(fetched)} requests: " + ", ".join(parts)
    notes += f"; {kilobytes(sum(item.body_bytes for item in fetched))} once decompressed"
    return notes + _problems(fetched, foreign)


STARTED = "() => document.documentElement.dataset.pwa"
SETTLE_MS = 1000  # late fetches (an update check, the install prompt's icon) show up
VALIDATORS = ("if-none-match", "if-modified-since")


@dataclass(frozen=True)
class Seen:
    """One response Chromium got from the network (or from its HTTP cache)."""

    path: str
    by_worker: bool  # the service worker's script or its own fetch, not the page's
    wire_bytes: int
    header_bytes: int
    how: str  # "full", "304" (revalidated: headers only) or "cache" (HTTP cache, 0 bytes)


async def _seen(request: Request) -> Seen | None:
    response = await request.response()
    if response is None or response.from_service_worker:
        return None  # answered by the worker: its own fetch, if any, is counted
    sizes = await request.sizes()
    headers, body = sizes["responseHeadersSize"], sizes["responseBodySize"]
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    worker = bool(request.service_worker)
    if headers + body <= 0:
        return Seen(path, worker, 0, 0, "cache")
    if body <= 0:
        asked = await request.all_headers()
        if any(name in asked for name in VALIDATORS):
            return Seen(path, worker, headers, headers, "304")
        # Chromium gives no body size for the worker's own script.
        declared = await response.header_value("content-length")
        body = int(declared or 0)
    return Seen(path, worker, headers + body, headers, "full")


async def _in_chromium(base_url: str, language: str) -> tuple[list[Seen], list[str]]:
    """Everything a first visit in Chromium fetches until the worker is active."""
    seen: list[Seen] = []
    foreign: list[str] = []
    pending: list[asyncio.Task[Seen | None]] = []
    origin = urlsplit(base_url).netloc
    with tempfile.TemporaryDirectory(prefix="homeward-first-visit-") as profile:
        async with async_playwright() as playwright:
            # A persistent profile, not an incognito context: Chromium then
            # fetches the manifest and checks installability as a phone does.
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=browser.CHROMIUM,
                args=browser.ARGS,
                base_url=base_url,
                extra_http_headers={"Accept-Language": language},
            )
            try:

                def finished(request: Request) -> None:
                    if urlsplit(request.url).netloc != origin:
                        foreign.append(request.url)
                    pending.append(asyncio.ensure_future(_seen(request)))

                context.on("requestfinished", finished)
                page = context.pages[0] if context.pages else await context.new_page()
                await page.goto("/")
                await page.wait_for_function(STARTED, timeout=30_000)
                await page.evaluate(ACTIVATED)
                # What an install prompt needs (manifest, icon), as Chrome on a
                # phone checks on its own.
                cdp = await context.new_cdp_session(page)
                await cdp.send("Page.getInstallabilityErrors")
                await page.wait_for_load_state("networkidle")
                await page.wait_for_timeout(SETTLE_MS)
                found = await asyncio.gather(*pending)
            finally:
                await context.close()
    seen = [item for item in found if item is not None]
    return seen, foreign


def _chromium_notes(seen: list[Seen], foreign: list[str]) -> str:
    page = [item for item in seen if not item.by_worker]
    worker = [item for item in seen if item.by_worker]
    script = [item for item in worker if urlsplit(item.path).path == "/sw.js"]
    loaded = {item.path for item in page}

    def total(items: list[Seen]) -> str:
        return kilobytes(sum(item.wire_bytes for item in items))

    def how(kind: str) -> list[Seen]:
        return [item for item in worker if item.how == kind and item not in script]

    full, revalidated, cached = how("full"), how("304"), how("cache")
    twice = [item for item in full if item.path in loaded]
    modules = [item for item in full if item.path.startswith("/pwa/") and item not in twice]
    others = Counter(urlsplit(i.path).path for i in full if i not in modules and i not in twice)
    everything = sum(item.wire_bytes for item in seen)
    headers = sum(item.header_bytes for item in seen)
    sent = [item for item in seen if item.how != "cache"]
    notes = (
        f"page and browser {total(page)} ({len(page)} responses, the manifest among them); "
        f"service worker {total(worker)}: its script {total(script)}, "
        f"{len(full)} files downloaded in full {total(full)} "
        f"({len(twice)} of them already downloaded by the page, {total(twice)}; "
        f"{len(modules)} modules of the offline screens the page does not load, "
        f"{total(modules)}; "
        + ", ".join(f"{path} ×{n}" if n > 1 else path for path, n in others.items())
        + f"), {len(revalidated)} revalidated with a 304 (headers only) {total(revalidated)}, "
        f"{len(cached)} from the HTTP cache 0 B; "
        f"response headers {kilobytes(headers)} of it "
        f"(HTTP/1.1, about {kilobytes(headers / max(len(sent), 1))} a response)"
    )
    if everything > TARGET_BYTES:
        module_bodies = sum(item.wire_bytes - item.header_bytes for item in modules)
        notes += (
            f"; over the target by {kilobytes(everything - TARGET_BYTES)}, because of:"
            f" response headers ({len(sent)} responses over HTTP/1.1: each file its own),"
            f" the offline screens' modules ({kilobytes(module_bodies)} of compressed code),"
            " which the shell needs offline and this page does not load"
        )
        if twice:
            notes += f", and files downloaded twice ({total(twice)})"
    largest = sorted(full, key=lambda item: -item.wire_bytes)[:3]
    notes += "; largest: " + ", ".join(
        f"{urlsplit(item.path).path} {kilobytes(item.wire_bytes)}" for item in largest
    )
    if foreign:
        notes += "; third-party requests: " + ", ".join(foreign)
    return notes


def _row(measure: str, total: int, notes: str) -> Row:
    target = f"≤ {kilobytes(TARGET_BYTES)}"
    return Row(
        "First visit",
        measure,
        kilobytes(total),
        "target",
        ratio(total / TARGET_BYTES),
        target,
        notes,
    )


def run(context: Context) -> list[Row]:
    # Fetch through 127.0.0.1: "localhost" may resolve to ::1, where uvicorn
    # does not listen.
    base_url = f"http://127.0.0.1:{context.servers.app.port}"
    rows = []
    for language in ("en", "ar"):
        page = visit(base_url, language)
        page_bytes = sum(item.wire_bytes for item in page.fetched)
        rows.append(
            _row(
                f"Home page and everything it references, cold cache, `{language}`",
                page_bytes,
                _page_notes(page.fetched, page.foreign),
            )
        )
        measure = f"The same in Chromium, plus the service worker's install, `{language}`"
        if not browser.available():
            rows.append(Row("First visit", measure, "not measured — no Chromium"))
            continue
        # A service worker needs a secure context: localhost is one, 127.0.0.1 too.
        seen, foreign = asyncio.run(_in_chromium(base_url, language))
        total = sum(item.wire_bytes for item in seen)
        rows.append(_row(measure, total, _chromium_notes(seen, foreign)))
    return rows


def main() -> None:
    """Run only this benchmark and print its rows (``python -m bench.first_visit``)."""
    from bench.alone import run_alone

    run_alone(run)


if __name__ == "__main__":
    main()
