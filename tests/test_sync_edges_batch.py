"""One bad record never blocks a batch (issue 13, item 7)."""

import json
import logging
import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from tortoise.exceptions import OperationalError

from server.enums import Role
from server.sessions.models import SessionLog
from server.sync import services
from tests.support import world
from tests.support.web import ORIGIN, signed_in
from tests.test_sync import Phone, setting, values

# The worker reads French (tests.test_sync.setting); written out by hand.
TOO_EARLY_FR = "Cette date est trop ancienne. Veuillez vérifier l’année."


@pytest.mark.parametrize("zone", ["Asia/Almaty", "Pacific/Kiritimati", "America/Anchorage"])
async def test_impossible_dates_are_refused_one_by_one(app: Starlette, zone: str) -> None:
    _, _, worker, participant = await setting(app)
    worker.time_zone = zone
    await worker.save()
    pid = str(participant.id)
    ids = [str(uuid.uuid4()) for _ in range(6)]
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        batch = [
            phone.entry(ids[0], values(pid)),
            phone.entry(ids[1], values(pid, occurred_on="0001-01-01", occurred_time="00:00")),
            phone.entry(ids[2], values(pid, occurred_on="1999-12-31", occurred_time="23:59")),
            phone.entry(ids[3], values(pid, occurred_on="9999-12-31", occurred_time="23:59")),
            phone.entry(ids[4], values(pid, occurred_on="0001-01-01", occurred_time="23:59")),
            phone.entry(ids[5], values(pid)),
        ]
        response = await phone.push(batch)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        # Sent again, the good ones are already there and the bad ones still refused.
        again = (await phone.push(batch)).json()["results"]
    assert [(r["id"], r["status"], r.get("code")) for r in results] == [
        (ids[0], "stored", None),
        (ids[1], "rejected", "invalid"),
        (ids[2], "rejected", "invalid"),
        (ids[3], "rejected", "invalid"),
        (ids[4], "rejected", "invalid"),
        (ids[5], "stored", None),
    ]
    assert results[1]["errors"] == {"occurred_on": TOO_EARLY_FR}
    assert results[2]["errors"] == {"occurred_on": TOO_EARLY_FR}
    assert set(results[3]["errors"]) == {"occurred_on"}  # in the future
    assert [r["status"] for r in again] == ["already_stored"] + ["rejected"] * 4 + [
        "already_stored"
    ]
    assert {str(log.id) for log in await SessionLog.all()} == {ids[0], ids[5]}


async def test_an_unexpected_error_in_one_record_fails_only_that_record(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, worker, participant = await setting(app)
    pid = str(participant.id)
    real = services.validate

    def fragile(form: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("notes") == "poison":
            raise OverflowError("date value out of range")
        return real(form, data, **kwargs)

    monkeypatch.setattr(services, "validate", fragile)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        response = await phone.push(
            [
                phone.entry(ids[0], values(pid)),
                phone.entry(ids[1], values(pid, notes="poison")),
                phone.entry(ids[2], values(pid)),
            ]
        )
    assert response.status_code == 200
    assert [(r["status"], r.get("code")) for r in response.json()["results"]] == [
        ("stored", None),
        ("rejected", "malformed"),
        ("stored", None),
    ]


async def test_a_database_failure_is_a_retry_never_a_refusal(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, worker, participant = await setting(app)
    pid = str(participant.id)

    async def down(**_: Any) -> Any:
        raise OperationalError("connection to server was lost")

    monkeypatch.setattr(services.batch, "record_logs", down)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        response = await phone.push([phone.entry(str(uuid.uuid4()), values(pid))])
    assert response.status_code >= 500
    assert "rejected" not in response.text


async def test_a_phone_that_hangs_up_mid_upload_is_a_client_abort(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        cookie = client.cookies.get("homeward_session")
        body = json.dumps(
            {"records": [phone.entry(str(uuid.uuid4()), values(str(participant.id)))]}
        )
    lines: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record)

    access = logging.getLogger("homeward.access")
    keep = Keep()
    access.addHandler(keep)
    level = access.level
    access.setLevel(logging.INFO)
    caplog.set_level(logging.ERROR)
    half = body.encode()[: len(body) // 2]
    incoming = [
        {"type": "http.request", "body": half, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/sync/push",
        "raw_path": b"/api/sync/push",
        "query_string": b"",
        "root_path": "",
        "server": ("localhost", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"localhost:8000"),
            (b"origin", ORIGIN.encode()),
            (b"x-csrf-token", phone.token.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body.encode())).encode()),
            (b"cookie", f"homeward_session={cookie}".encode()),
        ],
    }
    try:
        await app(scope, receive, send)  # type: ignore[arg-type]
    finally:
        access.removeHandler(keep)
        access.setLevel(level)
    statuses = [getattr(r, "access", {}).get("status") for r in lines]
    assert statuses == [499]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert await SessionLog.all().count() == 0


async def test_a_family_answer_with_an_impossible_version_fails_only_itself(
    app: Starlette,
) -> None:
    from tests.test_sync_edges_conflicts import _answer, _appointment

    org, officer, worker, participant = await setting(app)
    mother = await world.user(org, Role.FAMILY, name="Mother Kato")
    await participant.family.add(mother)
    appointment = await _appointment(participant, worker, officer)
    status, code = await _answer(app, mother, str(uuid.uuid4()), appointment, "coming", 2**70)
    assert (status, code) in {("rejected", "malformed"), ("conflict", None)}
    # The appointment is untouched, and a sane answer still goes through.
    assert await _answer(app, mother, str(uuid.uuid4()), appointment, "coming", 1) == (
        "stored",
        None,
    )


def test_a_record_fault_is_told_from_a_server_fault() -> None:
    from server.sessions.batch import record_fault

    def wrapped(cause: BaseException) -> OperationalError:
        try:
            raise OperationalError(cause) from cause
        except OperationalError as error:
            return error

    class PgDataError(Exception):
        sqlstate = "22001"  # value too long for the column

    class PgConnectionLost(Exception):
        sqlstate = "08006"

    assert record_fault(wrapped(OverflowError("date value out of range")))
    assert record_fault(wrapped(PgDataError()))
    assert not record_fault(wrapped(PgConnectionLost()))
    assert not record_fault(wrapped(ConnectionResetError()))
    assert not record_fault(OperationalError("database is locked"))
    try:  # an outage raised while another error was being handled is no record's fault
        try:
            raise ValueError("earlier")
        except ValueError:
            raise OperationalError("connection to server was lost") from None
    except OperationalError as outage:
        assert not record_fault(outage)
