"""Starting an organisation: the command line, the admin's settings page, key rotation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from starlette.applications import Starlette

from server.accounts.models import Invitation
from server.accounts.tokens import token_hash
from server.audit.models import AuditEvent
from server.enums import Country, Role
from server.orgs.models import Organisation
from server.settings import ROOT, Settings
from server.sync.keys import KeyRing, generate
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, enrol, post_form, signed_in


def cli(
    settings: Settings, *args: str, data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_DATA_DIR": str(data_dir or settings.data_dir),
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
        "HOMEWARD_ORIGIN": "http://localhost:8000",
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_org_create_prints_the_first_admins_invitation(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    made = cli(
        settings,
        "org", "create", "--name", "Жаңа Қадам", "--country", "KZ",
        "--language", "kk", "--time-zone", "Asia/Almaty", "--admin-name", "Әлия Серікова",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    links = [w for w in made.stdout.split() if w.startswith("http://localhost:8000/enrol/")]
    assert len(links) == 1, made.stdout
    token = links[0].rsplit("/", 1)[1]
    organisation = await Organisation.get(name="Жаңа Қадам")
    assert (organisation.country, organisation.default_language) == (Country.KAZAKHSTAN, "kk")
    assert organisation.time_zone == "Asia/Almaty"
    invitation = await Invitation.get(token_hash=token_hash(token))
    assert invitation.organisation_id == organisation.id
    assert invitation.role is Role.ADMIN
    assert invitation.name == "Әлия Серікова"
    assert await AuditEvent.filter(
        action="organisation.created", object_id=str(organisation.id)
    ).exists()
    # The link works: the first admin enrols and lands in the new organisation.
    enrolled = await enrol(client, SoftAuthenticator(origin=ORIGIN), token, language="kk")
    assert enrolled.status_code == 200, enrolled.text
    listed = cli(settings, "org", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{organisation.id}" in listed.stdout
    assert "Жаңа Қадам" in listed.stdout and "KZ" in listed.stdout


async def test_org_create_refuses_what_it_cannot_use(app: Starlette, settings: Settings) -> None:
    wrong_zone = cli(
        settings, "org", "create", "--name", "NGO", "--country", "UG",
        "--language", "en", "--time-zone", "Mars/Olympus",
    )  # fmt: skip
    assert wrong_zone.returncode != 0
    blank = cli(
        settings, "org", "create", "--name", "   ", "--country", "TN",
        "--language", "ar", "--time-zone", "Africa/Tunis",
    )  # fmt: skip
    assert blank.returncode != 0
    assert await Organisation.all().count() == 0
    assert await Invitation.all().count() == 0


async def admin_client(
    app: Starlette, language: str = "en"
) -> tuple[httpx.AsyncClient, Organisation]:
    organisation = await world.organisation("Tumaini")
    admin = await world.user(organisation, Role.ADMIN, language=language)
    return await signed_in(app, admin), organisation


GOOD = {
    "name": "Tumaini Reintegration",
    "contact_phone": "+256 772-123 456",
    "default_language": "fr",
    "time_zone": "Africa/Kampala",
    "retention_days": "730",
}


async def test_admin_changes_the_settings_and_the_change_is_audited(app: Starlette) -> None:
    client, organisation = await admin_client(app)
    async with client:
        page = await client.get("/admin/organisation")
        assert page.status_code == 200
        assert "Kampala" in page.text and "Almaty" in page.text
        saved = await post_form(client, "/admin/organisation", GOOD)
        assert saved.status_code == 303
    stored = await Organisation.get(id=organisation.id)
    assert stored.name == "Tumaini Reintegration"
    assert stored.contact_phone == "+256772123456"
    assert stored.default_language == "fr"
    assert stored.retention_days == 730
    event = await AuditEvent.get(action="organisation.updated", object_id=str(organisation.id))
    assert sorted(event.detail["fields"]) == [
        "contact_phone", "default_language", "name", "retention_days",
    ]  # fmt: skip
    assert "772" not in str(event.detail)  # the number itself stays out of the trail


async def test_time_zones_are_named_in_the_readers_language(app: Starlette) -> None:
    client, _ = await admin_client(app, language="kk")
    async with client:
        kazakh = (await client.get("/admin/organisation")).text
    assert "Алматы" in kazakh and "Кампала" in kazakh
    client, _ = await admin_client(app, language="ar")
    async with client:
        arabic = (await client.get("/admin/organisation")).text
    assert "ألماتي" in arabic and "تونس" in arabic


async def test_bad_settings_get_every_reason_and_change_nothing(app: Starlette) -> None:
    client, organisation = await admin_client(app, language="ru")
    bad = {
        "name": "",
        "contact_phone": "call 0772 after six",
        "default_language": "de",
        "time_zone": "Europe/Berlin",
        "retention_days": "0",
    }
    async with client:
        refused = await post_form(client, "/admin/organisation", bad)
        too_short = await post_form(
            client, "/admin/organisation", {**GOOD, "contact_phone": "+1 2"}
        )
        plus_inside = await post_form(
            client, "/admin/organisation", {**GOOD, "contact_phone": "0772+123456"}
        )
    assert refused.status_code == 422
    assert refused.text.count('class="problem"') == 5
    assert "Заполните это поле." in refused.text  # the reasons are in the admin's language
    assert "только цифрами" in refused.text
    assert too_short.status_code == 422 and plus_inside.status_code == 422
    stored = await Organisation.get(id=organisation.id)
    assert (stored.name, stored.contact_phone, stored.retention_days) == ("Tumaini", "", 5 * 365)
    assert not await AuditEvent.filter(action="organisation.updated").exists()


async def test_nothing_changed_writes_no_event(app: Starlette) -> None:
    client, _ = await admin_client(app)
    same = {
        "name": "Tumaini",
        "contact_phone": "",
        "default_language": "en",
        "time_zone": "Africa/Kampala",
        "retention_days": str(5 * 365),
    }
    async with client:
        assert (await post_form(client, "/admin/organisation", same)).status_code == 303
    assert not await AuditEvent.filter(action="organisation.updated").exists()


async def test_an_admin_changes_only_their_own_organisation(app: Starlette) -> None:
    client, _ = await admin_client(app)
    other = await world.organisation("Other NGO")
    async with client:
        await post_form(client, "/admin/organisation", {**GOOD, "id": str(other.id)})
    assert (await Organisation.get(id=other.id)).name == "Other NGO"


def test_keys_rotate_makes_a_new_current_key_and_keeps_the_old(
    settings: Settings, tmp_path: Path
) -> None:
    first = KeyRing.load(tmp_path / "sync-keys")
    rotated = cli(settings, "keys", "rotate", data_dir=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    ring = KeyRing.load(tmp_path / "sync-keys")
    assert ring.current.kid != first.current.kid
    assert ring.current.kid in rotated.stdout
    assert set(ring.keys) == {first.current.kid, ring.current.kid}
    listed = cli(settings, "keys", "list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert first.current.kid in listed.stdout and ring.current.kid in listed.stdout


def test_rotation_after_removing_an_old_key_makes_the_new_one_current(tmp_path: Path) -> None:
    folder = tmp_path / "sync-keys"
    KeyRing.load(folder)
    generate(folder)
    generate(folder)
    for _ in range(3):
        oldest = sorted(folder.glob("*.pem"))[0]
        oldest.unlink()  # retired, as docs/sync.md allows
        newest = generate(folder)
        assert KeyRing.load(folder).current.kid == newest.kid
        numbers = [path.name.split("-")[0] for path in sorted(folder.glob("*.pem"))]
        # Each key its own number, the new one last: "newest" never rests on the kid's hex.
        assert len(set(numbers)) == len(numbers) == 3
        assert next(folder.glob(f"*-{newest.kid}.pem")).name.startswith(numbers[-1])


def test_rotations_at_the_same_moment_never_share_a_number(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path / "sync-keys"
    KeyRing.load(folder)
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda _: generate(folder), range(8)))
    numbers = [path.name.split("-")[0] for path in folder.glob("*.pem")]
    assert sorted(numbers) == [f"{n:04d}" for n in range(1, 10)]
    assert KeyRing.load(folder).current.kid in {key.kid for key in made}


async def test_the_retention_period_set_here_is_the_one_retention_uses(app: Starlette) -> None:
    from datetime import date, timedelta

    from server import retention

    client, organisation = await admin_client(app)
    officer = await world.user(organisation, Role.OFFICER)
    today = date.today()
    released = await world.participant(
        organisation, officer, release_date=today - timedelta(days=100)
    )
    assert released.id not in {item.participant_id for item in await retention.due(today=today)}
    async with client:
        saved = await post_form(client, "/admin/organisation", {**GOOD, "retention_days": "90"})
        assert saved.status_code == 303
    assert released.id in {item.participant_id for item in await retention.due(today=today)}
