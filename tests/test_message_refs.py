"""Posted messages have an identity: each adapter edits and deletes what it posted, and button
presses and reactions on a posted message reach registered handlers with that message's ref."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from bot.app import Core
from bot.events import ButtonPressed, ReactionAdded, ReactionChanged, ReactionRemoved
from bot.outbox import NotPosted
from bot.replies import Destination, MessageRef, Reply, Visibility
from tests.console_bot import ConsoleBot
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    ALICE,
    BOB,
    CHANNEL,
    TENANT,
    TeamsChat,
    connector,
    serve,
    settings,
    teams,
)


def notice(n: int) -> Reply:
    return Reply(kind="oops", data={"error_id": f"v{n}"}, visibility=Visibility.CHANNEL)


def record_reactions_and_presses(core: Core) -> list[Any]:
    """A feature's handlers, as a poll would register them: they see the message's ref."""
    seen: list[Any] = []

    async def on_reaction(event: ReactionChanged) -> None:
        seen.append(event)

    async def on_vote(event: ButtonPressed) -> list[Reply]:
        seen.append(event)
        return []

    core.handlers.on_reaction(on_reaction)
    core.handlers.on_action("probe", on_vote)  # polls own "vote"
    return seen


# Slack ---------------------------------------------------------------------------------


async def test_slack_posts_edits_and_deletes_by_ref(
    core: Core, slack: SlackClientSide, api: FakeSlackApi
) -> None:
    to = Destination(platform="slack", workspace="T0001", channel="C0001")
    ref = await core.outbox.send(notice(1).addressed(to))
    assert ref is not None and ref.channel == "C0001"
    [posted] = api.calls_to("chat.postMessage")
    assert await core.outbox.update(ref, notice(2).addressed(to))
    [updated] = api.calls_to("chat.update")
    assert updated.args["ts"] == ref.message_id and updated.args["channel"] == "C0001"
    assert "v2" in updated.args["text"]
    assert await core.outbox.delete(ref)
    [deleted] = api.calls_to("chat.delete")
    assert deleted.args["ts"] == ref.message_id
    # Gone now: a later edit is dropped (logged), not kept for retry.
    assert not await core.outbox.update(ref, notice(3).addressed(to))
    assert await core.outbox.pending_count() == 0
    assert posted.args["channel"] == "C0001"


async def test_slack_reactions_and_buttons_carry_the_ref_of_their_message(
    core: Core, slack: SlackClientSide, api: FakeSlackApi
) -> None:
    seen = record_reactions_and_presses(core)
    ref = await core.outbox.send(
        notice(1).addressed(Destination(platform="slack", workspace="T0001", channel="C0001"))
    )
    assert ref is not None
    reaction = load_payload("event_reaction_added")
    reaction["event"]["item"]["ts"] = ref.message_id
    reaction["event"]["reaction"] = "+1::skin-tone-3"
    await slack.envelope(reaction)
    removed = load_payload("event_reaction_removed")
    removed["event"]["item"]["ts"] = ref.message_id
    await slack.envelope(removed)
    press = load_payload("block_actions")
    press["container"]["message_ts"] = ref.message_id
    press["actions"][0]["action_id"] = "probe:2"
    press["actions"][0]["value"] = "2"
    await slack.interact(press)
    await api.wait_for("auth.test")  # Bolt has authorised the requests
    for _ in range(250):  # lazy listeners run after the ack
        if len(seen) == 3:
            break
        await asyncio.sleep(0.02)
    by_type = {type(event): event for event in seen}
    added, taken_back = by_type[ReactionAdded], by_type[ReactionRemoved]
    pressed = by_type[ButtonPressed]
    assert isinstance(added, ReactionAdded) and added.reaction == "like"
    assert added.message == ref
    assert isinstance(taken_back, ReactionRemoved) and taken_back.message == ref
    assert isinstance(pressed, ButtonPressed) and pressed.value == "2"
    assert pressed.message is not None and pressed.message.message_id == ref.message_id


# Teams ---------------------------------------------------------------------------------


async def test_teams_posts_edits_and_deletes_by_ref(
    core: Core,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await teams.say("help")  # copbot learns the channel's conversation reference
    to = Destination(platform="teams", workspace=TENANT, channel=CHANNEL)
    ref = await core.outbox.send(notice(1).addressed(to))
    assert ref is not None and ref.channel == CHANNEL
    assert await core.outbox.update(ref, notice(2).addressed(to))
    [edit] = connector.updates()
    assert edit.activity_id == ref.message_id and edit.conversation_id == CHANNEL
    assert edit.body is not None and "v2" in str(edit.body)
    assert await core.outbox.delete(ref)
    [removal] = connector.deletes()
    assert removal.activity_id == ref.message_id
    connector.fail_next(404, code="NotFound", message="Activity not found")
    assert not await core.outbox.update(ref, notice(3).addressed(to))
    assert await core.outbox.pending_count() == 0


@pytest.mark.parametrize(
    ("status", "surely_not_out"), [(403, True), (400, True), (429, True), (502, False)]
)
async def test_teams_posts_the_connector_answered_no_to_are_known_not_to_be_out(
    core: Core,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
    status: int,
    surely_not_out: bool,
) -> None:
    """A post the Connector answered below 500 (a refusal, a rate limit) surely did not go
    out, so a delivery may send it again; after a server error it may or may not be out."""
    await teams.say("help")
    to = Destination(platform="teams", workspace=TENANT, channel=CHANNEL)
    connector.fail_next(status, code="Refused", message="no")
    with pytest.raises(Exception) as raised:
        await core.outbox.post_once(notice(1).addressed(to))
    assert isinstance(raised.value, NotPosted) is surely_not_out


async def test_teams_reactions_and_card_buttons_carry_the_ref_of_their_message(
    core: Core,
    teams: TeamsChat,  # noqa: F811
) -> None:
    seen = record_reactions_and_presses(core)
    await teams.say("help")
    ref = await core.outbox.send(
        notice(1).addressed(Destination(platform="teams", workspace=TENANT, channel=CHANNEL))
    )
    assert ref is not None
    reaction = teams.activity("message_reaction_added", user=BOB, replyToId=ref.message_id)
    reaction["conversation"]["id"] = CHANNEL
    reaction["channelData"]["channel"] = {"id": CHANNEL}
    await teams.post(reaction)
    press = teams.activity(
        "action_submit", user=BOB, replyToId=ref.message_id, value={"action": "probe", "value": "2"}
    )
    press["conversation"] = copy.deepcopy(reaction["conversation"])
    press["channelData"]["channel"] = {"id": CHANNEL}
    await teams.post(press)
    reacted, pressed = seen
    assert isinstance(reacted, ReactionAdded) and reacted.message == ref
    assert isinstance(pressed, ButtonPressed) and pressed.message == ref


# Console -------------------------------------------------------------------------------


async def test_the_console_prints_edits_and_deletions(core: Core, bot: ConsoleBot) -> None:
    to = Destination(platform="console", workspace="local", channel="ds")
    ref = await core.outbox.send(notice(1).addressed(to))
    assert ref is not None
    assert await core.outbox.update(ref, notice(2).addressed(to))
    assert await core.outbox.delete(ref)
    assert not await core.outbox.update(ref, notice(3).addressed(to))  # gone
    assert bot.lines[-2].startswith("[edited in #ds]") and "v2" in bot.lines[-2]
    assert bot.lines[-1] == "[deleted a message in #ds]"


async def test_a_reaction_on_a_message_nobody_knows_is_ignored(core: Core) -> None:
    from bot.events import Origin

    origin = Origin(platform="slack", workspace="T1", channel="C1", user="U1")
    ref = MessageRef(platform="slack", workspace="T1", channel="C1", message_id="9.9")
    replies = await core.router.handle(ReactionAdded(origin=origin, message=ref, reaction="like"))
    assert replies == []


@pytest.mark.parametrize(("slack_name", "neutral"), [("+1", "like"), ("tada", "tada")])
def test_slack_reaction_names_are_neutral_in_the_core(slack_name: str, neutral: str) -> None:
    from adapters.slack.translate import neutral_reaction

    assert neutral_reaction(slack_name) == neutral
    assert ALICE and BOB  # the Teams fixtures' people are shared with these tests
