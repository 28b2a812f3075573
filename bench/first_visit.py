"""First visit: the bytes a phone downloads to show the home page with a cold cache.

The home page is fetched with `Accept-Encoding: gzip`, then everything it
references, as a browser would: stylesheets, icons, the manifest and its
icons, scripts and images in the HTML; `url()` in CSS; ES module imports and
the service worker's script in JavaScript. Every icon the manifest lists is
counted, though a browser fetches only one or two, so the figure errs high.
Wire bytes are the status line, headers and compressed bodies (no TCP or TLS
overhead).

The second row adds the service worker's install: it fetches its whole
precache list again with `cache: 'reload'`, right after the first visit, so
those bytes come out of the same data budget.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from bench.context import Context
from bench.rows import Row, kilobytes, ratio

TARGET_BYTES = 50_000
FOLLOWED_RELS = {"stylesheet", "icon", "apple-touch-icon", "manifest", "modulepreload", "preload"}
# Module specifiers must be paths here (there is no build step or import map),
# so only quoted strings starting with "/", "./" or "../" count.
JS_IMPORTS = re.compile(r"""(?:\bfrom|\bimport|\bimport\s*\()\s*(["'])((?:/|\./|\.\./)[^"']*)\1""")
SERVICE_WORKER = re.compile(r"""\.register\s*\(\s*(["'])((?:/|\./|\.\./)[^"']*)\1""")
# server/pwa/shell.py writes the precache list as the worker's first line.
PRECACHE = re.compile(r"^const SHELL = (\{.*\});$", re.MULTILINE)
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
    precache: list[str] = field(default_factory=list)  # what the service worker stores
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


def _precache(response: httpx.Response) -> list[str]:
    if _kind(response) not in ("text/javascript", "application/javascript"):
        return []
    shell = PRECACHE.search(response.text)
    return [str(url) for url in json.loads(shell.group(1)).get("urls", [])] if shell else []


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
                result.precache += _precache(response)
    return result


def install(base_url: str, language: str, urls: list[str]) -> list[Fetched]:
    """What the service worker downloads on install: each URL again, uncached."""
    with _client(language) as client:
        return [_fetch(client, urljoin(base_url, url))[0] for url in dict.fromkeys(urls)]


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


def _install_notes(page: int, installed: list[Fetched]) -> str:
    size = sum(item.wire_bytes for item in installed)
    largest = sorted(installed, key=lambda item: -item.wire_bytes)[:3]
    notes = f"page {kilobytes(page)} + precache {len(installed)} requests, {kilobytes(size)}"
    notes += "; largest: " + ", ".join(f"{i.path} {kilobytes(i.wire_bytes)}" for i in largest)
    return notes + _problems(installed, [])


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
        if not page.precache:
            continue  # no service worker (or no precache list) yet
        installed = install(base_url, language, page.precache)
        rows.append(
            _row(
                f"The same, plus the service worker's install, `{language}`",
                page_bytes + sum(item.wire_bytes for item in installed),
                _install_notes(page_bytes, installed),
            )
        )
    return rows
