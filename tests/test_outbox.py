"""The outbound port: posts and edits reach the adapter of their platform; failures are kept,
retried, claimed by one process at a time, and given up after a bounded number of tries."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.outbox import MAX_ATTEMPTS, MessageGone, Outbox, reply_from_dict, reply_to_dict
from bot.replies import Button, Destination, Form, MessageRef, Reply, Visibility
from copbot.app import upkeep
from storage.database import Database
from storage.models import PendingPost


class FlakyPlatform:
    """A platform that fails its first `failures` calls, then records what it was asked."""

    platform = "test"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[Reply] = []
        self.updated: list[tuple[MessageRef, Reply]] = []
        self.deleted: list[MessageRef] = []
        self.gone: set[str] = set()

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("network down")

    async def send(self, reply: Reply) -> MessageRef:
        self._maybe_fail()
        self.sent.append(reply)
        assert reply.to is not None
        return MessageRef(
            platform="test", workspace="W1", channel="C1", message_id=f"m{len(self.sent)}"
        )

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        if ref.message_id in self.gone:
            raise MessageGone(ref.message_id)
        self._maybe_fail()
        self.updated.append((ref, reply))

    async def delete(self, ref: MessageRef) -> None:
        if ref.message_id in self.gone:
            raise MessageGone(ref.message_id)
        self._maybe_fail()
        self.deleted.append(ref)


POST = Reply(
    kind="role_notice",
    data={"community": {"name": "DS"}, "role": "core"},
    visibility=Visibility.DIRECT,
    buttons=(Button(label="Open", action="command", value="about"),),
    to=Destination(platform="test", workspace="W1", user="U1"),
)
REF = MessageRef(platform="test", workspace="W1", channel="C1", message_id="m1")


def test_every_reply_field_survives_the_round_trip_through_storage() -> None:
    full = Reply(
        kind="charter",
        data={"a": [1, {"b": "c"}], "n": None},
        visibility=Visibility.CHANNEL,
        buttons=(
            Button(
                label="Go",
                action="vote",
                value="1",
                style="primary",
                channel="C2",
                typed="vote #1 1",
            ),
        ),
        to=Destination(
            platform="slack",
            workspace="T1",
            channel="C1",
            user="U1",
            thread="1.2",
            enterprise="E1",
        ),
        form=Form(name="setup", values={"name": "DS"}, channel="C3"),
        key="42",
        reactions=("one", "two"),
    )
    # A field added to Reply (or a part of it) must be set here, so it is checked too.
    for value in (full, full.buttons[0], full.to, full.form):
        assert value is not None
        for field in dataclasses.fields(value):  # type: ignore[arg-type]
            assert getattr(value, field.name) != field.default, field.name
    assert reply_from_dict(reply_to_dict(full)) == full


async def test_a_post_reaches_its_platform_and_returns_its_ref(core: Core) -> None:
    platform = FlakyPlatform()
    core.outbox.register(platform)
    ref = await core.outbox.send(POST)
    assert ref is not None and ref.message_id == "m1"
    assert platform.sent == [POST]


async def test_a_failed_post_is_kept_and_retried_until_it_goes_out(
    core: Core, clock: FixedClock
) -> None:
    platform = FlakyPlatform(failures=2)
    core.outbox.register(platform)
    assert await core.outbox.send(POST) is None
    assert await core.outbox.pending_count() == 1
    assert await core.outbox.retry_pending() == 0  # not due yet
    clock.advance(minutes=1)
    assert await core.outbox.retry_pending() == 0  # second failure: kept, later again
    assert await core.outbox.pending_count() == 1
    clock.advance(minutes=5)
    assert await core.outbox.retry_pending() == 1
    assert await core.outbox.pending_count() == 0
    assert platform.sent == [POST]  # the same reply, rebuilt from storage
    async with core.database.session() as session:
        [kept] = (await session.exec(select(PendingPost))).all()
    assert (kept.outcome, kept.message_id, kept.attempts) == ("sent", "m1", 2)


async def test_a_post_that_keeps_failing_is_given_up_with_a_log_line(
    core: Core, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    platform = FlakyPlatform(failures=100)
    core.outbox.register(platform)
    await core.outbox.send(POST)
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(hours=3)
        await core.outbox.retry_pending()
    assert await core.outbox.pending_count() == 0
    assert platform.failures == 100 - MAX_ATTEMPTS  # tried exactly MAX_ATTEMPTS times
    assert any("giving up" in r.getMessage() for r in caplog.records)


async def test_a_post_for_a_platform_not_running_is_not_kept(core: Core) -> None:
    assert await core.outbox.send(POST) is None
    assert await core.outbox.pending_count() == 0


async def test_edits_and_deletes_reach_the_platform_and_failed_ones_are_retried(
    core: Core, clock: FixedClock
) -> None:
    platform = FlakyPlatform()
    core.outbox.register(platform)
    assert await core.outbox.update(REF, POST)
    assert platform.updated == [(REF, POST)]
    platform.failures = 1
    assert await core.outbox.delete(REF)  # failed, kept
    assert await core.outbox.pending_count() == 1
    clock.advance(minutes=1)
    assert await core.outbox.retry_pending() == 1
    assert platform.deleted == [REF]


async def test_an_edit_of_a_message_that_is_gone_is_dropped_not_retried(
    core: Core, clock: FixedClock
) -> None:
    platform = FlakyPlatform()
    platform.gone.add("m1")
    core.outbox.register(platform)
    assert not await core.outbox.update(REF, POST)
    assert not await core.outbox.delete(REF)
    assert await core.outbox.pending_count() == 0


async def test_upkeep_retries_posts_and_forgets_old_event_ids(
    core: Core, clock: FixedClock
) -> None:
    platform = FlakyPlatform(failures=1)
    core.outbox.register(platform)
    await core.outbox.send(POST)
    assert await core.ledger.first_time("slack", "Ev1")
    clock.advance(days=8)
    assert await core.ledger.first_time("slack", "Ev2")
    await upkeep(core)
    assert platform.sent == [POST] and await core.outbox.pending_count() == 0
    assert await core.ledger.first_time("slack", "Ev1")  # forgotten: a week is long past
    assert not await core.ledger.first_time("slack", "Ev2")  # recent: still known


class SlowPlatform(FlakyPlatform):
    """Sends take a moment, so two processes' retries overlap."""

    async def send(self, reply: Reply) -> MessageRef:
        await asyncio.sleep(0.01)
        return await super().send(reply)


async def test_two_processes_retrying_the_same_kept_posts_send_each_once(
    database: Database, clock: FixedClock
) -> None:
    """Two outboxes, each with its own engine (as two copbot processes have), on one
    database: every kept post goes out exactly once."""
    first = Outbox(database, clock)
    other_database = Database(database.url, schema=database.schema)
    second = Outbox(other_database, clock)
    try:
        failing = FlakyPlatform(failures=30)
        first.register(failing)
        for n in range(30):
            await first.send(dataclasses.replace(POST, data={**POST.data, "n": n}))
        assert await first.pending_count() == 30
        clock.when = datetime(2030, 1, 1, tzinfo=UTC)
        one, two = SlowPlatform(), SlowPlatform()
        first.register(one)
        second.register(two)
        delivered = await asyncio.gather(first.retry_pending(), second.retry_pending())
        sent = [r.data["n"] for r in one.sent + two.sent]
        assert sorted(sent) == list(range(30)) and sum(delivered) == 30
        assert await first.pending_count() == 0
    finally:
        await other_database.close()
