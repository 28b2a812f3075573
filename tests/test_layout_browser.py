"""Every main screen fits a small phone (320 and 360 CSS px) in all five
languages: nothing wider than the screen or its box, no cut or hidden table
header, participant codes on one line and left to right, tap targets of at
least 44 by 44 px, and axe (contrast included) finds nothing (issue 16, item 8).

One browser, one context per role; the language is switched by changing the
person's setting (the language cookie when signed out), so the whole run
stays well under a minute and a half per database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from starlette.applications import Starlette

from server.accounts.models import User
from server.appointments.models import Appointment
from server.enums import Attendance, Country, Gender, Pillar, ReviewStatus, Role
from server.i18n import LANGUAGE_COOKIE
from server.participants.models import Participant
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog
from server.settings import LANGUAGES
from server.sync.models import Conflict
from tests.conftest import BACKEND
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer
from tests.test_accessibility import TAGS, axe_source

# Layout is the same whatever the database: measured once, in the SQLite pass
# of `make test` (it takes a minute and a half, and the PostgreSQL pass is
# the longer of the two).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(BACKEND != "sqlite", reason="layout does not depend on the database"),
]

WIDTHS = (320, 360)
TAP = 44

# Runs in the page; returns a list of problems, each a short sentence.
MEASURE = (Path(__file__).parent / "support" / "layout.js").read_text(encoding="utf-8")

# Only violations are needed: asking for nothing else makes axe several times
# faster. axe's colour-contrast rule is most of its time (about 0.5 s a page
# against 0.1 s for all the others): it runs in one language (Arabic, the
# right-to-left one), while layout.js measures contrast in all five.
AXE = (
    "async ({tags, contrast}) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
    " resultTypes: ['violations'], rules: {'color-contrast': {enabled: contrast}}}))"
    ".violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
)
AXE_CONTRAST_LANGUAGE = "ar"


@dataclass
class World:
    officer: User
    worker: User
    relative: User
    woman: Participant
    man: Participant
    log: SessionLog


async def build_world() -> World:
    org = await world.organisation("Réseau de réinsertion de Tunis", Country.TUNISIA)
    officer = await world.user(org, Role.OFFICER, name="Karim Trabelsi")
    worker = await world.user(org, Role.WORKER, name="Amira Jaziri")
    relative = await world.user(org, Role.FAMILY, name="Sonia Ayari")
    woman = await world.participant(org, officer, full_name="Mariem Ben Ali", gender=Gender.FEMALE)
    man = await world.participant(org, officer, full_name="Youssef Haddad", gender=Gender.MALE)
    for person in (woman, man):
        await person.workers.add(worker)
    await woman.family.add(relative)
    now = datetime.now(UTC)
    start = now + timedelta(days=1)
    await Appointment.create(
        id=uuid.uuid4(),
        participant=woman,
        pillar=Pillar.VOCATIONAL,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place="Centre de formation professionnelle, Ben Arous",
        with_user=worker,
        what_to_bring="Carte d’identité",
        family_visible=True,
        created_by=officer,
    )
    log = None
    for days, pillar, attendance in (
        (3, Pillar.FAMILY, Attendance.ATTENDED),
        (10, Pillar.EDUCATION, Attendance.MISSED),
        (20, Pillar.COUNSELLING, Attendance.ATTENDED),
    ):
        made = await SessionLog.create(
            id=uuid.uuid4(),
            participant=woman,
            pillar=pillar,
            form_version=1,
            occurred_at=now - timedelta(days=days),
            duration_minutes=45,
            place="Bureau",
            author=worker,
            attendance=attendance,
            engagement=4 if attendance is Attendance.ATTENDED else None,
            follow_up=True,
            content_hash="x",
        )
        log = log or made
    await ProgressReview.create(
        id=uuid.uuid4(),
        participant=woman,
        officer=officer,
        family=ReviewStatus.ON_TRACK,
        education=ReviewStatus.SOME_CONCERNS,
        vocational=ReviewStatus.SERIOUS_CONCERNS,
        counselling=ReviewStatus.ON_TRACK,
        summary="Progrès réguliers.",
        reviewed_on=date.today() - timedelta(days=5),
    )
    assert log is not None
    return World(officer, worker, relative, woman, man, log)


async def measure(page: Page, path: str, codes: list[str], run_axe: bool = True) -> list[str]:
    found: list[str] = []
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 720})
        problems = await page.evaluate(MEASURE, {"codes": codes, "tap": TAP})
        found += [f"{width}px {path}: {problem}" for problem in problems]
    if run_axe:
        await page.evaluate(axe_source())
        contrast = await page.evaluate("document.documentElement.lang") == AXE_CONTRAST_LANGUAGE
        violations = await page.evaluate(AXE, {"tags": TAGS, "contrast": contrast})
        found += [f"axe {path}: {v}" for v in violations]
    return found


async def test_every_main_screen_fits_a_small_phone_in_every_language(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    w = await build_world()
    codes = [w.woman.code, w.man.code]
    woman, man = w.woman.id, w.man.id
    plan: list[tuple[User | None, list[str]]] = [
        (None, ["/", "/signin"]),
        (
            w.worker,
            [
                "/",
                "/log",
                f"/log/{woman}",
                f"/log/{woman}/family",
                f"/participants/{woman}",
                f"/sessions/{w.log.id}",
                "/account",
            ],
        ),
        (
            w.officer,
            [
                "/",
                "/dashboard",
                "/participants",
                f"/participants/{man}",
                f"/participants/{woman}/progress",
                "/indicators",
                "/review",
            ],
        ),
        (w.relative, ["/"]),
    ]
    found: list[str] = []
    for user, paths in plan:
        context = await browser.new_context(base_url=live_server.url)
        try:
            if user is not None:
                await ob.sign_in(context, live_server.url, user)
            else:
                await context.add_cookies(
                    [{"name": LANGUAGE_COOKIE, "value": "en", "url": live_server.url}]
                )
            found += await _screens(context, user, paths, codes, live_server.url)
            if user is w.worker:
                found += await _offline(context, user, offline_worker(woman), codes, w.woman)
            elif user is w.relative:
                found += await _offline(context, user, OFFLINE_FAMILY, codes, None)
        finally:
            await context.close()
    assert not found, "\n".join(found)


async def _screens(
    context: BrowserContext,
    user: User | None,
    paths: list[str],
    codes: list[str],
    base: str = "",
    languages: tuple[str, ...] | list[str] = LANGUAGES,
) -> list[str]:
    page = await context.new_page()
    found: list[str] = []
    for language in languages:
        if user is None:
            cookie: Any = {"name": LANGUAGE_COOKIE, "value": language, "url": base}
            await context.add_cookies([cookie])
        else:
            await User.filter(id=user.id).update(language=language)
        for path in paths:
            await page.set_viewport_size({"width": WIDTHS[0], "height": 720})
            await page.goto(path)
            assert await page.locator("html").get_attribute("lang") == language, path
            found += [f"[{language}] {p}" for p in await measure(page, path, codes)]
    return found


def offline_worker(participant: uuid.UUID) -> list[tuple[str, str]]:
    """The offline shell's screens and an element each one draws."""
    return [
        ("#/", "[data-log]"),
        ("#/log", "[data-caseload]"),
        (f"#/log/{participant}", "[data-types]"),
        (f"#/log/{participant}/family", "form[data-form]"),
        ("#/outbox", "[data-outbox]"),
    ]


OFFLINE_FAMILY = [("#/", "[data-family]")]

# "Yes, the participant attended" about a woman.
CAME_WOMAN = {
    "en": "Yes, the participant attended",
    "fr": "Oui, elle était présente",
    "ru": "Да, участница пришла",
    "kk": "Иә, қатысушы келді",
    "ar": "نعم، حضرت المشاركة",
}


async def _offline(
    context: BrowserContext,
    user: User,
    screens: list[tuple[str, str]],
    codes: list[str],
    participant: Participant | None,
) -> list[str]:
    """The offline shell in each language, with one entry waiting in the outbox
    (so that the header's count is on screen to be measured)."""
    page = await context.new_page()
    await ob.install(page)
    found: list[str] = []
    for language in LANGUAGES:
        await User.filter(id=user.id).update(language=language)
        await context.set_offline(False)
        await page.goto("/")
        await ob.ready(page)  # pulled: the phone now holds this language
        await context.set_offline(True)
        if participant is not None:
            await page.evaluate(
                ob.BULK, {"count": 1, "participant": str(participant.id), "day": ob.DAY}
            )
        for number, (screen, drawn) in enumerate(screens):
            await page.set_viewport_size({"width": WIDTHS[0], "height": 720})
            # A full load each time (the service worker answers with the shell).
            await page.goto(f"/?screen={number}{screen}")
            await page.locator(drawn).first.wait_for()
            await ob.ready(page, synced=False)
            assert await page.locator("html").get_attribute("lang") == language, screen
            if participant is not None:
                await page.locator("[data-outbox-count]:not([hidden])").wait_for()
            found += [f"[{language}] offline {p}" for p in await measure(page, screen, codes)]
            if screen.endswith("/family"):
                # The offline form speaks of her as a woman, as the server's does.
                came = page.locator("label[for=f-attendance-attended]")
                assert await came.inner_text() == CAME_WOMAN[language]
    await context.set_offline(False)
    return found


# A good list (its preview shows the rows to be added) and a list with
# mistakes (its preview shows every mistake), in the Tunisian organisation.
IMPORT_HEADER = (
    "Full name,Gender,Date of birth,Release date,Responsible officer,Assigned workers,Code\n"
)
GOOD_LIST = "Nour El Houda Ben Salah,female,1994-02-11,2025-06-30,Karim Trabelsi,Amira Jaziri,\n"
BAD_LIST = (
    "Nour El Houda Ben Salah,dragon,31.02.1990,,Personne Inconnue,,\n"
    ",male,2999-01-01,,,Quelqu’un d’autre,\n"
)


async def test_the_admin_tables_stack_into_cards_on_a_small_phone(
    browser: Browser, live_server: LiveServer, app: Starlette
) -> None:
    """The audit log, the import preview (rows and mistakes), the conflicts and
    the subject access page: stacked into cards below 720 px like the
    dashboard's tables, so at 320 px nothing scrolls sideways, in all five
    languages."""
    w = await build_world()
    admin = await world.user(await w.officer.organisation, Role.ADMIN, name="Leila Mansour")
    await Conflict.create(
        record_type="session_log",
        record_id=w.log.id,
        organisation_id=w.officer.organisation_id,
        author=w.worker,
        payload={
            "values": {
                "notes": "Elle a trouvé un stage à la boulangerie de la rue de Marseille.",
                "attendance": "attended",
                "occurred_on": "2026-03-02",
                "occurred_time": "10:30",
            }
        },
        content_hash="2" * 64,
        received_at=datetime.now(UTC),
    )
    codes = [w.woman.code, w.man.code]
    plan = [
        (admin, ["/admin/audit"]),
        (w.officer, ["/conflicts", f"/participants/{w.woman.id}/subject-access"]),
    ]
    found: list[str] = []
    for user, paths in plan:
        context = await browser.new_context(base_url=live_server.url)
        try:
            await ob.sign_in(context, live_server.url, user)
            # The subject access page is in the participant's own language.
            for language in LANGUAGES:
                await Participant.filter(id=w.woman.id).update(language=language)
                found += await _screens(context, user, paths, codes, languages=[language])
            if user is w.officer:
                found += await _import_previews(context, user, codes)
        finally:
            await context.close()
    assert not found, "\n".join(found)


async def _import_previews(context: BrowserContext, user: User, codes: list[str]) -> list[str]:
    page = await context.new_page()
    found: list[str] = []
    for language in LANGUAGES:
        await User.filter(id=user.id).update(language=language)
        for name, rows, table in (("good", GOOD_LIST, "rows"), ("bad", BAD_LIST, "mistakes")):
            await page.set_viewport_size({"width": WIDTHS[0], "height": 720})
            await page.goto("/import")
            await page.set_input_files(
                "input[type=file]",
                files=[{"name": f"{name}.csv", "mimeType": "text/csv",
                        "buffer": (IMPORT_HEADER + rows).encode()}],
            )  # fmt: skip
            await page.locator("form[action='/import/preview'] button[type=submit]").click()
            await page.wait_for_url("**/import/preview")
            assert await page.locator("main table tbody tr").count() >= 1, (language, name)
            path = f"/import/preview ({table})"
            found += [f"[{language}] {p}" for p in await measure(page, path, codes)]
    return found
