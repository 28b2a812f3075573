"""``homeward backup`` and ``restore`` on PostgreSQL: every row of every table,
the audit chain and the key files come back; what must be refused is, and
leaves the target as it was."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from starlette.applications import Starlette

from server import demo
from server.accounts.models import Challenge, Passkey, User
from server.appointments.models import Appointment
from server.assessments.models import AcceptedGoal, NeedsAssessment
from server.enums import Pillar, ReviewStatus, Role
from server.family.models import AppointmentResponse, CalendarFeed, PushSubscription, ReminderSent
from server.participants.models import Participant, PlanGoal
from server.programme.models import ProgrammeSnapshot
from server.referrals.models import Referral, ReferralKind, ReferralStatus, ReferralWorker
from server.reviews.models import ProgressReview
from server.settings import ROOT, Settings
from server.sync.models import Conflict
from tests.conftest import BACKEND
from tests.support import pg, world
from tests.support.web import post_form, signed_in
from tests.test_sync import Phone, setting, values

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="PostgreSQL backups (HOMEWARD_TEST_DB=postgres)"
)

Rows = dict[str, list[str]]
# Trust authentication ignores it; the test follows where it goes.
PASSWORD = "s3cret-Pass-word"


async def full_world(app: Starlette) -> None:
    """The demo world, a phone's pushes with a conflict resolved, and a row in
    every table the demo leaves empty, with text and bytes that must survive."""
    assert await demo.load(participants_per_org=3, months=1)
    org, officer, worker, participant = await setting(app)
    pid = str(participant.id)
    log_id = str(uuid.uuid4())
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        notes = [f"note {n} — ملاحظة — жазба" for n in range(5)]
        first = await phone.push(
            [phone.entry(log_id, values(pid, notes="first"))]
            + [phone.entry(str(uuid.uuid4()), values(pid, notes=text)) for text in notes]
        )
        assert {r["status"] for r in first.json()["results"]} == {"stored"}
        second = await phone.push([phone.entry(log_id, values(pid, notes="second"))])
        assert second.json()["results"][0]["status"] == "conflict"
    async with await signed_in(app, officer) as client:
        assert (await client.get(f"/participants/{pid}")).status_code == 200
        conflict = (await client.get("/conflicts")).text
        assert "second" in conflict
        chosen = await Conflict.get(record_id=log_id)
        replaced = await post_form(client, f"/conflicts/{chosen.id}", {"choice": "replace"})
        assert replaced.status_code == 303
    assert await world.invitation_token(org, Role.WORKER, name="Айгүл Нұрланқызы")
    now = datetime.now(UTC)
    family = await User.filter(role=Role.FAMILY).first()
    assert family is not None
    appointment = await Appointment.filter(family_visible=True).first() or await Appointment.first()
    assert appointment is not None
    someone = await Participant.first()
    assert someone is not None
    await ProgressReview.create(
        id=uuid.uuid4(),
        participant=participant,
        officer=officer,
        family=ReviewStatus.ON_TRACK,
        education=ReviewStatus.SOME_CONCERNS,
        vocational=ReviewStatus.ON_TRACK,
        counselling=ReviewStatus.SERIOUS_CONCERNS,
        summary="Прогресс хороший; تقدم جيد",
        reviewed_on=date(2026, 11, 2),
    )
    await AppointmentResponse.create(
        id=uuid.uuid4(),
        appointment=appointment,
        author=family,
        response="yes",
        message="Біз келеміз",
        base_version=1,
        content_hash="ab" * 32,
        outcome="applied",
        received_at=now,
    )
    await CalendarFeed.create(token_hash="cd" * 32, seed="ef" * 32, user=family, created_at=now)
    passkey = await Passkey.create(
        user=worker,
        credential_id=bytes(range(256)),
        credential_key="credential-key-1",
        public_key=b"\x00\x01\xfe\xff" * 16,
        transports=["internal", "hybrid"],
        name="téléphone",
    )
    assert passkey.id
    await Challenge.create(
        id="12" * 32,
        ceremony="authenticate",
        challenge=b"\x00" * 32,
        user=worker,
        expires_at=now + timedelta(minutes=5),
    )
    subscription = await PushSubscription.create(
        user=family,
        endpoint_hash="34" * 32,
        endpoint="https://push.example/abc",
        p256dh="B" * 87,
        auth="C" * 22,
        created_at=now,
    )
    await ReminderSent.create(
        subscription=subscription,
        appointment=appointment,
        kind="day_before",
        version=1,
        starts_at=appointment.starts_at,
        sent_at=now,
    )
    assessment = await NeedsAssessment.create(
        id=uuid.uuid4(),
        participant=participant,
        officer=officer,
        form_version=1,
        assessed_on=date(2026, 11, 3),
        answers={"education_need": "high", "education_learn": "Оқу — القراءة"},
        risk_note="Risk note — заметка",
        general_note="Note générale",
    )
    goal = await PlanGoal.create(
        id=uuid.uuid4(), participant=participant, pillar=Pillar.EDUCATION, text="Learn to read"
    )
    await AcceptedGoal.create(assessment=assessment, pillar=Pillar.EDUCATION, goal=goal)
    partner = await world.organisation("Partner NGO")
    partner_worker = await world.user(partner, Role.WORKER, name="Partner worker")
    referral = await Referral.create(
        id=uuid.uuid4(),
        participant=participant,
        from_organisation=org,
        to_organisation=partner,
        kind=ReferralKind.REFERRAL,
        pillars="education,vocational",
        consent_recorded_by=officer,
        consent_recorded_at=now,
        valid_until=date(2027, 3, 31),
        expires_at=now + timedelta(days=120),
        status=ReferralStatus.ACTIVE,
        reason="",
    )
    await ReferralWorker.create(referral=referral, user=partner_worker)
    await ProgrammeSnapshot.create(
        quarter="2026-Q3", countries="KZ,TN,UG", computed_at=now, figures={"people": [1, 2]}
    )


async def tables(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        return [r["table_name"] for r in rows]
    finally:
        await conn.close()


async def every_row(url: str) -> Rows:
    """Every table's rows, each as its repr, sorted; and the sequences' positions."""
    conn = await asyncpg.connect(url)
    try:
        found: Rows = {}
        for name in await tables(url):
            rows = await conn.fetch(f'SELECT * FROM public."{name}"')
            found[name] = sorted(repr(tuple(r.values())) for r in rows)
        sequences = await conn.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        )
        found["(sequences)"] = sorted(repr(tuple(r.values())) for r in sequences)
        return found
    finally:
        await conn.close()


def cli(*args: str, url: str, data_dir: Path, path: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "HOMEWARD_DATABASE_URL": url, "HOMEWARD_DATA_DIR": str(data_dir)}
    env.pop("HOMEWARD_SECRET_KEY", None)
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def key_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and ".before-restore-" not in p.name
    }


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{PASSWORD}@", 1)


@pytest.fixture
async def databases() -> AsyncIterator[list[str]]:
    """Names of databases the test makes; all dropped at the end."""
    made: list[str] = []
    yield made
    for name in made:
        await pg.drop_database(name)


def new_name(databases: list[str]) -> str:
    name = f"homeward_restore_{uuid.uuid4().hex[:8]}"
    databases.append(name)
    return name


@pytest.fixture
def data(settings: Settings, tmp_path: Path) -> Path:
    """A copy of the test run's data directory (its audit key seals the chain),
    with a secret key and one more key file, as a feature would add."""
    folder = tmp_path / "data"
    shutil.copytree(settings.data_dir, folder, ignore=shutil.ignore_patterns("*.sqlite3*"))
    for relative, text in (("secret_key", "the-installation-secret"), ("extra/partner.key", "k")):
        path = folder / relative
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(text)
        os.chmod(path, 0o600)
    return folder


async def test_a_restored_backup_holds_every_row_the_chain_and_the_keys(
    app: Starlette, settings: Settings, data: Path, tmp_path: Path, databases: list[str]
) -> None:
    await full_world(app)
    before = await every_row(settings.database_url)
    empty = sorted(name for name, rows in before.items() if not rows)
    assert empty == [], f"add rows for these tables to full_world: {empty}"
    archive = tmp_path / "backups" / "homeward.tar"
    archive.parent.mkdir()
    url = with_password(settings.database_url)
    code, out, err = cli("backup", str(archive), url=url, data_dir=data)
    assert code == 0, err
    assert f"to {archive}." in out
    assert "is set in the environment" not in out  # both keys are files here
    assert mode(archive) == 0o600
    with tarfile.open(archive) as opened:
        names = sorted(opened.getnames())
    assert {"manifest.json", "database/homeward.pgdump", "data/audit_key"} <= set(names)
    assert {"data/secret_key", "data/extra/partner.key"} <= set(names)
    assert [n for n in names if n.startswith("data/sync-keys/")] != []

    target = tmp_path / "restored"
    name = new_name(databases)  # does not exist yet: restore creates it
    code, out, err = cli("restore", str(archive), url=pg.url_for(name), data_dir=target)
    assert code == 0, err
    assert "Restored" in out
    assert await every_row(pg.url_for(name)) == before
    assert key_files(target) == key_files(data)
    assert {p: mode(target / p) for p in key_files(target)} == {p: 0o600 for p in key_files(data)}
    code, out, err = cli("audit", "verify", url=pg.url_for(name), data_dir=target)
    assert (code, out) == (0, "Audit chain intact.\n"), err


async def test_a_backup_taken_while_the_app_writes_is_one_moment(
    app: Starlette, settings: Settings, data: Path, tmp_path: Path, databases: list[str]
) -> None:
    _, officer, worker, participant = await setting(app)
    pid = str(participant.id)
    first_write = asyncio.Event()
    backup_done = asyncio.Event()

    async def keep_writing() -> int:
        written = 0
        async with (
            await signed_in(app, worker) as phone_client,
            await signed_in(app, officer) as officer_client,
        ):
            phone = Phone(phone_client, worker.id)
            await phone.start()
            while not backup_done.is_set():
                entry = phone.entry(str(uuid.uuid4()), values(pid))
                assert (await phone.push([entry])).status_code == 200
                # An audited read: an event appended to the chain.
                assert (await officer_client.get(f"/participants/{pid}")).status_code == 200
                written += 1
                first_write.set()
        return written

    writer = asyncio.create_task(keep_writing())
    await first_write.wait()
    archive = tmp_path / "during.tar"
    backup = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "backup",
        str(archive),
        cwd=ROOT,
        env={
            **os.environ,
            "HOMEWARD_DATABASE_URL": settings.database_url,
            "HOMEWARD_DATA_DIR": str(data),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await backup.communicate()
    backup_done.set()
    written = await writer
    assert backup.returncode == 0, err.decode()
    assert written >= 1

    name = new_name(databases)
    target = tmp_path / "restored"
    code, _, err_text = cli("restore", str(archive), url=pg.url_for(name), data_dir=target)
    assert code == 0, err_text
    restored = await every_row(pg.url_for(name))
    # Some pushes before the snapshot, some after it (pg_dump, the archive and
    # the command's exit take longer than a push): the copy is of one moment.
    assert 1 <= len(restored["session_log"]) < written
    code, out, err_text = cli("audit", "verify", url=pg.url_for(name), data_dir=target)
    assert (code, out) == (0, "Audit chain intact.\n"), err_text


async def test_restore_refuses_a_database_with_data_unless_forced_and_never_half_restores(
    app: Starlette, settings: Settings, data: Path, tmp_path: Path, databases: list[str]
) -> None:
    await full_world(app)
    archive = tmp_path / "b.tar"
    assert cli("backup", str(archive), url=settings.database_url, data_dir=data)[0] == 0
    source = await every_row(settings.database_url)
    name = new_name(databases)
    url = pg.url_for(name)
    target = tmp_path / "restored"
    assert cli("restore", str(archive), url=url, data_dir=target)[0] == 0

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DELETE FROM reminder_sent")
        await conn.execute("DELETE FROM push_subscription")
    finally:
        await conn.close()
    changed = await every_row(url)
    code, out, err = cli("restore", str(archive), url=url, data_dir=target)
    assert code == 2 and out == ""
    assert err.startswith(f"The database {name} on 127.0.0.1:5432 already holds data. ")
    assert "Restoring would replace: appointment (" in err
    # three demo countries, the programme's office, the test's own and its partner
    assert ", organisation (6 rows), " in err
    assert "tortoise_migrations" not in err
    assert err.endswith("Run again with --force if that is what you want.\n")
    assert await every_row(url) == changed

    # A restore that fails half-way (here: a view the dump does not know
    # stops the drop of its table) is rolled back whole.
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE VIEW someones_report AS SELECT id FROM participant")
    finally:
        await conn.close()
    changed = await every_row(url)
    code, out, err = cli("restore", "--force", str(archive), url=url, data_dir=target)
    assert code == 2
    assert err.startswith("pg_restore failed (exit 1); nothing was changed:\n")
    assert "someones_report" in err
    assert await every_row(url) == changed

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP VIEW someones_report")
    finally:
        await conn.close()
    code, out, err = cli("restore", "--force", str(archive), url=url, data_dir=target)
    assert code == 0, err
    assert await every_row(url) == source


async def test_restore_refuses_a_damaged_archive_and_leaves_the_target_empty(
    app: Starlette, settings: Settings, data: Path, tmp_path: Path, databases: list[str]
) -> None:
    await full_world(app)
    archive = tmp_path / "b.tar"
    assert cli("backup", str(archive), url=settings.database_url, data_dir=data)[0] == 0
    with tarfile.open(archive) as opened:
        dump = opened.getmember("database/homeward.pgdump")
        offset, size = dump.offset_data, dump.size
    damaged = tmp_path / "damaged.tar"
    content = bytearray(archive.read_bytes())
    content[offset + size // 2] ^= 0x01
    damaged.write_bytes(bytes(content))
    name = new_name(databases)
    url = await pg.create_database(name)
    target = tmp_path / "restored"
    code, out, err = cli("restore", str(damaged), url=url, data_dir=target)
    assert (code, out) == (2, "")
    assert err == f"{damaged} is damaged: database/homeward.pgdump does not match its checksum.\n"
    assert await tables(url) == []
    assert not (target / "audit_key").exists()

    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: offset + size // 2])
    code, out, err = cli("restore", str(cut), url=url, data_dir=target)
    assert code == 2
    assert err.startswith(f"{cut} is damaged and cannot be read whole: ")
    assert await tables(url) == []

    not_ours = tmp_path / "notes.txt"
    not_ours.write_text("not an archive")
    code, out, err = cli("restore", str(not_ours), url=url, data_dir=target)
    assert code == 2 and err.startswith(f"{not_ours} is not a Homeward backup archive: ")
    assert await tables(url) == []


async def test_archives_of_the_other_kind_of_database_are_refused(
    app: Starlette, settings: Settings, data: Path, tmp_path: Path, databases: list[str]
) -> None:
    await full_world(app)
    pg_archive = tmp_path / "pg.tar"
    assert cli("backup", str(pg_archive), url=settings.database_url, data_dir=data)[0] == 0
    lite = tmp_path / "lite"
    lite.mkdir()
    database = lite / "homeward.sqlite3"
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("CREATE TABLE kept (note TEXT)")
        conn.execute("INSERT INTO kept VALUES ('untouched')")
        conn.commit()
    lite_url = f"sqlite://{database}"
    before = database.read_bytes()
    code, out, err = cli("restore", str(pg_archive), url=lite_url, data_dir=lite)
    assert (code, out) == (2, "")
    assert err == (
        f"{pg_archive} is a backup of a PostgreSQL database, but HOMEWARD_DATABASE_URL "
        "names a SQLite database. Restore it with HOMEWARD_DATABASE_URL set to a "
        "PostgreSQL database.\n"
    )
    assert database.read_bytes() == before

    lite_archive = tmp_path / "lite.tar"
    assert cli("backup", str(lite_archive), url=lite_url, data_dir=lite)[0] == 0
    name = new_name(databases)
    url = await pg.create_database(name)
    code, out, err = cli("restore", str(lite_archive), url=url, data_dir=tmp_path / "restored")
    assert (code, out) == (2, "")
    assert err == (
        f"{lite_archive} is a backup of a SQLite database, but HOMEWARD_DATABASE_URL "
        "names a PostgreSQL database. Restore it with HOMEWARD_DATABASE_URL set to a "
        "SQLite database.\n"
    )
    assert await tables(url) == []


async def test_pg_dump_gets_the_password_in_its_environment_only(
    settings: Settings, data: Path, tmp_path: Path
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    seen = tmp_path / "seen.txt"
    wrapper = tools / "pg_dump"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo "args: $*" >> {seen}\n'
        f'echo "PGPASSWORD: $PGPASSWORD" >> {seen}\n'
        'exec /usr/bin/pg_dump "$@"\n'
    )
    os.chmod(wrapper, 0o700)
    archive = tmp_path / "b.tar"
    url = with_password(settings.database_url)
    code, _, err = cli("backup", str(archive), url=url, data_dir=data, path=f"{tools}:/usr/bin")
    assert code == 0, err
    said = seen.read_text().splitlines()
    assert [line for line in said if line.startswith("args:") and PASSWORD in line] == []
    assert f"PGPASSWORD: {PASSWORD}" in said
    assert any(line.startswith("args: --format=custom --snapshot=") for line in said)


async def test_a_missing_or_too_old_pg_dump_is_named(
    settings: Settings, data: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "b.tar"
    code, out, err = cli("backup", str(archive), url=settings.database_url, data_dir=data, path="")
    assert (code, out) == (2, "")
    assert err == (
        "pg_dump was not found. Install PostgreSQL's client tools of the server's version "
        "or newer (Debian: apt install postgresql-client), or put pg_dump on PATH.\n"
    )
    assert not archive.exists()

    conn = await asyncpg.connect(settings.database_url)
    server = conn.get_server_version().major
    await conn.close()
    tools = tmp_path / "bin"
    tools.mkdir()
    old = tools / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 11.22'\n")
    os.chmod(old, 0o700)
    code, out, err = cli(
        "backup", str(archive), url=settings.database_url, data_dir=data, path=str(tools)
    )
    assert (code, out) == (2, "")
    assert err == (
        f"pg_dump 11 cannot dump a PostgreSQL {server} server: install "
        f"postgresql-client-{server} (or newer) and run again.\n"
    )
    assert not archive.exists()
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []
