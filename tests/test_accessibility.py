"""axe-core finds no WCAG A/AA violation on the main screens, in English and
Arabic. This is a correctness property, so it is a test (not a benchmark)."""

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page

from server.appointments.models import Appointment
from server.enums import Pillar, Role
from server.settings import ROOT
from tests.support import outbox as ob
from tests.support import world
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

AXE = ROOT / ".ci" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core is required in CI: run `make test` (missing {AXE})")
        pytest.skip("axe-core is not installed (npm install in .ci/npm)")
    return Path(AXE).read_text()


async def violations(page: Page, path: str) -> list[str]:
    await page.goto(path)
    # Evaluated through the DevTools protocol, so the page's strict CSP
    # (no inline scripts) does not have to be loosened for the test.
    await page.evaluate(axe_source())
    found = await page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)",
        TAGS,
    )
    return [f"{path}: {item}" for item in found]


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_main_screens_have_no_violations(
    page: Page, live_server: LiveServer, language: str
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER, language=language)
    worker = await world.user(org, Role.WORKER, language=language)
    admin = await world.user(org, Role.ADMIN, language=language)
    relative = await world.user(org, Role.FAMILY, language=language)
    participant = await world.participant(org, officer)
    await participant.workers.add(worker)
    await participant.family.add(relative)
    start = datetime.now(UTC) + timedelta(days=1)
    await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.FAMILY,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place="Family home",
        with_user=worker,
        what_to_bring="ID card",
        family_visible=True,
        created_by=officer,
    )
    await page.context.set_extra_http_headers({"Accept-Language": language})
    found = await violations(page, "/") + await violations(page, "/signin")
    screens = {
        worker: ["/", "/log", f"/log/{participant.id}/family", f"/participants/{participant.id}"],
        officer: [
            "/",
            "/review",
            "/participants",
            f"/participants/{participant.id}",
            f"/participants/{participant.id}/appointments/new",
            "/invitations/new",
        ],
        admin: ["/admin/users", "/admin/audit", "/account"],
        relative: ["/"],
    }
    for user, paths in screens.items():
        await page.context.clear_cookies()
        await ob.sign_in(page.context, live_server.url, user)
        for path in paths:
            found += await violations(page, path)
    assert found == []


async def test_the_checker_sees_a_real_violation(page: Page) -> None:
    await page.goto("/")
    await page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    await page.evaluate(axe_source())
    ids = await page.evaluate("async () => (await axe.run(document)).violations.map(v => v.id)")
    assert "image-alt" in ids
