"""Slack posts are paced to what the workspace turned out to allow: one burst of 429s teaches
the rate, later posts are spread to it; a channel's own limit holds only that channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from adapters.slack.platform import SlackPlatform
from adapters.slack.render import SlackRenderer
from bot.replies import Destination, Reply, Visibility
from tests.fakes.slack_api import FakeSlackApi


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(clock=time.time) as fake:
        yield fake


@pytest.fixture
async def platform(api: FakeSlackApi) -> AsyncIterator[SlackPlatform]:
    async def token_for(workspace: str, enterprise: str | None) -> str:
        return "xoxb-pacing"

    slack = SlackPlatform(base_url=api.base_url, token_for=token_for, renderer=SlackRenderer())
    yield slack
    await slack.close()


def notice(channel: str, n: int = 0) -> Reply:
    return Reply(
        kind="oops",
        data={"error_id": f"{channel}-{n}"},
        visibility=Visibility.CHANNEL,
        to=Destination(platform="slack", workspace="T0001", channel=channel),
    )


async def test_a_burst_teaches_the_workspace_rate_and_later_posts_keep_to_it(
    api: FakeSlackApi, platform: SlackPlatform
) -> None:
    api.rate_limit("chat.postMessage", per_workspace=10)
    await asyncio.gather(*(platform.send(notice(f"C{n}")) for n in range(35)))
    assert sum(len(api.messages_in(f"C{n}")) for n in range(35)) == 35
    pacer = platform._pacers["T0001"]
    assert pacer.allowed == 10
    refused_in_the_burst = api.rate_limited
    assert refused_in_the_burst >= 25  # the first burst's: everything past the first ten
    await asyncio.gather(*(platform.send(notice(f"D{n}")) for n in range(15)))
    assert api.rate_limited == refused_in_the_burst  # paced: none refused any more


async def test_a_channel_at_its_own_limit_does_not_slow_the_workspace(
    api: FakeSlackApi, platform: SlackPlatform
) -> None:
    api.rate_limit("chat.postMessage", per_channel=1, per_workspace=50)
    await platform.send(notice("C1", 1))
    await asyncio.gather(platform.send(notice("C1", 2)), platform.send(notice("C2")))
    posted = [m["text"] for m in api.messages_in("C1")]
    assert len(posted) == 2 and "C1-1" in posted[0] and "C1-2" in posted[1]
    assert api.rate_limited == 1 and len(api.messages_in("C2")) == 1
    assert platform._pacers["T0001"].allowed is None  # no workspace rate learned
