"""Property: whatever the network does to a phone's pushes — drop answers,
duplicate, reorder, retry — the central record converges to exactly one
copy of each saved entry, equal to what the phone saved."""

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from server.sessions.models import SessionLog
from server.sync.models import Conflict
from tests.support.web import signed_in
from tests.test_sync import Phone, setting, values

# One step of the network's behaviour towards one push.
steps = st.lists(
    st.tuples(
        st.lists(st.integers(0, 7), min_size=1, max_size=6),  # which entries go out
        st.booleans(),  # the answer is lost on the way back
        st.booleans(),  # the batch is sent twice (a retransmission)
        st.randoms(use_true_random=False),  # the order they arrive in
    ),
    max_size=8,
)


# Any printable text, every script included (control characters are refused
# by the validator, which other tests cover).
NOTES = st.text(st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")), max_size=40)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps, notes=st.lists(NOTES, min_size=8, max_size=8))
async def test_any_interleaving_converges_to_exactly_once(
    app: Starlette, script: list[Any], notes: list[str]
) -> None:
    await SessionLog.all().delete()
    await Conflict.all().delete()
    _, _, worker, participant = await setting(app)
    async with await signed_in(app, worker) as client:
        phone = Phone(client, worker.id)
        await phone.start()
        saved = {str(uuid.uuid4()): values(str(participant.id), notes=note) for note in notes}
        ids = list(saved)
        sealed = {key: phone.entry(key, content) for key, content in saved.items()}
        outbox = set(ids)

        async def send(batch: list[str], lost: bool) -> None:
            response = await phone.push([sealed[key] for key in batch])
            assert response.status_code == 200
            for result in response.json()["results"]:
                assert result["status"] in ("stored", "already_stored"), result
                if not lost:
                    outbox.discard(result["id"])

        for chosen, lost, twice, order in script:
            batch = [ids[i] for i in chosen if ids[i] in outbox] or [ids[chosen[0]]]
            order.shuffle(batch)
            await send(batch, lost)
            if twice:
                await send(list(reversed(batch)), lost=False)
        while outbox:  # the phone drains what it still holds
            await send(sorted(outbox), lost=False)
    stored = {str(log.id): log for log in await SessionLog.filter(participant=participant)}
    assert set(stored) == set(saved)
    for key, content in saved.items():
        assert stored[key].notes == content["notes"].strip()
    assert await Conflict.all().count() == 0
