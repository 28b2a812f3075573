"""Every push leaves one summary event in the audit trail, with the counts
of what its records came to, after the events of the logs it stored;
whether it was written with the batch (every log new) or after it."""

import uuid

from starlette.applications import Starlette

from server.audit.models import AuditEvent
from server.audit.services import verify
from tests.support.web import signed_in
from tests.test_sync import Phone, setting, values


async def _actions() -> list[tuple[str, dict[str, int] | None]]:
    events = await AuditEvent.filter(action__in=["sync.push", "session_log.stored"]).order_by("id")
    return [(e.action, e.detail if e.action == "sync.push" else None) for e in events]


async def test_a_push_of_new_logs_and_a_refusal_is_summarised_once_after_its_logs(
    app: Starlette,
) -> None:
    _org, _officer, worker, participant = await setting(app)
    pid = str(participant.id)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        refused = phone.entry(str(uuid.uuid4()), values(pid), author=worker.id + 1000)
        answer = await phone.push(
            [phone.entry(first, values(pid)), refused, phone.entry(second, values(pid))]
        )
        assert [r["status"] for r in answer.json()["results"]] == [
            "stored",
            "rejected",
            "stored",
        ]
        # The same batch again: nothing new, summarised after the fact.
        again = await phone.push([phone.entry(first, values(pid))])
        assert again.json()["results"][0]["status"] == "already_stored"

    summary = {"stored": 2, "already_stored": 0, "conflict": 0, "rejected": 1}
    repeat = {"stored": 0, "already_stored": 1, "conflict": 0, "rejected": 0}
    assert await _actions() == [
        ("session_log.stored", None),
        ("session_log.stored", None),
        ("sync.push", summary),
        ("sync.push", repeat),
    ]
    assert await verify() is None
