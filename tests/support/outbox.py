"""Helpers for the outbox browser tests: a worker's world, signing a browser
in, installing the app, and logging sessions through the offline screens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import BrowserContext, Page

from server.accounts import sessions
from server.accounts.models import User
from server.enums import Role
from server.i18n import Translator
from server.participants.models import Participant
from server.sessions import display
from server.sessions.models import SessionLog
from tests.support import world

# Two days back: "yesterday" in Kampala is still in the past at any UTC hour.
DAY = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
PILLARS = ("family", "education", "vocational", "counselling")

# Answers to each type's own questions when the session took place.
ATTENDED: dict[str, dict[str, Any]] = {
    "family": {
        "family_present": ["mother", "children"],
        "setting": "office",
        "family_readiness": "3",
        "family_concerns": ["none"],
    },
    "education": {
        "programme": "literacy",
        "class_attendance": "most",
        "progress": "4",
        "certificate_gained": "no",
    },
    "vocational": {
        "trade": "tailoring",
        "training_hours": "12",
        "placement": "no",
        "certificate": "no",
        "income_status": "casual",
    },
    "counselling": {
        "format": "individual",
        "modality": "psychosocial",
        "topics": ["future_plans", "trauma"],
        "concerns_observed": "no",
        "referral_made": "no",
    },
}
CHOICE_KEYS = {
    "attendance",
    "setting",
    "family_readiness",
    "programme",
    "class_attendance",
    "progress",
    "certificate_gained",
    "trade",
    "placement",
    "certificate",
    "income_status",
    "format",
    "modality",
    "concerns_observed",
    "referral_made",
    "follow_up",
    "engagement",
}
MULTIPLE_KEYS = {"family_present", "family_concerns", "topics"}


def answers(index: int, pillar: str, notes: str = "") -> dict[str, Any]:
    """A session's answers as typed: the odd ones were missed, the even ones attended."""
    typed: dict[str, Any] = {
        "occurred_on": DAY,
        "occurred_time": f"{8 + index % 10:02d}:{(index * 7) % 60:02d}",
        "notes": notes or f"note {index} for {pillar}",
        "follow_up": "no",
    }
    if index % 2:
        typed.update(attendance="missed", attendance_reason=f"reason {index}")
    else:
        typed.update(
            attendance="attended",
            duration_minutes=str(30 + index),
            place=f"Place {index}",
            engagement=str(1 + index % 5),
            **ATTENDED[pillar],
        )
    return typed


@dataclass
class Caseload:
    worker: User
    participants: list[Participant] = field(default_factory=list)


async def caseload(size: int = 3, full_name: str = "") -> Caseload:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    worker = await world.user(org, Role.WORKER)
    found = Caseload(worker)
    for index in range(size):
        name = full_name if full_name and index == 0 else f"Person {secrets.token_hex(3)}"
        participant = await world.participant(org, officer, full_name=name)
        await participant.workers.add(worker)
        found.participants.append(participant)
    return found


async def sign_in(context: BrowserContext, base_url: str, user: User) -> None:
    """A sign-in session made in the database, its cookie given to the browser."""
    started = await sessions.start(user=user, now=datetime.now(UTC), ip="127.0.0.1", device="test")
    # With an expiry, as the server sets it, so it outlives a browser restart.
    expires = (datetime.now(UTC) + timedelta(days=1)).timestamp()
    cookie = {"name": "homeward_session", "value": started.token, "url": base_url}
    await context.add_cookies([{**cookie, "expires": expires}])  # type: ignore[list-item]


async def sign_out(context: BrowserContext) -> None:
    await context.clear_cookies()


async def ready(page: Page, synced: bool = True) -> None:
    """The outbox layer has started (and, if `synced`, a drain finished well)."""
    await page.wait_for_function("() => document.documentElement.dataset.outbox === 'ready'")
    if synced:
        await page.wait_for_function("() => document.documentElement.dataset.sync === 'done'")


async def controlled(page: Page) -> None:
    """Wait until a service worker controls the page.

    A page that navigated while the worker was still installing stays
    uncontrolled (clients.claim() ran before the new page existed); like a
    person opening the app again, reload it once the worker is active.
    """
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not await page.evaluate("navigator.serviceWorker.controller !== null"):
        await page.reload()
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")


async def install(page: Page) -> None:
    """Open the worker's home online until the service worker controls it and a pull is done."""
    await page.goto("/")
    await controlled(page)
    await page.wait_for_function("() => document.documentElement.dataset.pwa === 'ready'")
    await ready(page)


async def fill(page: Page, typed: dict[str, Any]) -> None:
    """Answer a session form, in the order of its questions (conditions open fields)."""
    form = page.locator("form[data-form]")
    for key, value in typed.items():
        if key in MULTIPLE_KEYS:
            for item in value:
                await form.locator(f"#f-{key}-{item}").check()
        elif key in CHOICE_KEYS:
            await form.locator(f"#f-{key}-{value}").check()
        else:
            await form.locator(f"#f-{key}").fill(value)


def order(typed: dict[str, Any]) -> dict[str, Any]:
    """Attendance first: it decides which other questions are shown."""
    first = {k: typed[k] for k in ("attendance",) if k in typed}
    return {**first, **{k: v for k, v in typed.items() if k != "attendance"}}


async def log_offline(page: Page, code: str, pillar: str, typed: dict[str, Any]) -> None:
    """Log one session through the offline screens, from the shell's start screen."""
    await page.locator("[data-log]").click()
    await page.locator(f"a[data-code='{code}']").click()
    await page.locator(f"a[data-pillar='{pillar}']").click()
    await fill(page, order(typed))
    await page.locator("form[data-form] button[type=submit]").click()
    # Saved: back on the start screen with the notice.
    await page.locator("[data-notice=saved]").wait_for()
    await page.locator("[data-log]").wait_for()


async def outbox_states(page: Page, count: int | None = None) -> list[str]:
    """The entries' states as listed; with ``count``, wait until that many show.

    Read in one go inside the page: the list is redrawn as entries change,
    so two separate reads could see two different drawings.
    """
    read = """(n) => {
        const states = [...document.querySelectorAll('[data-outbox] li[data-entry]')]
            .map((item) => item.dataset.state);
        return n === null || states.length === n ? states : null;
    }"""
    handle = await page.wait_for_function(read, arg=count)
    states: list[str] = await handle.json_value()
    return states


def stored_answers(log: SessionLog, time_zone: str) -> dict[str, Any]:
    """A stored log's answers as the form's fields, strings like the typed ones."""
    values = display.stored_values(log, Translator("en", time_zone=time_zone))
    shown: dict[str, Any] = {}
    for key, value in values.items():
        if value in (None, "", []) or key in {"participant", "facilitator"}:
            continue
        if isinstance(value, bool):  # yes/no answers are kept as booleans
            value = "yes" if value else "no"
        shown[key] = value if isinstance(value, list) else str(value)
    return shown


# Saves entries straight through the outbox's own code (the same modules the
# screens use), for tests that need hundreds of them quickly.
BULK = """async ({ count, participant, day }) => {
  const { saveSessionLog } = await import('/pwa/outbox/save.js');
  const cache = await import('/pwa/outbox/cache.js');
  const user = await cache.currentUser();
  for (let i = 0; i < count; i += 1) {
    await saveSessionLog({
      id: crypto.randomUUID(),
      owner: user.id,
      form: { pillar: 'family', version: 1 },
      clean: {
        participant, occurred_on: day, occurred_time: '10:00', attendance: 'missed',
        attendance_reason: 'ill', notes: `bulk ${i}`, follow_up: false,
      },
      appointment: null,
      code: 'X',
    });
  }
}"""


async def save_many(page: Page, count: int, participant: Participant) -> None:
    await page.evaluate(BULK, {"count": count, "participant": str(participant.id), "day": DAY})
    # The page has seen them (each save starts a drain, which recounts).
    await page.wait_for_function(f"() => document.documentElement.dataset.entries === '{count}'")


async def outbox_size(page: Page) -> int:
    """Entries of any state in the phone's outbox (all users)."""
    return int(
        await page.evaluate(
            """async () => {
              const { run } = await import('/pwa/outbox/db.js');
              return run(['outbox'], 'readonly', (s) => s.outbox.count());
            }"""
        )
    )
