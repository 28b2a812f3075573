"""Exports are safe to open in a spreadsheet: no cell a spreadsheet would run.

OWASP's rule for CSV injection: a cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to Excel and LibreOffice, so
it is prefixed with a single quote. Names in Kazakh and Arabic start that
way as easily as Latin ones.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from server.enums import Attendance, Pillar, Role
from server.sessions.models import SessionLog
from tests.support import world
from tests.support.web import post_form, signed_in

# (name as typed, the cell a spreadsheet must see) — written by hand.
NAMES = [
    ("=Айгүл Серікқызы", "'=Айгүл Серікқызы"),
    ("+Нұрлан Ержанұлы", "'+Нұрлан Ержанұлы"),
    ("-Әлия Бекова", "'-Әлия Бекова"),
    ("@محمد بن علي", "'@محمد بن علي"),
    ("\tفاطمة الزهراء", "'\tفاطمة الزهراء"),
    ("\rЖанар", "'\rЖанар"),
    (
        '=HYPERLINK("http://evil.example";"Қосымша")',
        '\'=HYPERLINK("http://evil.example";"Қосымша")',
    ),
    ("Сәуле -тұрақты", "Сәуле -тұрақты"),  # only the first character counts
]


def rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


async def test_session_log_export_neutralises_formula_names(app: Starlette) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    when = datetime.now(UTC) - timedelta(days=1)
    for name, _ in NAMES:
        participant = await world.participant(org, officer, full_name=name)
        await SessionLog.create(
            id=uuid.uuid4(),
            participant=participant,
            pillar=Pillar.FAMILY,
            form_version=1,
            occurred_at=when,
            duration_minutes=30,
            author=officer,
            attendance=Attendance.ATTENDED,
            content_hash="x",
        )
    day = when.date()
    form = {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        "full_names": "1",
        "confirm": "1",
    }
    client: httpx.AsyncClient
    async with await signed_in(app, officer) as client:
        response = await post_form(client, "/indicators/session-logs.csv", form)
    assert response.status_code == 200, response.text
    names = sorted(row["participant_name"] for row in rows(response.content))
    assert names == sorted(expected for _, expected in NAMES)


async def test_indicator_export_neutralises_the_organisation_name(app: Starlette) -> None:
    org = await world.organisation(name="@Қамқор — رعاية")
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, admin) as client:
        response = await client.get("/indicators/export.csv")
    assert response.status_code == 200, response.text
    assert {row["organisation"] for row in rows(response.content)} == {"'@Қамқор — رعاية"}
    # Numbers and dates are left as they are: they are data, not formulas.
    first = rows(response.content)[0]
    assert first["value"] == "0" and first["period_start"][:2] == "20"
