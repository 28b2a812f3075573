"""Reminders pushed to a family member's phone (issue 17, item 4).

Sent through pywebpush to a push service run by the test itself
(tests/support/webpush.py), which checks the VAPID signature and decrypts
each message with the phone's keys made here. Times are local: the day
before from 18:00, the morning from 07:00, in the family member's zone.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from tortoise.exceptions import IntegrityError

from server.accounts.models import User
from server.appointments import services as appointment_services
from server.appointments.forms import AppointmentInput
from server.appointments.models import Appointment
from server.audit.services import SYSTEM, Actor
from server.enums import Country, Pillar, Role
from server.family import reminders, vapid
from server.family import services as family_services
from server.family.models import PushSubscription, ReminderSent
from server.orgs.models import Organisation
from server.settings import Settings
from tests.support import world
from tests.support.web import post_json, signed_in
from tests.support.webpush import Phone, PushService, push_service, verify_vapid

ALMATY, TUNIS = ZoneInfo("Asia/Almaty"), ZoneInfo("Africa/Tunis")
# Words that must never reach a lock screen, in any of the five languages.
FORBIDDEN = (
    "prison", "reintegration", "réinsertion", "programme", "program",
    "тюрьм", "реинтеграц", "программ", "түрме", "бағдарлама",
    "سجن", "إدماج", "برنامج", "Kassymova", "Achieng", "Network", "probation", "room 4",
)  # fmt: skip


@pytest.fixture
async def pushes() -> AsyncIterator[PushService]:
    async with push_service() as service:
        yield service


async def family_world(
    *, language: str, zone: str, country: Country, start: datetime
) -> tuple[User, Appointment]:
    org = await Organisation.create(
        name="Almaty Prison Reintegration Network",
        country=country,
        default_language=language,
        time_zone=zone,
    )
    officer = await world.user(org, Role.OFFICER, name="Joseph Okello")
    worker = await world.user(org, Role.WORKER, name="Brenda Achieng")
    participant = await world.participant(org, officer, full_name="Zarina Kassymova")
    relative = await world.user(org, Role.FAMILY, name="Aigerim", language=language)
    await participant.family.add(relative)
    appointment = await Appointment.create(
        id=uuid.uuid4(),
        participant=participant,
        pillar=Pillar.COUNSELLING,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        place="Probation office, room 4",
        with_user=worker,
        family_visible=True,
        created_by=officer,
    )
    return relative, appointment


async def subscribe(app: Starlette, user: User, phone: Phone) -> None:
    # Signed in now, on the real clock (a session started "in 2030" would
    # be over at once): only the runs happen at the test's moments.
    async with await signed_in(app, user) as client:
        answer = await post_json(client, "/api/family/reminders", phone.subscription())
    assert answer.status_code == 200, answer.text


def pusher(app: Starlette, settings: Settings) -> reminders.Pusher:
    return reminders.Pusher(
        key=vapid.load(settings.data_dir),
        subject="https://localhost",
        catalogues=app.state.catalogues,
    )


def opened(
    service: PushService, phone: Phone, name: str, settings: Settings
) -> list[dict[str, Any]]:
    """Every message the phone received, checked (VAPID, encryption) and decrypted."""
    server_key = vapid.public_key(vapid.load(settings.data_dir))
    messages = []
    for received in service.to(name):
        signed = verify_vapid(
            received.headers["authorization"], audience=service.origin, now=time.time()
        )
        assert signed.public_key == _raw(server_key)
        assert received.headers["content-encoding"] == "aes128gcm"
        assert int(received.headers["ttl"]) > 0
        payload = json.loads(phone.decrypt(received.body))
        text = json.dumps(payload, ensure_ascii=False).lower()
        for word in FORBIDDEN:
            assert word.lower() not in text, word
        messages.append(payload)
    return messages


def _raw(b64: str) -> bytes:
    return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))


async def test_kazakh_family_in_almaty_is_reminded_the_evening_before_and_the_morning(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 3, 5, 10, 0, tzinfo=ALMATY)
    relative, appointment = await family_world(
        language="kk", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    phone = Phone(pushes.endpoint("aigerim"))
    await subscribe(app, relative, phone)
    sender = pusher(app, settings)

    async def run_at(day: int, hour: int, minute: int) -> list[dict[str, Any]]:
        before = len(pushes.to("aigerim"))
        await reminders.run(now=datetime(2030, 3, day, hour, minute, tzinfo=ALMATY), pusher=sender)
        return opened(pushes, phone, "aigerim", settings)[before:]

    assert await run_at(4, 17, 59) == []
    evening = await run_at(4, 18, 0)
    assert [(m["title"], m["body"]) for m in evening] == [
        ("Кездесу уақыты — Brenda", "Ертең, сағат 10:00")
    ]
    assert evening[0]["url"] == "/" and evening[0]["lang"] == "kk" and evening[0]["dir"] == "ltr"
    assert evening[0]["tag"] == f"appointment-{appointment.id}"
    assert await run_at(4, 23, 59) == []
    assert await run_at(5, 6, 59) == []
    morning = await run_at(5, 7, 0)
    assert [(m["title"], m["body"]) for m in morning] == [
        ("Кездесу уақыты — Brenda", "Бүгін, сағат 10:00")
    ]
    assert await run_at(5, 9, 59) == []
    assert await run_at(5, 10, 30) == []  # started: nothing more


async def test_arabic_family_in_tunis_reads_a_discreet_reminder(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 6, 11, 9, 30, tzinfo=TUNIS)
    relative, _ = await family_world(
        language="ar", zone="Africa/Tunis", country=Country.TUNISIA, start=start
    )
    phone = Phone(pushes.endpoint("amira"))
    await subscribe(app, relative, phone)
    sender = pusher(app, settings)

    await reminders.run(now=datetime(2030, 6, 10, 17, 59, tzinfo=TUNIS), pusher=sender)
    assert pushes.to("amira") == []
    await reminders.run(now=datetime(2030, 6, 10, 18, 0, tzinfo=TUNIS), pusher=sender)
    await reminders.run(now=datetime(2030, 6, 11, 7, 0, tzinfo=TUNIS), pusher=sender)
    messages = opened(pushes, phone, "amira", settings)
    assert [(m["title"], m["body"], m["dir"]) for m in messages] == [
        ("موعد — Brenda", "غدًا على الساعة 09:30", "rtl"),
        ("موعد — Brenda", "اليوم على الساعة 09:30", "rtl"),
    ]


async def test_an_early_appointment_has_no_morning_reminder(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 3, 5, 6, 30, tzinfo=ALMATY)
    relative, _ = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    phone = Phone(pushes.endpoint("early"))
    await subscribe(app, relative, phone)
    sender = pusher(app, settings)
    for moment in (datetime(2030, 3, 4, 20, 0), datetime(2030, 3, 5, 6, 0)):
        await reminders.run(now=moment.replace(tzinfo=ALMATY), pusher=sender)
    assert [m["body"] for m in opened(pushes, phone, "early", settings)] == ["Tomorrow at 06:30"]


async def test_each_reminder_goes_once_however_often_and_however_many_runs(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 3, 5, 10, 0, tzinfo=ALMATY)
    relative, appointment = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    phone = Phone(pushes.endpoint("once"))
    await subscribe(app, relative, phone)
    sender = pusher(app, settings)
    evening = datetime(2030, 3, 4, 18, 5, tzinfo=ALMATY)
    # Two runs at the same moment (as two cron jobs overlapping would be).
    await asyncio.gather(*(reminders.run(now=evening, pusher=sender) for _ in range(3)))
    await reminders.run(now=evening + timedelta(minutes=5), pusher=sender)
    assert len(pushes.to("once")) == 1
    assert await ReminderSent.filter(kind="day_before").count() == 1

    # The family answers (the appointment's version rises): no second reminder.
    await family_services.respond(
        user=relative,
        appointment_id=appointment.id,
        response="coming",
        message="",
        now=evening + timedelta(minutes=6),
        actor=Actor(relative.id, relative.organisation_id, "", ""),
    )
    await reminders.run(now=evening + timedelta(minutes=10), pusher=sender)
    assert len(pushes.to("once")) == 1


async def test_a_move_and_a_cancellation_are_told_once_each(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 3, 15, 10, 0, tzinfo=ALMATY)
    relative, appointment = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    phone = Phone(pushes.endpoint("changes"))
    await subscribe(app, relative, phone)
    sender = pusher(app, settings)
    now = datetime(2030, 3, 2, 9, 0, tzinfo=ALMATY)
    await reminders.run(now=now, pusher=sender)
    assert pushes.to("changes") == []

    new_start = datetime(2030, 3, 16, 15, 0, tzinfo=ALMATY)
    moved_to = AppointmentInput(
        pillar=Pillar.COUNSELLING,
        starts_at=new_start,
        ends_at=new_start + timedelta(hours=1),
        place=appointment.place,
        with_user_id=appointment.with_user_id,
        what_to_bring="",
        family_visible=True,
    )
    await appointment_services.move(appointment=appointment, data=moved_to, version=1, actor=SYSTEM)
    for minutes in (5, 10):
        await reminders.run(now=now + timedelta(minutes=minutes), pusher=sender)
    await appointment_services.cancel(
        appointment=await Appointment.get(id=appointment.id), actor=SYSTEM
    )
    for minutes in (15, 20):
        await reminders.run(now=now + timedelta(minutes=minutes), pusher=sender)

    assert [(m["title"], m["body"]) for m in opened(pushes, phone, "changes", settings)] == [
        ("Appointment — Brenda", "Moved to Saturday, 16 March 2030, 15:00–16:00"),
        ("Appointment — Brenda", "Cancelled: Saturday, 16 March 2030, 15:00–16:00"),
    ]
    # Cancelled: no reminder the evening before either.
    await reminders.run(now=datetime(2030, 3, 15, 19, 0, tzinfo=ALMATY), pusher=sender)
    assert len(pushes.to("changes")) == 2


async def test_changes_made_before_turning_reminders_on_are_not_news(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 3, 15, 10, 0, tzinfo=ALMATY)
    relative, appointment = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    await appointment_services.cancel(appointment=appointment, actor=SYSTEM)
    phone = Phone(pushes.endpoint("late"))
    await subscribe(app, relative, phone)
    await reminders.run(now=datetime(2030, 3, 2, 9, 0, tzinfo=ALMATY), pusher=pusher(app, settings))
    assert pushes.to("late") == []


@pytest.mark.parametrize("status", [404, 410])
async def test_a_phone_the_push_service_says_is_gone_is_forgotten(
    app: Starlette, settings: Settings, pushes: PushService, status: int
) -> None:
    start = datetime(2030, 3, 5, 10, 0, tzinfo=ALMATY)
    relative, _ = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    pushes.answers["gone"] = status
    await subscribe(app, relative, Phone(pushes.endpoint("gone")))
    done = await reminders.run(
        now=datetime(2030, 3, 4, 18, 30, tzinfo=ALMATY), pusher=pusher(app, settings)
    )
    assert (done.sent, done.removed) == (0, 1)
    assert len(pushes.to("gone")) == 1
    assert await PushSubscription.all().count() == 0
    assert await ReminderSent.all().count() == 0


async def test_a_failing_push_service_is_tried_again_on_the_next_run(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    start = datetime(2030, 3, 5, 10, 0, tzinfo=ALMATY)
    relative, _ = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    phone = Phone(pushes.endpoint("flaky"))
    await subscribe(app, relative, phone)
    sender = pusher(app, settings)
    pushes.answers["flaky"] = 500
    first = await reminders.run(now=datetime(2030, 3, 4, 18, 30, tzinfo=ALMATY), pusher=sender)
    assert (first.sent, first.failed, first.removed) == (0, 1, 0)
    assert await PushSubscription.all().count() == 1
    assert await ReminderSent.filter(kind="day_before").count() == 0  # not marked sent

    pushes.answers["flaky"] = 201
    second = await reminders.run(now=datetime(2030, 3, 4, 18, 35, tzinfo=ALMATY), pusher=sender)
    assert (second.sent, second.failed) == (1, 0)
    assert [m["body"] for m in opened(pushes, phone, "flaky", settings)] == [
        "Tomorrow at 10:00",
        "Tomorrow at 10:00",
    ]
    assert await ReminderSent.filter(kind="day_before").count() == 1


async def test_the_vapid_key_is_made_once_and_kept_private(settings: Settings) -> None:
    first = vapid.public_key(vapid.load(settings.data_dir))
    assert vapid.public_key(vapid.load(settings.data_dir)) == first
    assert len(_raw(first)) == 65 and _raw(first)[0] == 4
    mode = stat.S_IMODE(os.stat(vapid.key_path(settings.data_dir)).st_mode)
    assert mode == 0o600


async def test_the_command_sends_what_is_due_once_even_run_twice_at_once(
    app: Starlette, settings: Settings, pushes: PushService
) -> None:
    """``homeward reminders run`` in two processes at once, on the real clock:
    a cancellation is due whatever the time of day."""
    start = datetime.now(ALMATY).replace(microsecond=0) + timedelta(days=10)
    relative, appointment = await family_world(
        language="ru", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    phone = Phone(pushes.endpoint("cli"))
    await subscribe(app, relative, phone)
    await appointment_services.cancel(appointment=appointment, actor=SYSTEM)
    env = {
        **os.environ,
        "HOMEWARD_DATA_DIR": str(settings.data_dir),
        "HOMEWARD_DATABASE_URL": settings.database_url,
        "HOMEWARD_SECRET_KEY": "test-secret-key-not-for-production",
        "HOMEWARD_ORIGIN": "http://localhost:8000",
    }

    async def command() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "reminders", "run",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode() + err.decode()

    results = await asyncio.gather(command(), command())
    assert [code for code, _ in results] == [0, 0], results
    again = await command()
    assert again[0] == 0 and "Reminders sent: 0" in again[1]
    messages = opened(pushes, phone, "cli", settings)
    assert [m["title"] for m in messages] == ["Назначенная встреча — Brenda"]
    assert messages[0]["body"].startswith("Отменена: ")


async def test_the_database_itself_refuses_a_reminder_taken_twice(
    app: Starlette, pushes: PushService
) -> None:
    """What makes two runs at once safe is the unique constraint, not the
    check made before it: the second insert fails whatever the code read."""
    start = datetime(2030, 3, 5, 10, 0, tzinfo=ALMATY)
    relative, appointment = await family_world(
        language="en", zone="Asia/Almaty", country=Country.KAZAKHSTAN, start=start
    )
    await subscribe(app, relative, Phone(pushes.endpoint("twice")))
    subscription = await PushSubscription.get(user_id=relative.id)
    row = {
        "subscription_id": subscription.id,
        "appointment_id": appointment.id,
        "kind": "day_before",
        "version": 1,
        "starts_at": start,
        "sent_at": start,
    }
    await ReminderSent.create(**row)
    with pytest.raises(IntegrityError):
        await ReminderSent.create(**row)
    await ReminderSent.create(**{**row, "version": 2})  # a new version is a new reminder
