"""The translations the browser needs: only messages marked in ``pwa/`` JavaScript."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from server.i18n import DOMAIN

CLIENT_DIR = "pwa/"


@cache
def client_messages(locales_dir: Path, language: str) -> dict[str, str]:
    """``{msgid: translation}`` for messages found in ``pwa/`` files.

    Read from the ``.po`` file because only it records where a message comes
    from; sending the whole catalogue would cost every phone data for strings
    the client never shows. Fuzzy and empty translations are left out, so the
    client falls back to the English text rather than showing a wrong one.
    """
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    found: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy or not isinstance(message.string, str):
            continue  # plurals: the client has none yet
        if message.string and any(f.startswith(CLIENT_DIR) for f, _ in message.locations):
            found[str(message.id)] = message.string
    return found
