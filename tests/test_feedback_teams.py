"""Polls, wins and kudos and onboarding through copbot's /api/messages against the fake Bot
Connector, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity
from sqlmodel import select

from adapters.teams import translate
from bot.app import Core
from bot.events import ReactionAdded
from storage.models import PollVote
from tests.fakes.bot_connector import FakeBotConnector
from tests.feedback_state import cells_holding, counts, latest_poll, poll_ref
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    PAYLOADS,
    SETUP,
    TeamsChat,
    User,
    card_text,
    connector,
    serve,
    settings,
    teams,
)

TEAM = "19:Qm9vbkNvUHJhY3RpY2VUZWFtMDAwMQ@thread.tacv2"  # the team's General channel


def card_actions(activity: dict[str, Any]) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = activity["attachments"][0]["content"].get("actions", [])
    return actions


def pressed_in_channel(
    chat: TeamsChat, user: User, reply_to: str, action: str, value: str
) -> dict[str, Any]:
    press = chat.activity(
        "action_submit", user=user, replyToId=reply_to, value={"action": action, "value": value}
    )
    press["conversation"]["id"] = f"{CHANNEL};messageid=1700000000101"
    press["channelData"]["channel"] = {"id": CHANNEL, "name": "Practice"}
    return press


def pressed_in_personal_chat(
    chat: TeamsChat, user: User, action: str, value: str
) -> dict[str, Any]:
    press = chat.in_personal_chat("", user=user)
    press["value"] = {"action": action, "value": value}
    press.pop("text", None)
    return press


async def community(chat: TeamsChat) -> None:
    await chat.say(SETUP)
    await chat.say("join", user=BOB)


async def test_a_poll_card_has_a_button_per_option_and_counts_presses(
    core: Core,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await community(teams)
    sent = await teams.post(teams.in_channel('poll "Lunch?" "Pizza" "Sushi"', user=BOB))
    [card] = sent
    assert "Poll #1: Lunch?" in card_text(card) and "1. Pizza" in card_text(card)
    poll = await latest_poll(core)
    assert [(a["title"], a["data"]) for a in card_actions(card)] == [
        ("1. Pizza", {"action": "vote", "value": f"{poll.id}:1"}),
        ("2. Sushi", {"action": "vote", "value": f"{poll.id}:2"}),
    ]
    ref = await poll_ref(core)
    assert ref.channel == CHANNEL and ref.thread is not None

    # Carol presses "Sushi": her confirmation goes to her personal chat, never the thread.
    [confirmation] = await teams.post(
        pressed_in_channel(teams, CAROL, ref.message_id, "vote", f"{poll.id}:2")
    )
    assert "Your vote in poll #1 (Lunch?): **Sushi**." in card_text(confirmation)
    [created] = connector.created_conversations()
    assert created.body is not None and created.body["members"] == [{"id": CAROL[0]}]
    await teams.post(pressed_in_channel(teams, BOB, ref.message_id, "vote", f"{poll.id}:1"))
    await teams.post(pressed_in_channel(teams, BOB, ref.message_id, "vote", f"{poll.id}:2"))
    assert await counts(core) == ((0, 2), 2)

    # Teams' own reactions are no option's: they are not votes.
    like = teams.activity("message_reaction_added", user=CAROL, replyToId=ref.message_id)
    like["conversation"]["id"] = CHANNEL
    assert await teams.post(like) == []
    assert await counts(core) == ((0, 2), 2)

    # The live count edits the card in place.
    assert await core.feedback.live_counts.flush() == 1
    [edit] = connector.updates()
    assert edit.activity_id == ref.message_id
    assert edit.body is not None and "2 people voted so far." in json.dumps(edit.body)

    # `vote` and `poll results` as commands.
    assert "**Pizza**" in await teams.say("vote #1 1", user=BOB)
    results = await teams.say("poll results #1", user=BOB)
    assert "Results of poll #1: Lunch?" in results and "1 (50%)" in results


async def test_an_anonymous_poll_on_teams(
    core: Core,
    teams: TeamsChat,  # noqa: F811
) -> None:
    await community(teams)
    await teams.post(teams.in_channel('poll "Cadence?" "Good" "Slower" anonymous=yes', user=BOB))
    poll = await latest_poll(core)
    ref = await poll_ref(core)
    [told] = await teams.post(
        pressed_in_channel(teams, CAROL, ref.message_id, "vote", f"{poll.id}:2")
    )
    assert "Your vote is anonymous: only you see this." in card_text(told)
    assert await counts(core) == ((0, 1), 1)
    async with core.database.session() as session:
        [vote] = (await session.exec(select(PollVote))).all()
    assert vote.voter.startswith("h:") and CAROL[0] not in vote.voter
    # Teams' adapter keeps conversation references (who wrote last, personal chats), which
    # name people outside any vote; no feedback table does.
    holding = await cells_holding(core, CAROL[0])
    assert {table for table, _ in holding} <= {"conversation_references"}


async def test_wins_and_kudos_on_teams(
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await community(teams)
    win = await teams.say('win "Forecasts *twice* as fast"', user=BOB)
    assert "**Bob Lee** shared a win with **Data Science**" in win
    assert "Forecasts \\*twice\\* as fast" in win
    sent = await teams.post(teams.in_channel('kudos <at>Alice Smith</at> "for the demo"', user=BOB))
    notice, announcement = (card_text(a) for a in sent)
    assert "**Bob Lee** thanked you in **Data Science**:" in notice
    assert "Kudos to **Alice Smith** from **Bob Lee**" in announcement
    [created] = connector.created_conversations()
    assert created.body is not None and created.body["members"] == [{"id": ALICE[0]}]


async def test_a_new_team_member_is_welcomed_once_and_joins_from_the_personal_chat(
    core: Core,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await teams.say(SETUP, channel=TEAM)  # a community in the team's General channel
    added = teams.activity("conversation_update_members_added", membersAdded=[{"id": BOB[0]}])
    [welcome] = await teams.post(added)
    assert "Welcome to Data Science!" in card_text(welcome)
    assert "Stewards: **Alice Smith**" in card_text(welcome)
    join, mentor = card_actions(welcome)
    assert join["title"] == "Join the community" and join["data"]["action"] == "onboard_join"
    assert mentor["data"]["action"] == "onboard_mentor"
    [created] = connector.created_conversations()
    assert created.body is not None and created.body["members"] == [{"id": BOB[0]}]

    redelivered = copy.deepcopy(added)
    assert await teams.post(redelivered) == []  # the same activity again
    assert await teams.post({**added, "id": "f:another"}) == []  # joined again

    sent = await teams.post(
        pressed_in_personal_chat(teams, BOB, "onboard_join", join["data"]["value"])
    )
    texts = [card_text(a) for a in sent]
    assert any("Welcome **Bob Lee** to **Data Science**! We are now 2." in t for t in texts)
    assert any("You joined **Data Science**; you're one of 2 now." in t for t in texts)
    [wish] = await teams.post(
        pressed_in_personal_chat(teams, BOB, "onboard_mentor", mentor["data"]["value"])
    )
    assert "will pair you with a peer mentor" in card_text(wish)


def test_a_teams_reaction_carries_when_teams_says_it_happened() -> None:
    data = json.loads((PAYLOADS / "message_reaction_added.json").read_text())
    [event] = translate.to_events(Activity().deserialize(data))
    assert isinstance(event, ReactionAdded)
    assert event.at == datetime(2024, 3, 5, 9, 30, 5, 321000, tzinfo=UTC)


async def test_closing_a_poll_and_the_welcome_text_on_teams(
    core: Core,
    teams: TeamsChat,  # noqa: F811
) -> None:
    await community(teams)
    await teams.post(teams.in_channel('poll "Lunch?" "Pizza" "Sushi" hidden=yes', user=BOB))
    assert "**Pizza**" in await teams.say("vote #1 1", user=BOB)
    refused = await teams.say("poll close #1", user=CAROL)
    assert "Only the person who started poll #1, or a steward, can close it." in refused
    closed = await teams.say("poll close #1")
    assert "Poll #1 is closed: Lunch?" in closed and "1 person voted." in closed

    saved = await teams.say('onboarding edit "Hi *there*, welcome to {name}."')
    assert "Saved the welcome of **Data Science**." in saved
    assert "Hi \\*there\\*, welcome to Data Science." in saved
    assert "Hi \\*there\\*" in await teams.say("onboarding preview")
