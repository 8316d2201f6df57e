"""Slack finds a delivery's post again by its message metadata, and the fake Web API reads
history and enforces rate limits the way Slack does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.platform import DELIVERY_EVENT, make_client
from bot.app import Core
from bot.outbox import NotPosted
from bot.replies import Destination, Reply, Visibility
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, slack_client_side

CHANNEL = Destination(platform="slack", workspace="T0001", channel="C0001")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # nothing here depends on the database


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(clock=time.time) as fake:
        yield fake


@pytest.fixture
async def slack(core: Core, api: FakeSlackApi) -> AsyncIterator[SlackClientSide]:
    async with slack_client_side(core, api) as client_side:
        yield client_side


def post(key: str | None, to: Destination = CHANNEL) -> Reply:
    return Reply(
        kind="oops",
        data={"error_id": key or "none"},
        visibility=Visibility.CHANNEL,
        to=to,
        key=key,
    )


def a_while_ago(seconds: float = 5) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


async def test_a_keyed_post_carries_metadata_and_is_found_by_it(
    core: Core, slack: SlackClientSide, api: FakeSlackApi
) -> None:
    since = a_while_ago()
    ref = await core.outbox.post_once(post("41"))
    await core.outbox.post_once(post(None))
    await core.outbox.post_once(post("42"))
    [first, _, _] = api.calls_to("chat.postMessage")
    assert first.args["metadata"] == {
        "event_type": DELIVERY_EVENT,
        "event_payload": {"delivery_id": "41"},
    }
    assert core.outbox.can_find("slack")
    found = await core.outbox.find("41", CHANNEL, since)
    assert found == ref
    [lookup] = api.calls_to("conversations.history")
    assert lookup.args["include_all_metadata"] in (True, "true", "1")
    assert float(lookup.args["oldest"]) < since.timestamp()  # with a margin for clock skew
    assert await core.outbox.find("43", CHANNEL, since) is None


async def test_a_lookup_reads_only_since_the_claim_and_pages_through_history(
    core: Core, slack: SlackClientSide, api: FakeSlackApi
) -> None:
    await core.outbox.post_once(post("7"))
    for n in range(250):  # more than one page of history after it
        await core.outbox.post_once(post(f"n{n}"))
    assert await core.outbox.find("7", CHANNEL, a_while_ago()) is not None
    assert len(api.calls_to("conversations.history")) == 2
    # Long after: outside the window the lookup reads, so not found.
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await core.outbox.find("7", CHANNEL, later) is None


async def test_a_direct_message_is_found_in_the_users_dm(
    core: Core, slack: SlackClientSide, api: FakeSlackApi
) -> None:
    to = Destination(platform="slack", workspace="T0001", user="U0BOB")
    ref = await core.outbox.post_once(post("9:U0BOB", to))
    assert ref is not None and ref.channel == "DU0BOB"
    assert await core.outbox.find("9:U0BOB", to, a_while_ago()) == ref


async def test_a_refusal_is_not_posted_and_a_lost_connection_may_have_been(
    core: Core, slack: SlackClientSide, api: FakeSlackApi
) -> None:
    api.error_next("chat.postMessage", "not_in_channel")
    with pytest.raises(NotPosted):
        await core.outbox.post_once(post("1"))
    api.fail_next("chat.postMessage", status=503)
    with pytest.raises(Exception) as error:
        await core.outbox.post_once(post("2"))
    assert not isinstance(error.value, NotPosted)  # a server error: it may be out


async def test_history_holds_metadata_only_when_asked_and_honours_oldest(
    api: FakeSlackApi,
) -> None:
    client = AsyncWebClient(base_url=api.base_url, token="xoxb-test")
    metadata = {"event_type": "copbot_delivery", "event_payload": {"delivery_id": "5"}}
    first = await client.chat_postMessage(channel="C9", text="one", metadata=metadata)
    await client.chat_postMessage(channel="C9", text="two")
    plain = await client.conversations_history(channel="C9")
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]
    assert all("metadata" not in m for m in plain["messages"])
    full = await client.conversations_history(channel="C9", include_all_metadata=True)
    assert full["messages"][1]["metadata"] == metadata
    after = await client.conversations_history(channel="C9", oldest=first["ts"])
    assert [m["text"] for m in after["messages"]] == ["two"]


async def test_the_fake_enforces_per_channel_and_workspace_rate_limits(
    api: FakeSlackApi,
) -> None:
    api.rate_limit("chat.postMessage", per_channel=1, per_workspace=3)
    client = AsyncWebClient(base_url=api.base_url, token="xoxb-test")
    await client.chat_postMessage(channel="C1", text="a")
    with pytest.raises(SlackApiError) as same_channel:
        await client.chat_postMessage(channel="C1", text="b")
    assert same_channel.value.response.status_code == 429
    assert same_channel.value.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel="C2", text="c")
    await client.chat_postMessage(channel="C3", text="d")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C4", text="e")  # the workspace's 3 are used
    assert api.rate_limited == 2


async def test_a_burst_past_the_limits_waits_once_and_loses_nothing(api: FakeSlackApi) -> None:
    api.rate_limit("chat.postMessage", per_channel=1, per_workspace=20)
    client = make_client(api.base_url, "xoxb-test")
    await asyncio.gather(
        *(client.chat_postMessage(channel=f"C{n}", text=str(n)) for n in range(50))
    )
    calls = api.calls_to("chat.postMessage")
    assert len(calls) - api.rate_limited == 50
    assert sorted(int(m["text"]) for c in range(50) for m in api.messages_in(f"C{c}")) == list(
        range(50)
    )
