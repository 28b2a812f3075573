"""Nothing secret in the logs (issue 14, item 7).

A hostile run — broken bodies, forced server errors on the enrolment route,
a recovery link, a calendar feed, notes and names full of canaries — with
every log record of every logger captured, then searched for the tokens
and the canaries. A 500's line names the route template and the kind of
error, with a bounded stack and nothing anyone typed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from server.accounts import passkeys
from server.audit.services import SYSTEM
from server.enums import Role
from server.family import feeds as family_feeds
from tests.support import world
from tests.support.authenticator import SoftAuthenticator
from tests.support.web import ORIGIN, csrf_token, enrol, post_form, post_json, signed_in

CANARY = "CANARY-LOG-5d1c"
MAX_LINE = 4_000
CLIENT_LOGGERS = ("httpx", "httpcore")  # a 500 is one bounded line, not a 200 KB traceback


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

        self.access: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if hasattr(record, "access"):
            self.access.append(record.access)


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Everything]:
    """Every record any logger lets through at INFO (what ``homeward serve``
    runs at), including loggers that do not propagate to the root."""
    handler = Everything()
    original = logging.Logger.callHandlers

    def capture(self: logging.Logger, record: logging.LogRecord) -> None:
        # httpx and httpcore are the test's own client, not the server.
        if not record.name.startswith(CLIENT_LOGGERS):
            handler.handle(record)
        original(self, record)

    monkeypatch.setattr(logging.Logger, "callHandlers", capture)
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.INFO)
    yield handler
    root.setLevel(before)


async def boom(**kwargs: object) -> None:
    """A bug deep in enrolment whose message repeats what it was given."""
    raise RuntimeError(f"could not finish {kwargs.get('token')} for {kwargs.get('passkey_name')}")


async def test_a_hostile_run_leaves_no_token_or_canary_in_any_log(
    app: Starlette, client: httpx.AsyncClient, logs: Everything, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await world.organisation()
    officer = await world.user(org, Role.OFFICER)
    participant = await world.participant(org, officer, full_name=f"{CANARY} participant")
    worker = await world.user(org, Role.WORKER, name=f"{CANARY} worker")
    secrets_seen: list[str] = []

    # 1. Enrolment answering 500: the link (the token) must not be logged.
    token = await world.invitation_token(org, Role.WORKER, name=f"{CANARY} invitee")
    secrets_seen.append(token)
    monkeypatch.setattr(passkeys, "finish_enrolment", boom)
    for body in (
        {"credential": {"id": CANARY}, "language": "en", "name": f"{CANARY} phone"},
        {"credential": {"id": "x"}, "language": "en", "name": token},
    ):
        response = await post_json(client, f"/api/auth/enrol/{token}/verify", body)
        assert response.status_code == 500
        assert token not in response.text and CANARY not in response.text
    monkeypatch.undo()
    deep = b'{"credential": ' + b'{"a": ' * 700 + b'"' + CANARY.encode() + b'"' + b"}" * 701
    await client.post(
        f"/api/auth/enrol/{token}/verify",
        content=deep,
        headers={
            "origin": ORIGIN,
            "x-csrf-token": await csrf_token(client),
            "content-type": "application/json",
        },
    )

    # 2. A real enrolment and a recovery link used.
    phone = SoftAuthenticator(origin=ORIGIN)
    fresh = await world.invitation_token(org, Role.WORKER, name="Grace Namuli")
    secrets_seen.append(fresh)
    assert (await enrol(client, phone, fresh)).status_code == 200
    recovery = await world.invitation_token(
        org, Role.WORKER, name=f"{CANARY} back", existing=worker
    )
    secrets_seen.append(recovery)
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as other:
        await enrol(other, SoftAuthenticator(origin=ORIGIN), recovery)
        await other.get(f"/enrol/{recovery}")  # used: a 410 page, its path has the token

    # 3. A calendar feed read, and a made-up one.
    relative = await world.user(org, Role.FAMILY, name=f"{CANARY} relative")
    await participant.family.add(relative)
    feed = await family_feeds.open_feed(
        user=relative,
        now=datetime.now(UTC),
        actor=SYSTEM,
        secret=str(app.state.settings.secret_key),
    )
    secrets_seen.append(feed)
    assert (await client.get(f"/calendar/{feed}.ics")).status_code == 200
    await client.get(f"/calendar/{CANARY}.ics")

    # 4. Forms and a search full of canaries, signed in.
    admin = await world.user(org, Role.ADMIN)
    async with await signed_in(app, admin) as admin_client:
        await post_form(
            admin_client, "/invitations", {"role": "worker", "name": CANARY * 40, "language": "en"}
        )
        await admin_client.get(f"/admin/audit?action={CANARY}&from={CANARY}&page={CANARY}")
    async with await signed_in(app, officer) as officer_client:
        await officer_client.get(f"/participants?page=99999999999999999999&q={CANARY}")
        await officer_client.get(f"/indicators?from=0001-01-01&to={CANARY}")

    text = "\n".join(logs.lines)
    assert logs.lines, "nothing was logged: the capture is broken"
    for secret in secrets_seen:
        assert secret not in text
    assert CANARY not in text
    errors = [line for line in logs.lines if "RuntimeError" in line]
    assert len(errors) == 2, text[:2000]
    assert all("/api/auth/enrol/{token}/verify" in line for line in errors)
    assert max(len(line) for line in logs.lines) <= MAX_LINE
    # The answered 500s keep their access line, with a real duration.
    failed = [a for a in logs.access if a["status"] == 500]
    assert [a["route"] for a in failed] == ["/api/auth/enrol/{token}/verify"] * 2
    assert all(0 <= float(str(a["duration_ms"])) < 60_000 for a in failed)
