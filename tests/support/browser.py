"""Chromium through Playwright, with Debian's browser and flags that work here."""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("HOMEWARD_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def available() -> bool:
    return bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
