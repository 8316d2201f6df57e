"""Posts the core makes on its own reach Slack: rate limits are waited out, failures kept."""

from __future__ import annotations

import asyncio

from bot.app import Core
from bot.clock import FixedClock
from bot.replies import Destination, Reply, Visibility
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload


def notice(number: int, **to: str) -> Reply:
    return Reply(
        kind="role_notice",
        data={
            "community": {"name": f"Community {number}"},
            "role": "core",
            "role_phrase": "on the core team",
            "by": {"id": "U0ALICE", "name": "alice"},
        },
        visibility=Visibility.DIRECT,
        to=Destination(platform="slack", workspace="T0001", **to),
    )


async def test_the_platform_is_registered_and_opens_a_dm_for_a_user(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    assert "slack" in core.outbox.platforms

    ts = await core.outbox.send(notice(1, user="U0BOB"))

    [opened] = api.calls_to("conversations.open")
    [posted] = api.calls_to("chat.postMessage")
    assert opened.args["users"] == "U0BOB" and posted.args["channel"] == "DU0BOB"
    assert posted.headers["Authorization"] == "Bearer xoxb-test"
    assert ts and "You are now on the core team of *Community 1*" in str(posted.args["blocks"])


async def test_a_rate_limit_burst_loses_no_message(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    api.fail_next("chat.postMessage", status=429, retry_after=1, times=3)

    await asyncio.gather(*(core.outbox.send(notice(n, channel="C0001")) for n in range(5)))

    delivered = [c for c in api.calls_to("chat.postMessage")]
    assert len(delivered) == 5 + 3
    texts = {c.args["text"] for c in delivered}
    assert {
        f"You are now on the core team of Community {n}, set by <@U0ALICE>." for n in range(5)
    } <= texts
    assert await core.outbox.pending_count() == 0


async def test_a_post_slack_refuses_is_kept_and_delivered_on_retry(
    core: Core, api: FakeSlackApi, slack: SlackClientSide, clock: FixedClock
) -> None:
    await slack.command('setup "Data Science"')
    await slack.command("join", user_id="U0BOB", user_name="bob")
    api.error_next("chat.postMessage", "fatal_error")

    answer = await slack.command("role <@U0BOB|bob> core")

    assert answer.status == 200 and "is now on the core team" in answer.text
    assert await core.outbox.pending_count() == 1
    clock.advance(minutes=2)
    assert await core.outbox.retry_pending() == 1
    assert await core.outbox.pending_count() == 0
    sent = api.calls_to("chat.postMessage")
    assert len(sent) == 2 and sent[-1].args["channel"] == "DU0BOB"
    assert "You are now on the core team of Data Science" in sent[-1].args["text"]


async def test_an_answer_slack_refuses_to_show_ephemerally_arrives_as_a_dm(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    press = load_payload("block_actions")
    press.pop("response_url")
    press["actions"] = [{"action_id": "command", "block_id": "copbot_actions", "value": "about"}]
    api.error_next("chat.postEphemeral", "not_in_channel")

    await slack.interact(press)

    [dm] = await api.wait_for("chat.postMessage")
    assert dm.args["channel"] == "DU0ALICE" and "no community yet" in dm.args["text"]
