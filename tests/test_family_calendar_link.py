"""The calendar link a person can use (issue 17, item 5): shown again on a
later visit (audited) and still working, with a QR code of exactly that link
and steps for Android and iPhone in the family's language; revoking ends the
link and the page stops showing it; nobody else ever sees it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import segno
from starlette.applications import Starlette

from server.accounts.models import User
from server.accounts.tokens import token_hash
from server.audit.models import AuditEvent
from server.enums import Pillar, Role
from server.family.models import CalendarFeed
from tests.support import world
from tests.support.web import post_form, signed_in
from tests.test_family_card import card_world

ORIGIN = "http://localhost:8000"
LINK = re.compile(
    r"<code data-feed-link>(http://localhost:8000/calendar/[A-Za-z0-9_-]{43}\.ics)</code>"
)


def link_on(page: str) -> str | None:
    found = LINK.search(page)
    return found.group(1) if found else None


def qr_modules(page: str) -> list[list[bool]]:
    """The QR code drawn on the page, read back into rows of dark modules.

    segno draws each row as ``m dx dy`` moves and ``hN`` dark runs on the
    row's middle line; the quiet zone (border) is cut off afterwards.
    """
    figure = re.search(r"<figure class=\"qr-code\" data-feed-qr>(.*?)</figure>", page, re.S)
    assert figure, "the QR code is on the page"
    svg = figure.group(1)
    assert svg.startswith("<svg") and "data:" not in svg and "style=" not in svg
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)
    assert path
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for step in range(int(first)):
                dark.add((int(x) + step, int(y)))
            x += int(first)
    left = min(c for c, _ in dark)
    top = min(r for _, r in dark)
    size = max(c for c, _ in dark) - left + 1
    return [[(left + c, top + r) in dark for c in range(size)] for r in range(size)]


def is_a_qr_code_of(modules: list[list[bool]], url: str) -> bool:
    """The drawn modules are a QR code holding exactly ``url`` (any error level)."""
    for level in "lmqh":
        expected = segno.make_qr(url, error=level, boost_error=False)
        rows = [[bool(bit) for bit in row] for row in expected.matrix]
        if rows == modules:
            return True
    return False


async def _open(client: Any) -> str:
    page = await post_form(client, "/family/calendar", {})
    assert page.status_code == 200
    link = link_on(page.text)
    assert link, "a new link is shown"
    return link


async def test_the_link_is_shown_again_on_a_later_visit_and_still_works(
    app: Starlette,
) -> None:
    relative, appointment = await card_world(language="en")
    await appointment(Pillar.FAMILY)
    async with await signed_in(app, relative) as first_visit:
        made = await _open(first_visit)
    # A later visit, from another sign-in: the same link, shown again.
    async with await signed_in(app, relative) as later:
        home = (await later.get("/")).text
        assert 'href="/family/calendar"' in home
        page = await later.get("/family/calendar")
        assert page.status_code == 200
        assert link_on(page.text) == made
        assert f'href="webcal://localhost:8000/calendar/{made.rsplit("/", 1)[1]}"' in page.text
        assert "On an iPhone" in page.text and "On an Android phone" in page.text
        feed = await later.get(made.removeprefix(ORIGIN))
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in feed.content
    # The link itself is not in the database; seeing it again is audited.
    token = made.rsplit("/", 1)[1].removesuffix(".ics")
    stored = await CalendarFeed.get(user_id=relative.id)
    assert token not in {stored.token_hash, stored.seed}
    shown = await AuditEvent.filter(action="calendar_link.read")
    assert [(e.actor_id, e.object_id) for e in shown] == [(relative.id, str(stored.id))]


async def test_the_qr_code_holds_exactly_the_link(app: Starlette) -> None:
    relative, _ = await card_world(language="en")
    async with await signed_in(app, relative) as client:
        made = await _open(client)
        page = (await client.get("/family/calendar")).text
    modules = qr_modules(page)
    assert is_a_qr_code_of(modules, made)
    assert not is_a_qr_code_of(modules, made.replace("/calendar/", "/calendar/x"))


async def test_revoking_ends_the_link_and_the_page_stops_showing_it(app: Starlette) -> None:
    relative, _ = await card_world(language="en")
    async with await signed_in(app, relative) as client:
        made = await _open(client)
        assert (await client.get(made.removeprefix(ORIGIN))).status_code == 200
        stopped = await post_form(client, "/family/calendar/revoke", {})
        assert stopped.status_code == 303
        assert (await client.get(made.removeprefix(ORIGIN))).status_code == 404
        page = (await client.get("/family/calendar")).text
        home = (await client.get("/")).text
    token = made.rsplit("/", 1)[1].removesuffix(".ics")
    for text in (page, home):
        assert token not in text and "data-feed-qr" not in text
    assert "Get a calendar link" in page
    assert await AuditEvent.filter(action="calendar.revoked", actor_id=relative.id).count() == 1


async def test_another_family_member_never_sees_the_link(app: Starlette) -> None:
    relative, _ = await card_world(language="en")
    org = await relative.organisation
    # Linked to the same participant, and of the same organisation.
    sibling = await world.user(org, Role.FAMILY, name="Peter Kato")
    participant = (await relative.relatives.all())[0]  # type: ignore[attr-defined]
    await participant.family.add(sibling)
    officer = await User.get(organisation_id=org.id, role=Role.OFFICER)
    async with await signed_in(app, relative) as client:
        made = await _open(client)
    token = made.rsplit("/", 1)[1].removesuffix(".ics")
    async with await signed_in(app, sibling) as client:
        own = (await client.get("/family/calendar")).text
        home = (await client.get("/")).text
    assert token not in own and token not in home
    assert "Get a calendar link" in own
    async with await signed_in(app, officer) as client:
        refused = await client.get("/family/calendar")
    assert refused.status_code == 404 and token not in refused.text
    assert await AuditEvent.filter(action="calendar_link.read").count() == 0


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("kk", ("iPhone телефонында", "Android телефонында", "«Жазылу»", "Басқа телефоннан")),
        ("ar", ("على هاتف iPhone", "على هاتف Android", "«اشتراك»", "من هاتف آخر")),
    ],
)
async def test_the_steps_are_in_kazakh_and_arabic(
    app: Starlette, language: str, words: tuple[str, ...]
) -> None:
    relative, _ = await card_world(language=language)
    async with await signed_in(app, relative) as client:
        await _open(client)
        page = (await client.get("/family/calendar")).text
    for word in words:
        assert word in page, (language, word)
    assert "On an iPhone" not in page


async def test_a_link_made_before_it_could_be_shown_again_is_replaced(app: Starlette) -> None:
    """A link from before this change (only its hash kept) still works, cannot
    be shown, and the page offers a new one that ends it."""
    relative, _ = await card_world(language="en")
    old_token = "an-old-token-made-before-seeds-AAAAAAAAAAAAA"
    await CalendarFeed.create(
        token_hash=token_hash(old_token), user=relative, created_at=datetime.now(UTC)
    )
    async with await signed_in(app, relative) as client:
        assert (await client.get(f"/calendar/{old_token}.ics")).status_code == 200
        page = (await client.get("/family/calendar")).text
        assert link_on(page) is None and "data-feed-qr" not in page
        assert "Get a new calendar link" in page
        made = await _open(client)
        assert (await client.get(f"/calendar/{old_token}.ics")).status_code == 404
        assert (await client.get(made.removeprefix(ORIGIN))).status_code == 200
