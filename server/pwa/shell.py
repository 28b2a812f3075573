"""The app shell: the files the service worker keeps on the phone, and their version.

The version is a hash over the bytes of every file that shapes what the
shell shows, so any change (code, style, icon, template, translation) gives
the service worker new bytes, the browser installs it, and the new worker
fills a new cache instead of mixing old and new files in one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from server.pwa.icons import ICONS
from server.settings import LANGUAGES, ROOT
from server.templating import PWA_DIR, pwa_url, static_url

# The family screen's icons are drawn on the offline shell too.
FAMILY_ICONS = ("icons/calendar.svg", "icons/place.svg", "icons/person.svg", "icons/bag.svg")
STATIC_FILES = ("app.css", "icons/icon.svg", *ICONS, *FAMILY_ICONS)
PWA_ENTRY = "app.js"
# The offline worker screens and the outbox (docs/outbox.md), loaded by the
# shell page beside app.js.
WORKER_ENTRY = "worker.js"
# app.js imports these by relative URL, which carries no ?v=, so they are
# precached under their plain URLs; the cache's version keeps them in step.
PWA_MODULES = (
    "i18n.js",
    "notices.js",
    "register.js",
    "storage.js",
    "forms.js",
    "outbox/db.js",
    "outbox/store.js",
    "outbox/cache.js",
    "outbox/seal.js",
    "outbox/transport.js",
    "outbox/policy.js",
    "outbox/sync.js",
    "outbox/save.js",
    "offline/dom.js",
    "offline/form.js",
    "offline/outbox.js",
    "offline/screens.js",
    "offline/signout.js",
    "offline/session-page.js",
    # The family's screen on the shell (offline/screens.js draws it for them).
    "family/answer.js",
    "family/card.js",
    "family/screen.js",
)
PWA_FILES = (PWA_ENTRY, WORKER_ENTRY, *PWA_MODULES)
SERVICE_WORKER = PWA_DIR / "sw.js"
# Files that are not precached themselves but change what the precached
# pages, manifests and message files contain.
SOURCES = (
    "pwa/sw.js",
    "server/templates/base.html",
    "server/templates/pwa/shell.html",
    "server/pwa/views.py",
    *(f"locales/{language}/LC_MESSAGES/messages.po" for language in LANGUAGES),
)
CACHE_PREFIX = "homeward-shell-"


@dataclass(frozen=True)
class Shell:
    version: str
    urls: tuple[str, ...]


def shell_files(root: Path = ROOT) -> list[Path]:
    names = [f"static/{n}" for n in STATIC_FILES] + [f"pwa/{n}" for n in PWA_FILES]
    return [root / name for name in sorted({*names, *SOURCES})]


def version(files: Iterable[Path], root: Path = ROOT) -> str:
    """A short hash over the files' names and bytes (12 hex characters).

    Missing files count as empty (a language without a catalogue yet), so the
    hash never fails the page; renaming or moving bytes between files still
    changes it because each entry is framed by its name and length.
    """
    digest = hashlib.sha256()
    for path in files:
        data = path.read_bytes() if path.exists() else b""
        name = path.relative_to(root).as_posix().encode()
        digest.update(b"%d:%s:%d:" % (len(name), name, len(data)))
        digest.update(data)
    return digest.hexdigest()[:12]


def precache_urls(languages: Sequence[str] = LANGUAGES) -> tuple[str, ...]:
    """Exactly what the service worker stores: nothing personal is ever on this list."""
    assets = [static_url(n) for n in STATIC_FILES]
    assets += [pwa_url(PWA_ENTRY), pwa_url(WORKER_ENTRY), *(f"/pwa/{n}" for n in PWA_MODULES)]
    per_language = [
        url
        for language in languages
        for url in (
            f"/app/shell?lang={language}",
            f"/i18n/{language}.json",
            f"/manifest.webmanifest?lang={language}",
        )
    ]
    return (*assets, *per_language)


@cache
def current() -> Shell:
    # Computed once per process, like the static URLs' hashes it must agree with.
    return Shell(version=version(shell_files()), urls=precache_urls())


def script(shell: Shell, default_language: str) -> str:
    """The service worker's source with its configuration as the first line."""
    config = {
        "version": shell.version,
        "cachePrefix": CACHE_PREFIX,
        "urls": list(shell.urls),
        "languages": list(LANGUAGES),
        "defaultLanguage": default_language,
    }
    return f"const SHELL = {json.dumps(config)};\n{SERVICE_WORKER.read_text(encoding='utf-8')}"
