"""The app shell: the files the service worker keeps on the phone, and their version.

The assets serve every language; the shell page, client messages and
manifest exist once per language, and the worker stores only the languages
the phone uses (docs/offline.md).

The version is a hash over the bytes of every file that shapes what the
shell shows, so any change (code, style, icon, template, translation) gives
the service worker new bytes, the browser installs it, and the new worker
fills a new cache instead of mixing old and new files in one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from server.settings import LANGUAGES, ROOT
from server.web.templating import PWA_DIR, pwa_url, static_url

# The family screen's icons are drawn on the offline shell too.
FAMILY_ICONS = (
    "icons/calendar.svg",
    "icons/place.svg",
    "icons/person.svg",
    "icons/bag.svg",
    "icons/phone.svg",
    "icons/pillar-family.svg",
    "icons/pillar-education.svg",
    "icons/pillar-vocational.svg",
    "icons/pillar-counselling.svg",
)
# The home-screen icons (name: size, purpose), drawn once from icons/icon.svg
# and kept as files: the maskable ones have a full-bleed background and the
# house shrunk to 80 %, inside the safe zone of any launcher's mask.
PNG_ICONS = {
    "icons/icon-192.png": (192, "any"),
    "icons/icon-512.png": (512, "any"),
    "icons/maskable-192.png": (192, "maskable"),
    "icons/maskable-512.png": (512, "maskable"),
}
# Not the PNG icons: no page draws them, only the browser when it installs
# the app to the home screen, which needs the network anyway, and the
# launcher keeps its own copy. Precaching them cost every phone about 15 KB
# (with headers) on its first visit.
STATIC_FILES = ("app.css", "icons/icon.svg", *FAMILY_ICONS)
PWA_ENTRY = "app.js"
# The offline worker screens and the outbox (docs/outbox.md), loaded by the
# shell page beside app.js.
WORKER_ENTRY = "worker.js"
# app.js imports these by relative URL, which carries no ?v=, so they are
# precached under their plain URLs; the cache's version keeps them in step.
PWA_MODULES = (
    "i18n.js",
    "dates.js",
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
    "outbox/vault.js",
    "offline/dom.js",
    "offline/form.js",
    "offline/outbox.js",
    "offline/screens.js",
    "offline/signout.js",
    "offline/session-page.js",
    "offline/waiting.js",
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
    # Their versioned URLs are in the precached manifests.
    *(f"static/{name}" for name in PNG_ICONS),
    "server/templates/base.html",
    "server/templates/pwa/shell.html",
    "server/pwa/views.py",
    *(f"locales/{language}/LC_MESSAGES/messages.po" for language in LANGUAGES),
)
CACHE_PREFIX = "homeward-shell-"


@dataclass(frozen=True)
class Shell:
    version: str
    # Precached on install whatever the language.
    assets: tuple[str, ...]
    # Each language's shell page, client messages and manifest: the worker
    # precaches the person's language and adds another when they switch.
    per_language: dict[str, tuple[str, ...]]

    @property
    def urls(self) -> tuple[str, ...]:
        """Every URL the worker may store; nothing else ever enters its cache."""
        return (*self.assets, *(url for urls in self.per_language.values() for url in urls))

    def install(self, language: str) -> tuple[str, ...]:
        """What a first install in ``language`` stores."""
        return (*self.assets, *self.per_language[language])


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


def asset_urls() -> tuple[str, ...]:
    """The files every language's shell uses: nothing personal is ever on this list."""
    assets = [static_url(n) for n in STATIC_FILES]
    assets += [pwa_url(PWA_ENTRY), pwa_url(WORKER_ENTRY), *(f"/pwa/{n}" for n in PWA_MODULES)]
    return tuple(assets)


# What each language adds: its shell page, client messages and manifest.
LANGUAGE_URLS = (
    "/app/shell?lang={lang}",
    "/i18n/{lang}.json",
    "/i18n/{lang}/calendar.json",
    "/manifest.webmanifest?lang={lang}",
)


def language_urls(language: str) -> tuple[str, ...]:
    return tuple(url.replace("{lang}", language) for url in LANGUAGE_URLS)


@cache
def current() -> Shell:
    # Computed once per process, like the static URLs' hashes it must agree with.
    return Shell(
        version=version(shell_files()),
        assets=asset_urls(),
        per_language={language: language_urls(language) for language in LANGUAGES},
    )


def script(shell: Shell, default_language: str) -> str:
    """The service worker's source with its configuration as the first line."""
    config = {
        "version": shell.version,
        "cachePrefix": CACHE_PREFIX,
        "assets": list(shell.assets),
        # The worker puts each language's code in place of {lang}.
        "languageUrls": list(LANGUAGE_URLS),
        "languages": list(LANGUAGES),
        "defaultLanguage": default_language,
    }
    return f"const SHELL = {json.dumps(config)};\n{SERVICE_WORKER.read_text(encoding='utf-8')}"
