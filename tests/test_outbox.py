"""The outbound port: posts reach the adapter of their platform; failed posts are kept."""

from __future__ import annotations

from bot.app import Core
from bot.clock import FixedClock
from bot.replies import Button, Destination, Reply, Visibility


class FlakyPlatform:
    platform = "test"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Reply] = []

    async def send(self, reply: Reply) -> str:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("network down")
        self.sent.append(reply)
        return f"m{len(self.sent)}"


POST = Reply(
    kind="role_notice",
    data={"community": {"name": "DS"}, "role": "core"},
    visibility=Visibility.DIRECT,
    buttons=(Button(label="Open", action="command", value="about"),),
    to=Destination(platform="test", workspace="W1", user="U1"),
)


async def test_a_post_reaches_its_platform(core: Core) -> None:
    platform = FlakyPlatform(failures=0)
    core.outbox.register(platform)
    assert await core.outbox.send(POST) == "m1"
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


async def test_a_post_for_a_platform_not_running_is_kept(core: Core) -> None:
    assert await core.outbox.send(POST) is None
    assert await core.outbox.pending_count() == 1


async def test_housekeeping_retries_posts_and_forgets_old_event_ids(
    core: Core, clock: FixedClock
) -> None:
    from adapters.server import housekeeping

    platform = FlakyPlatform(failures=1)
    core.outbox.register(platform)
    await core.outbox.send(POST)
    assert await core.ledger.first_time("slack", "Ev1")
    clock.advance(days=8)
    assert await core.ledger.first_time("slack", "Ev2")
    await housekeeping(core)
    assert platform.sent == [POST] and await core.outbox.pending_count() == 0
    assert await core.ledger.first_time("slack", "Ev1")  # forgotten: a week is long past
    assert not await core.ledger.first_time("slack", "Ev2")  # recent: still known
