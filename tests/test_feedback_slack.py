"""Polls, wins and kudos and onboarding through Slack's HTTP endpoint, signed like Slack,
against the fake Web API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.translate import slack_time, to_event
from bot.app import Core
from bot.events import ReactionAdded, ReactionChanged
from tests.fakes.slack_api import BOT_USER_ID, FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload
from tests.feedback_state import cells_holding, counts, latest_poll, poll_ref
from tests.test_slack_commands import BOB, CAROL, shown

DAN = {"user_id": "U0DAN", "user_name": "dan"}


async def until(check: Callable[[], Any], what: str, timeout: float = 5.0) -> None:
    """Wait for lazy listeners (they run after the ack) until `check()` holds."""
    for _ in range(int(timeout / 0.02)):
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def handled_reactions(core: Core) -> list[str | None]:
    """Event ids of reactions the poll handler has finished with (a later handler sees them)."""
    seen: list[str | None] = []

    async def spy(event: ReactionChanged) -> None:
        seen.append(event.event_id)

    core.handlers.on_reaction(spy)
    return seen


def reaction_event(
    user: str, ts: str, emoji: str, *, event_ts: str, event_id: str, added: bool = True
) -> dict[str, Any]:
    body = load_payload("event_reaction_added" if added else "event_reaction_removed")
    body["event"].update(user=user, reaction=emoji, event_ts=event_ts)
    body["event"]["item"] = {"type": "message", "channel": "C0001", "ts": ts}
    body["event_id"] = event_id
    return body


def button_press(
    user: dict[str, str],
    ts: str,
    action_id: str,
    value: str,
    api: FakeSlackApi,
    channel: str = "C0001",
) -> dict[str, Any]:
    press = copy.deepcopy(load_payload("block_actions"))
    press["user"] = {"id": user["user_id"], "username": user["user_name"], "team_id": "T0001"}
    press["response_url"] = api.response_url(f"press-{user['user_id']}-{value}")
    press["container"] = {"type": "message", "message_ts": ts, "channel_id": channel}
    press["channel"] = {"id": channel, "name": "general" if channel == "C0001" else "directmessage"}
    press["actions"] = [
        {"action_id": action_id, "block_id": "copbot_actions", "value": value, "type": "button"}
    ]
    return press


async def community(slack: SlackClientSide) -> None:
    await slack.command('setup "DS" domain="ML" mission="Share patterns"')
    await slack.command("join", **BOB)


# Polls -------------------------------------------------------------------------------------


async def test_a_poll_is_posted_with_a_reaction_and_a_button_per_option(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    # Slack sends what people type with &, < and > encoded.
    answer = await slack.command('poll "Lunch &lt;b&gt;?" "Pizza" "Sushi" "Tacos"', **BOB)
    assert answer.status == 200 and answer.text == ""  # the poll in the channel is the answer
    [post] = api.calls_to("chat.postMessage")
    assert post.args["channel"] == "C0001"
    blocks = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "*Poll #1*  Lunch &lt;b&gt;?" in blocks and ":two: *Sushi*" in blocks
    buttons = post.args["blocks"][-1]["elements"]
    poll = await latest_poll(core)
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("vote", f"{poll.id}:1"),
        ("vote:1", f"{poll.id}:2"),
        ("vote:2", f"{poll.id}:3"),
    ]
    ref = await poll_ref(core)
    reactions = api.calls_to("reactions.add")
    assert [r.args["name"] for r in reactions] == ["one", "two", "three"]
    assert {(r.args["channel"], r.args["timestamp"]) for r in reactions} == {
        ("C0001", ref.message_id)
    }


async def test_a_reaction_slack_refuses_does_not_post_the_poll_again(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    api.error_next("reactions.add", "too_many_reactions")
    await slack.command('poll "Lunch?" "Pizza" "Sushi"', **BOB)
    assert len(api.calls_to("chat.postMessage")) == 1
    assert len(api.calls_to("reactions.add")) == 2
    assert (await poll_ref(core)).channel == "C0001"
    assert await core.outbox.pending_count() == 0


async def test_reaction_votes_are_exact_under_redelivery_and_disorder(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    seen = handled_reactions(core)
    await community(slack)
    await slack.command('poll "Lunch?" "Pizza" "Sushi" "Tacos"', **BOB)
    ts = (await poll_ref(core)).message_id

    async def send(body: dict[str, Any], **headers: str) -> None:
        assert (await slack.envelope(body, **headers)).status == 200

    async def handled(body: dict[str, Any]) -> None:
        await send(body)
        await until(lambda: body["event_id"] in seen, body["event_id"])

    bob_two = reaction_event("U0BOB", ts, "two", event_ts="1700000100.000001", event_id="Ev01")
    await handled(bob_two)
    await send(bob_two, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    await handled({**bob_two, "event_id": "Ev01b"})  # the same reaction under another id
    # Carol's removal overtakes the add it takes back.
    await handled(
        reaction_event(
            "U0CAROL", ts, "one", added=False, event_ts="1700000300.000001", event_id="Ev02"
        )
    )
    await handled(reaction_event("U0CAROL", ts, "one", event_ts="1700000250.5", event_id="Ev03"))
    # Dan adds a second option, then takes it back: his vote returns to the first.
    await handled(reaction_event("U0DAN", ts, "three", event_ts="1700000400.1", event_id="Ev04"))
    await handled(reaction_event("U0DAN", ts, "one", event_ts="1700000401.1", event_id="Ev05"))
    await handled(
        reaction_event("U0DAN", ts, "one", added=False, event_ts="1700000402.1", event_id="Ev06")
    )
    # copbot's own reactions (it adds one per option) never count.
    await send(reaction_event(BOT_USER_ID, ts, "one", event_ts="1700000500.1", event_id="Ev07"))
    await handled(reaction_event("U0ERIN", ts, "tada", event_ts="1700000600.1", event_id="Ev08"))
    assert "Ev07" not in seen and "Ev01" in seen
    assert seen.count("Ev01") == 1
    assert await counts(core) == ((0, 1, 1), 2)

    # The live count: one edit of the poll, in place.
    assert await core.feedback.live_counts.flush() == 1
    [edit] = api.calls_to("chat.update")
    assert edit.args["ts"] == ts and edit.args["channel"] == "C0001"
    edited = json.dumps(edit.args["blocks"], ensure_ascii=False)
    assert ":two: *Sushi*\\n`█████░░░░░` 1 (50%)" in edited
    assert "2 people voted so far." in edited


async def test_buttons_vote_and_the_voter_is_told_privately(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    await slack.command('poll "Lunch?" "Pizza" "Sushi"', **BOB)
    poll = await latest_poll(core)
    ts = (await poll_ref(core)).message_id
    await slack.interact(button_press(CAROL, ts, "vote:1", f"{poll.id}:2", api))
    [told] = await api.wait_for("response_url")
    assert told.args["response_type"] == "ephemeral"
    assert "Your vote in poll #1 (Lunch?): *Sushi*." in shown(told.args)
    await slack.interact(button_press(DAN, ts, "vote", f"{poll.id}:1", api))
    await api.wait_for("response_url", 2)
    assert await counts(core) == ((1, 1), 2)
    # On the command line too.
    voted = await slack.command("vote #1 1", **CAROL)
    assert voted.json["response_type"] == "ephemeral" and "*Pizza*" in shown(voted)
    assert await counts(core) == ((2, 0), 2)
    results = await slack.command("poll results #1", **BOB)
    assert ":one: *Pizza*\n`██████████` 2 (100%)" in shown(results)


async def test_many_reactions_at_once_are_counted_exactly(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    seen = handled_reactions(core)
    await community(slack)
    await slack.command('poll "Lunch?" "Pizza" "Sushi" "Tacos"', **BOB)
    ts = (await poll_ref(core)).message_id
    bodies = [
        reaction_event(
            f"U{n:04d}",
            ts,
            ("one", "two", "three")[n % 3],
            event_ts=f"17000001{n:02d}.0",
            event_id=f"EvM{n}",
        )
        for n in range(40)
    ]
    answers = await asyncio.gather(*(slack.envelope(body) for body in bodies))
    assert {a.status for a in answers} == {200}
    await until(lambda: len(seen) == 40, "40 reactions")
    assert await counts(core) == ((14, 13, 13), 40)


async def test_an_anonymous_poll_counts_buttons_only_and_keeps_no_voter_id(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    seen = handled_reactions(core)
    await community(slack)
    await slack.command('poll "Cadence right?" "Yes" "No" anonymous=yes hidden=yes', **BOB)
    assert api.calls_to("reactions.add") == []
    poll = await latest_poll(core)
    ts = (await poll_ref(core)).message_id
    vera = {"user_id": "U0VERA77", "user_name": "vera"}
    walt = {"user_id": "U0WALT77", "user_name": "walt"}
    await slack.interact(button_press(vera, ts, "vote", f"{poll.id}:1", api))
    await slack.interact(button_press(walt, ts, "vote:1", f"{poll.id}:2", api))
    told = await api.wait_for("response_url", 2)
    assert all(t.args["response_type"] == "ephemeral" for t in told)
    assert all("only you see this" in shown(t.args) for t in told)
    yuri = reaction_event("U0YURI77", ts, "one", event_ts="1700000100.1", event_id="EvY")
    await slack.envelope(yuri)
    await until(lambda: "EvY" in seen, "Yuri's reaction")
    assert await counts(core) == ((1, 1), 2)
    assert await core.feedback.live_counts.flush() == 0  # hidden until it closes
    closed = await slack.command("poll close #1", **BOB)
    assert closed.json["response_type"] == "in_channel"
    assert "2 people voted." in shown(closed)
    assert await cells_holding(core, "U0VERA77", "U0WALT77", "U0YURI77") == []


# Wins and kudos ----------------------------------------------------------------------------


async def test_wins_and_kudos_in_the_channel_and_the_thanked_persons_dms(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    win = await slack.command('win "Shipped &lt;!here&gt; the model"', **BOB)
    assert win.json["response_type"] == "in_channel"
    assert ":trophy: <@U0BOB> shared a win with *DS*" in shown(win)
    assert "Shipped &lt;!here&gt; the model" in shown(win)
    kudos = await slack.command('kudos <@U0ALICE|alice> "for the demo"', **BOB)
    assert kudos.json["response_type"] == "in_channel"
    assert ":clap: Kudos to <@U0ALICE> from <@U0BOB>" in shown(kudos)
    [opened] = await api.wait_for("conversations.open")
    assert opened.args["users"] == "U0ALICE"
    [dm] = api.calls_to("chat.postMessage")
    assert dm.args["text"] == "<@U0BOB> thanked you in DS: “for the demo”"


# Onboarding --------------------------------------------------------------------------------


def joined(user: str, event_id: str) -> dict[str, Any]:
    body = load_payload("event_member_joined_channel")
    body["event"]["user"] = user
    body["event_id"] = event_id
    return body


async def test_a_newcomer_is_welcomed_once_and_can_join_from_the_dm(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    await slack.envelope(joined("U0CAROL", "EvJ1"))
    [dm] = await api.wait_for("chat.postMessage")
    [opened] = api.calls_to("conversations.open")
    assert opened.args["users"] == "U0CAROL"
    welcome = json.dumps(dm.args["blocks"], ensure_ascii=False)
    assert ":wave: Welcome to *DS*, a Community of Practice of 2 in <#C0001>!" in welcome
    assert "*Stewards*\\n<@U0ALICE>" in welcome
    join, mentor = dm.args["blocks"][-1]["elements"]
    assert (join["action_id"], mentor["action_id"]) == ("onboard_join", "onboard_mentor:1")

    # Slack re-sends the event, then says again that she joined (left and came back),
    # and copbot itself joins: no second welcome, none for copbot.
    await slack.envelope(joined("U0CAROL", "EvJ1"), **{"X-Slack-Retry-Num": "1"})
    await slack.envelope(joined("U0CAROL", "EvJ2"))
    await slack.envelope(joined(BOT_USER_ID, "EvJ3"))
    await slack.envelope(joined("U0DAN", "EvJ4"))
    await until(lambda: len(api.calls_to("conversations.open")) == 2, "Dan's welcome")
    assert [c.args["users"] for c in api.calls_to("conversations.open")] == ["U0CAROL", "U0DAN"]

    # She presses "Join the community" in her DM.
    dm_channel = dm.args["channel"]
    press = button_press(
        CAROL, "1700000000.000999", "onboard_join", join["value"], api, channel=dm_channel
    )
    await slack.interact(press)
    posts = await api.wait_for("chat.postMessage", 4)
    by_channel = {p.args["channel"]: json.dumps(p.args["blocks"]) for p in posts[2:]}
    assert "Welcome <@U0CAROL> to *DS*! We are now 3." in by_channel["C0001"]
    assert "You joined *DS*; you're one of 3 now." in by_channel[dm_channel]

    # And asks for a peer mentor.
    await slack.interact(
        button_press(
            CAROL, "1700000000.000999", "onboard_mentor:1", mentor["value"], api, channel=dm_channel
        )
    )
    [*_, wish] = await api.wait_for("chat.postMessage", 5)
    assert "will pair you with a peer mentor" in json.dumps(wish.args["blocks"])


# Translation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("1700000400.000100", datetime(2023, 11, 14, 22, 20, 0, 100, tzinfo=UTC)),
        ("1700000400", datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        ("1700000400.5", datetime(2023, 11, 14, 22, 20, 0, 500000, tzinfo=UTC)),
        ("", None),
        ("soon", None),
        ("1.2.3", None),
        (None, None),
    ],
)
def test_slack_times_are_read_exactly(ts: Any, expected: datetime | None) -> None:
    assert slack_time(ts) == expected


def test_a_reaction_carries_when_slack_says_it_happened() -> None:
    event = to_event(load_payload("event_reaction_added"))
    assert isinstance(event, ReactionAdded)
    assert event.at == datetime(2023, 11, 14, 22, 20, 0, 100, tzinfo=UTC)


async def test_stewards_edit_and_preview_the_welcome_in_slack(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    saved = await slack.command(
        'onboarding edit "Hi &lt;b&gt;! {name} ({domain}): ask {stewards}."'
    )
    assert saved.json["response_type"] == "ephemeral"
    assert ":white_check_mark: Saved the welcome of *DS*." in shown(saved)
    preview = await slack.command("onboarding preview")
    assert "Hi &lt;b&gt;! DS (ML): ask <@U0ALICE>." in shown(preview)
    refused = await slack.command('onboarding edit "Hi {who}"')
    assert "`{who}` is not a placeholder" in shown(refused)
    assert "Only stewards can use `/cop onboarding`." in shown(
        await slack.command("onboarding preview", **BOB)
    )
