"""Lighthouse, mobile: performance, accessibility and best practices on four screens.

Lighthouse 12 (the npm package pinned in `bench/npm/package-lock.json`;
`make bench` runs `npm ci` there, with install scripts off, so no package
downloads a browser) runs its default mobile profile: a Moto G Power-sized
screen, simulated slow 4G (150 ms round trips, 1.6 Mbit/s) and a CPU four
times slower than this one, with
`--only-categories=performance,accessibility,best-practices` and
`--output=json`. (Lighthouse 12 has no PWA category any more.)

Each run gets a fresh `/usr/bin/chromium` (new profile; `--headless` and the
flags of `tests/support/browser.py`, after chrome-launcher's own defaults,
which the CLI would add), started here with its DevTools port open: the
session cookie (`homeward_session`, a session made in the database, as the
tests do) goes into the browser's cookie jar through that port, and the CLI
runs with `--port`. With the cookie sent by `--extra-headers` instead, the
page's own `fetch('/api/me')` got a 401 once the server had set its CSRF
cookie (the browser sent the jar's cookies instead of the header), and that
console error counted against best practices. Lighthouse then resets the
origin's storage (cache, service workers), so every run is a first visit on
`http://localhost:PORT` (the benchmark's live app server).

Four screens, in English and in Arabic (the user's own language, which the
app puts before the language cookie and the browser's): the worker's home
`/`, the family session form `/log/{participant}/family`, the family
member's appointments (their home `/`, with an upcoming appointment) and the
officer's dashboard `/dashboard` (four participants). The result is the
three category scores out of 100; below 100, the notes name the weighted
audits that cost points and what the report blames: the render-blocking
files behind first contentful paint, the largest element, the longest tasks,
the elements that moved, the console errors, the failing nodes.

The performance score is a simulation from a trace taken on this machine,
and moves by a point or two between runs. Two costs are structural: first
contentful paint at about 1.1 s, as on simulated slow 4G it waits for the
page, then its one stylesheet (`app.css`, 3 KB); inlining the sheet would
need an inline-style exception in the CSP and would give up its caching.
Total blocking time on the worker's pages comes mostly from tasks Lighthouse
puts down to `pwa/outbox/db.js` (the outbox's IndexedDB, created on this
first visit).

    .venv/bin/python -m bench.lighthouse [--page NAME] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import sync_playwright
from tortoise import Tortoise

from bench.context import Context
from bench.rows import Row
from server import db
from server.accounts import sessions
from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Pillar, Role
from server.settings import ROOT
from tests.support import browser, live, world

NPM = ROOT / "bench" / "npm"
CLI = NPM / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices")
LANGUAGES = ("en", "ar")
CHROME_FLAGS = [
    "--headless",
    *browser.ARGS,
]
TARGET = "100 / 100 / 100"
TIMEOUT = 180  # seconds for one Lighthouse run
ATTEMPTS = 3
PARTICIPANTS = 4  # per officer; the worker has them all
SESSION_COOKIE = "homeward_session"  # server/accounts/cookies.py, over plain HTTP


@dataclass(frozen=True)
class Screen:
    name: str
    title: str
    role: Role
    path: str  # "{participant}" is replaced by the first participant's id


SCREENS = (
    Screen("worker-home", "Worker home `/`", Role.WORKER, "/"),
    Screen(
        "session-form", "Session form `/log/…/family`", Role.WORKER, "/log/{participant}/family"
    ),
    Screen("family", "Family appointments `/`", Role.FAMILY, "/"),
    Screen("dashboard", "Officer dashboard `/dashboard`", Role.OFFICER, "/dashboard"),
)


@dataclass(frozen=True)
class World:
    participant: str
    tokens: dict[tuple[Role, str], str]  # (role, language) -> session token


async def _user_session(user: User) -> str:
    started = await sessions.start(
        user=user, now=datetime.now(UTC), ip="127.0.0.1", device="lighthouse"
    )
    return started.token


async def _world(database_url: str) -> World:
    """An organisation with a worker, an officer and a family member per language."""
    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        org = await world.organisation("Lighthouse NGO")
        users = {
            (role, language): await world.user(org, role, language=language)
            for role in (Role.OFFICER, Role.WORKER, Role.FAMILY)
            for language in LANGUAGES
        }
        officers = [users[Role.OFFICER, language] for language in LANGUAGES]
        participants = [
            await world.participant(org, officer, full_name=f"Person {n + 1}")
            for officer in officers
            for n in range(PARTICIPANTS)
        ]
        for language in LANGUAGES:
            for participant in participants:
                await participant.workers.add(users[Role.WORKER, language])
            await participants[0].family.add(users[Role.FAMILY, language])
        start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        for language in LANGUAGES:
            await Appointment.create(
                id=uuid.uuid4(),
                participant=participants[0],
                pillar=Pillar.FAMILY,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                place="Family home",
                with_user=users[Role.WORKER, language],
                what_to_bring="ID card",
                family_visible=True,
                created_by=users[Role.OFFICER, language],
            )
        tokens = {key: await _user_session(user) for key, user in users.items()}
        return World(str(participants[0].id), tokens)
    finally:
        await Tortoise.close_connections()


def _default_flags() -> list[str]:
    """The flags chrome-launcher gives Chromium when the CLI launches it itself."""
    script = (
        "import {Launcher} from 'chrome-launcher';"
        "console.log(JSON.stringify(Launcher.defaultFlags()))"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=NPM,
        capture_output=True,
        text=True,
        check=True,
    )
    flags: list[str] = json.loads(done.stdout)
    return flags


def _wait_for_devtools(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Chromium exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/json/version", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a starting process: there is no event to await
    raise RuntimeError("Chromium's DevTools port did not open in time")


@contextmanager
def chromium(profile: Path, flags: list[str]) -> Iterator[int]:
    """A fresh headless Chromium with its DevTools port open; yields the port."""
    port = live.free_port()
    command = [
        browser.CHROMIUM,
        *flags,
        *CHROME_FLAGS,
        f"--remote-debugging-port={port}",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_for_devtools(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def sign_in(port: int, base_url: str, token: str) -> None:
    """Put the session cookie in the browser's jar, as a passkey sign-in would."""
    with sync_playwright() as playwright:
        connected = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        cookie: Any = {
            "name": SESSION_COOKIE,
            "value": token,
            "url": base_url,
            "httpOnly": True,
            "sameSite": "Lax",
        }
        connected.contexts[0].add_cookies([cookie])
        connected.close()  # disconnects; the browser and its default context stay


def lighthouse(url: str, port: int, workdir: Path) -> dict[str, Any]:
    """One Lighthouse run of ``url`` in the Chromium at ``port``; its JSON report
    (only ``runtimeError`` when it failed)."""
    report = workdir / "report.json"
    report.unlink(missing_ok=True)
    command = [
        "node",
        str(CLI),
        url,
        "--quiet",
        f"--port={port}",
        "--hostname=127.0.0.1",
        "--only-categories=" + ",".join(CATEGORIES),
        "--output=json",
        f"--output-path={report}",
    ]
    env = {**os.environ, "CHROME_PATH": browser.CHROMIUM}
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    if done.returncode != 0 or not report.exists():
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"runtimeError": {"message": " ".join(detail) or f"exit {done.returncode}"}}
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def scores(report: dict[str, Any]) -> list[int | None]:
    categories = report.get("categories", {})
    found = [categories.get(name, {}).get("score") for name in CATEGORIES]
    return [None if score is None else round(score * 100) for score in found]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path if parts.scheme in ("http", "https") else url


def _items(audits: dict[str, Any], audit_id: str) -> list[dict[str, Any]]:
    details = audits.get(audit_id, {}).get("details") or {}
    items: list[dict[str, Any]] = details.get("items", [])
    if details.get("type") == "list":  # a list of tables: take the tables' rows
        items = [row for table in items for row in table.get("items", [])]
    return items


def _selector(item: dict[str, Any]) -> str:
    node = item.get("node") or {}
    return str(node.get("selector") or node.get("snippet") or "")


def _why(audit_id: str, audits: dict[str, Any], page: str) -> str:
    """What the report says caused a lost point, for the audits we have met."""

    def where(url: str) -> str:
        return "the page" if url == page else "unattributed" if "/" not in url else _path(url)

    found: list[str] = []
    if audit_id == "first-contentful-paint":
        found = [
            f"render-blocking {_path(item['url'])} (~{item.get('wastedMs', 0):.0f} ms)"
            for item in _items(audits, "render-blocking-insight")
            if "url" in item
        ]
    elif audit_id == "largest-contentful-paint":
        found = [
            f"element {s}"
            for s in map(_selector, _items(audits, "largest-contentful-paint-element"))
            if s
        ]
    elif audit_id == "total-blocking-time":
        tasks = sorted(_items(audits, "long-tasks"), key=lambda item: -item.get("duration", 0))
        found = [
            f"{where(str(item.get('url')))} {item.get('duration', 0):.0f} ms" for item in tasks[:3]
        ]
        found = ["long tasks: " + ", ".join(found)] if found else []
    elif audit_id == "cumulative-layout-shift":
        shifts = _items(audits, "layout-shifts")
        found = [f"moved {_selector(item)} ({item.get('score', 0):.3f})" for item in shifts[:3]]
    elif audit_id == "errors-in-console":
        found = [
            str(item.get("description", ""))[:200]
            for item in _items(audits, "errors-in-console")[:3]
        ]
    else:
        found = [s for s in map(_selector, _items(audits, audit_id)[:3]) if s]
    return "; ".join(found)


def _audit_note(audit: dict[str, Any], audits: dict[str, Any], page: str) -> str:
    shown = str(audit.get("displayValue", "")).replace("\N{NO-BREAK SPACE}", " ")
    score = audit.get("score")
    text = f"`{audit['id']}` ({audit.get('title', '')}"
    if shown:
        text += f": {shown}"
    if score is not None and audit.get("scoreDisplayMode") == "numeric":
        text += f", {round(score * 100)}/100"
    why = _why(audit["id"], audits, page)
    return text + (f" — {why}" if why else "") + ")"


def failing(report: dict[str, Any]) -> list[str]:
    """The audits that cost each category points below 100, per category."""
    audits = report.get("audits", {})
    notes = []
    for name in CATEGORIES:
        category = report.get("categories", {}).get(name, {})
        if category.get("score") in (None, 1):
            continue
        lost = [
            audits[ref["id"]]
            for ref in category.get("auditRefs", [])
            if ref.get("weight", 0) > 0
            and ref["id"] in audits
            and audits[ref["id"]].get("score") is not None
            and audits[ref["id"]]["score"] < 1
        ]
        page = str(report.get("finalDisplayedUrl", ""))
        notes.append(f"{name}: " + ", ".join(_audit_note(a, audits, page) for a in lost))
    return notes


def _warnings(report: dict[str, Any]) -> list[str]:
    found = []
    if "runtimeError" in report:
        found.append("Lighthouse failed: " + str(report["runtimeError"].get("message", "")))
    # Their first sentence: the rest is a link to Lighthouse's documentation.
    found += [" ".join(str(w).split(". ")[0].split()) for w in report.get("runWarnings", [])]
    return found


def _result(values: list[int | None]) -> str:
    return " / ".join("—" if value is None else str(value) for value in values)


def row(screen: Screen, language: str, report: dict[str, Any]) -> Row:
    values = scores(report)
    met = all(value == 100 for value in values)
    notes = "; ".join([*_warnings(report), *failing(report)])
    return Row(
        "Lighthouse (mobile)",
        f"{screen.title}, `{language}`: performance / accessibility / best practices",
        _result(values),
        target=f"{TARGET} ({'met' if met else 'not met'})",
        notes=notes,
    )


def _measured(url: str, base: str, token: str, workdir: Path, flags: list[str]) -> dict[str, Any]:
    """Lighthouse's report on ``url``, signed in with ``token``, in a new browser
    each time: nothing carries over between runs. A run that fails (it asks to
    be run again when its trace is incomplete) is run again (ATTEMPTS runs at most)."""
    failed = ""
    for _attempt in range(ATTEMPTS):
        with chromium(workdir / "profile", flags) as devtools:
            sign_in(devtools, base, token)
            report = lighthouse(url, devtools, workdir)
        if "runtimeError" not in report:
            break
        error = report["runtimeError"]
        code = re.search(r"\(([A-Z_]+)\)", str(error.get("message", "")))
        failed = str(error.get("code") or (code.group(1) if code else "an error"))
    if failed and "runtimeError" not in report:
        report.setdefault("runWarnings", []).append(f"Tried again after a failed run ({failed})")
    return report


def measure(
    port: int, database_url: str, only: str | None = None, keep: Path | None = None
) -> list[Row]:
    setting = asyncio.run(_world(database_url))
    base = f"http://localhost:{port}"
    flags = _default_flags()
    rows = []
    with tempfile.TemporaryDirectory(prefix="homeward-lighthouse-") as tmp:
        workdir = Path(tmp)
        for screen in SCREENS:
            if only and screen.name != only:
                continue
            for language in LANGUAGES:
                url = base + screen.path.format(participant=setting.participant)
                token = setting.tokens[screen.role, language]
                report = _measured(url, base, token, workdir, flags)
                if keep:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{screen.name}-{language}.json").write_text(json.dumps(report))
                rows.append(row(screen, language, report))
    return rows


def run(context: Context) -> list[Row]:
    missing = [] if CLI.exists() else [f"Lighthouse ({CLI.relative_to(ROOT)}; `make bench`)"]
    if not browser.available():
        missing.append(f"Chromium ({browser.CHROMIUM})")
    if missing:
        return [
            Row(
                "Lighthouse (mobile)",
                "Performance / accessibility / best practices",
                "not measured — no " + " and no ".join(missing),
                target=TARGET,
            )
        ]
    data_dir = context.servers.log.parent
    return measure(context.servers.app.port, f"sqlite://{data_dir / 'bench.sqlite3'}")


def main() -> None:
    """Run only this benchmark and print its rows (``python -m bench.lighthouse``)."""
    from bench.context import Options
    from bench.servers import running

    top = argparse.ArgumentParser(prog="python -m bench.lighthouse")
    top.add_argument("--page", choices=[screen.name for screen in SCREENS], help="one screen")
    top.add_argument("--keep", type=Path, help="write each JSON report into this folder")
    args = top.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="homeward-lighthouse-") as tmp,
        running(Path(tmp)) as servers,
    ):
        if args.page or args.keep:
            data_dir = servers.log.parent
            database = f"sqlite://{data_dir / 'bench.sqlite3'}"
            rows = measure(servers.app.port, database, args.page, args.keep)
        else:
            rows = run(Context(servers, Options()))
    for item in rows:
        print(f"| {item.measure} | {item.result} | {item.target} | {item.notes} |")


if __name__ == "__main__":
    main()
