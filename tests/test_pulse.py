"""The post-session pulse: as a meeting ends, "How was <title>?" goes out once, tied to the
meeting, anonymous, closing on its own; on the console, on Slack over HTTP against the fake
Web API and on Teams against the fake Bot Connector; with two runners racing; not for
`pulse=no` or a skipped meeting. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.commands.pulses import Pulses
from bot.deliveries import DeliveryRunner
from bot.events import ButtonPressed, Origin
from bot.outbox import Outbox
from bot.services.anonymity import VoterKeys
from bot.services.polls import PollService
from bot.vocabulary import PULSE_OPTIONS, PULSE_SCORE_TOP
from rituals.recurrence import skip, upcoming
from rituals.schedule import Schedule
from storage.database import Database
from storage.models import Delivery, Occurrence, Poll, PollVote, Ritual
from tests.console_bot import ConsoleBot
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide
from tests.feedback_state import cells_holding, counts
from tests.ritual_rows import RecordingPlatform, a_community, a_ritual
from tests.test_feedback_slack import button_press
from tests.test_feedback_teams import card_actions, pressed_in_channel
from tests.test_slack_commands import BOB, CAROL
from tests.test_teams_endpoint import BOB as TEAMS_BOB
from tests.test_teams_endpoint import CAROL as TEAMS_CAROL
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    SETUP,
    TeamsChat,
    card_text,
    connector,
    serve,
    settings,
    teams,
)

# The fixed clock is Monday 2 March 2026, 09:00 UTC; rituals meet on Tuesdays at 15:00 Berlin
# (14:00 UTC) for an hour: the first meeting ends 30 hours from now.


async def pulses(database: Database) -> list[Poll]:
    async with database.session() as session:
        return list((await session.exec(select(Poll).order_by(Poll.id))).all())


async def pulse_rows(database: Database) -> list[Delivery]:
    async with database.session() as session:
        rows = await session.exec(select(Delivery).where(Delivery.kind == "pulse"))
        return list(rows.all())


async def first_meeting(database: Database) -> Occurrence:
    async with database.session() as session:
        return (await session.exec(select(Occurrence).order_by(Occurrence.starts_at))).first()


def press(user: str, poll: Poll, option: int, platform: str = "test") -> ButtonPressed:
    return ButtonPressed(
        origin=Origin(platform=platform, workspace="W1", channel="C1", user=user),
        action="vote",
        value=f"{poll.id}:{option}",
    )


# The rule, with the clock held still ---------------------------------------------------------


async def test_the_pulse_goes_out_as_the_meeting_ends_once_tied_to_it_and_anonymous(
    core: Core, clock: FixedClock
) -> None:
    platform = RecordingPlatform()
    core.outbox.register(platform)
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[])
    await core.deliveries.plan_ahead()
    meeting = await first_meeting(core.database)
    [row, *_] = sorted(await pulse_rows(core.database), key=lambda d: d.due_at)
    assert row.occurrence_id == meeting.id and row.due_at == meeting.ends_at
    clock.advance(hours=29)
    await core.deliveries.run_due()
    clock.advance(minutes=59)
    await core.deliveries.run_due()
    assert platform.kinds() == ["ritual_start"]  # the meeting is still on
    clock.advance(minutes=1)
    assert await core.deliveries.run_due() == 1
    assert await core.deliveries.run_due() == 0
    assert platform.kinds() == ["ritual_start", "poll"]
    post = platform.sent[-1]
    assert post.to is not None and post.to.channel == "C1" and post.key == str(row.id)
    assert post.data["question"] == "How was Deep dive?" and post.data["anonymous"]
    assert [o["label"] for o in post.data["options"]] == ["great", "useful", "meh", "not useful"]
    assert post.reactions == ()  # anonymous: buttons only
    [poll] = await pulses(core.database)
    # The contract analytics rely on: tied to the meeting, options best first.
    assert poll.occurrence_id == meeting.id and tuple(poll.options) == PULSE_OPTIONS
    assert [PULSE_SCORE_TOP - n for n in range(1, 5)] == [4, 3, 2, 1]
    assert poll.anonymous and poll.closes_at == clock.now() + timedelta(days=2)
    assert poll.message_channel == "C1" and poll.message_id == "m2"  # its post, for live counts

    # Votes count, anonymously; a vote moves; a third person's too.
    await core.router.handle(press("bob", poll, 1))
    await core.router.handle(press("carol", poll, 3))
    await core.router.handle(press("carol", poll, 2))
    assert await counts(core) == ((1, 1, 0, 0), 2)
    async with core.database.session() as session:
        voters = {v.voter for v in (await session.exec(select(PollVote))).all()}
    assert all(v.startswith("h:") for v in voters)
    assert await cells_holding(core, "carol") == []
    assert await core.feedback.live_counts.flush() == 1
    [(ref, edited)] = platform.updated
    assert ref.message_id == "m2" and edited.data["voters"] == 2

    # It closes on its own, once, and the results are posted beside it.
    clock.advance(days=2)
    assert await core.feedback.closing.sweep() == 1
    assert await core.feedback.closing.sweep() == 0
    assert platform.kinds()[-1] == "poll_results"
    assert platform.sent[-1].data["headline"] == "closed"


async def test_no_pulse_for_pulse_no_or_a_skipped_meeting(core: Core, clock: FixedClock) -> None:
    platform = RecordingPlatform()
    core.outbox.register(platform)
    community = await a_community(core.database, now=clock.now())
    quiet = await a_ritual(core.database, community, now=clock.now(), reminders=[])
    loud = await a_ritual(
        core.database, community, now=clock.now(), number=2, title="Show and tell", reminders=[]
    )
    async with core.database.session() as session:
        row = await session.get(Ritual, quiet.id)
        assert row is not None
        row.pulse = False
        session.add(row)
    await core.deliveries.plan_ahead()
    assert {d.occurrence_id for d in await pulse_rows(core.database)} == {
        o.id for o in await _meetings(core.database, loud)
    }
    # Ritual #2's first meeting is skipped after its rows were planned.
    schedule = Schedule.from_json(loud.schedule)
    first = upcoming(schedule, now=clock.now(), count=1)[0]
    async with core.database.session() as session:
        row = await session.get(Ritual, loud.id)
        assert row is not None
        row.schedule = skip(schedule, first, now=clock.now()).to_json()
        row.updated_at = clock.now()
        session.add(row)
    clock.advance(hours=30)
    await core.deliveries.run_due()
    assert "poll" not in platform.kinds() and await pulses(core.database) == []
    # Turned off after planning: skipped at send time. On again: the next one goes out.
    clock.advance(days=7)
    async with core.database.session() as session:
        row = await session.get(Ritual, loud.id)
        assert row is not None
        row.pulse = False
        session.add(row)
    await core.deliveries.run_due()
    assert "poll" not in platform.kinds()
    skipped = [d for d in await pulse_rows(core.database) if d.sent_at is not None]
    assert {d.outcome for d in skipped} == {"skipped"}
    assert "no longer asks for a pulse" in " ".join(d.detail for d in skipped)


async def _meetings(database: Database, ritual: Ritual) -> list[Occurrence]:
    async with database.session() as session:
        rows = await session.exec(select(Occurrence).where(Occurrence.ritual_id == ritual.id))
        return list(rows.all())


async def test_two_runners_racing_post_each_pulse_once(core: Core, clock: FixedClock) -> None:
    shared = RecordingPlatform()
    core.outbox.register(shared)
    community = await a_community(core.database, now=clock.now())
    for number in range(1, 5):
        await a_ritual(
            core.database, community, now=clock.now(), number=number, reminders=[], duration=90
        )
    others = [Database(core.database.url, schema=core.database.schema) for _ in range(2)]
    runners = [core.deliveries]
    for database in others:
        outbox = Outbox(database, clock)
        outbox.register(shared)
        runner = DeliveryRunner(database, clock, outbox, public_url="http://x")
        runner.on_pulse(Pulses(PollService(database, clock, VoterKeys(database, "s3cret"))))
        runners.append(runner)
    try:
        await asyncio.gather(*(r.plan_ahead() for r in runners))
        clock.advance(hours=30, minutes=30)
        await asyncio.gather(*(r.run_due() for r in runners))
        await asyncio.gather(*(r.run_due() for r in runners))
    finally:
        for database in others:
            await database.close()
    polls = [reply for reply in shared.sent if reply.kind == "poll"]
    assert len(polls) == 4 and len({reply.key for reply in polls}) == 4
    made = await pulses(core.database)
    assert len(made) == 4 and sorted(p.number for p in made) == [1, 2, 3, 4]
    assert all(p.message_id for p in made)


async def test_a_crash_after_the_post_finds_it_and_keeps_one_pulse(
    core: Core, clock: FixedClock
) -> None:
    finder = RecordingPlatform(finds=True)
    core.outbox.register(finder)
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[])
    await core.deliveries.plan_ahead()
    clock.advance(hours=30)
    finder.break_next = 2  # the start post's answer and the pulse's are lost
    await core.deliveries.run_due()
    clock.advance(minutes=5)
    await core.deliveries.run_due()
    assert [r.kind for r in finder.sent].count("poll") == 1
    [poll] = await pulses(core.database)
    assert poll.message_id is not None  # found again, and the poll knows its post
    [row, *_] = sorted(await pulse_rows(core.database), key=lambda d: d.due_at)
    assert row.outcome == "sent"


# Through each adapter --------------------------------------------------------------------------


async def test_the_console_shows_the_pulse_and_takes_votes(
    core: Core, clock: FixedClock, bot: ConsoleBot
) -> None:
    await bot.say('setup "Data Science"', as_="alice", channel="ds")
    await bot.say("join", as_="bob", channel="ds")
    await bot.say(
        'ritual add deep-dive "Deep dive" every week on tue at 15:00 Europe/Berlin remind=off',
        as_="alice",
        channel="ds",
    )
    await core.deliveries.plan_ahead()
    clock.advance(hours=30)
    start = len(bot.lines)
    await core.deliveries.run_due()
    shown = "\n".join(bot.lines[start:])
    assert "How was Deep dive?" in shown and "not useful" in shown
    answer = await bot.say("vote #1 great", as_="bob", channel="ds")
    assert "great" in answer
    assert await counts(core) == ((1, 0, 0, 0), 1)


async def test_slack_gets_the_pulse_and_a_button_vote_is_anonymous(
    core: Core, clock: FixedClock, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "DS"')
    await slack.command("join", **BOB)
    await slack.command(
        'ritual add deep-dive "Deep dive" every week on tue at 15:00 Europe/Berlin remind=off'
    )
    await core.deliveries.plan_ahead()
    clock.advance(hours=30)
    await core.deliveries.run_due()
    [pulse] = [
        p for p in api.calls_to("chat.postMessage") if "How was Deep dive?" in json.dumps(p.args)
    ]
    assert pulse.args["channel"] == "C0001"
    assert pulse.args["metadata"]["event_type"] == "copbot_delivery"
    assert api.calls_to("reactions.add") == []  # anonymous: no reactions to vote with
    [poll] = await pulses(core.database)
    buttons = pulse.args["blocks"][-1]["elements"]
    assert [b["value"] for b in buttons] == [f"{poll.id}:{n}" for n in range(1, 5)]
    assert poll.message_id is not None
    await slack.interact(button_press(BOB, poll.message_id, "vote:1", f"{poll.id}:2", api))
    await slack.interact(button_press(CAROL, poll.message_id, "vote", f"{poll.id}:1", api))
    await api.wait_for("response_url", 2)
    assert await counts(core) == ((1, 1, 0, 0), 2)
    holding = await cells_holding(core, CAROL["user_id"])
    assert not {table for table, _ in holding} & {"poll_votes", "polls", "activity"}


async def test_teams_gets_the_pulse_card_and_counts_presses(
    core: Core,
    clock: FixedClock,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await teams.say(SETUP)
    await teams.say("join", user=TEAMS_BOB)
    await teams.say(
        'ritual add deep-dive "Deep dive" every week on tue at 15:00 Europe/Berlin remind=off'
    )
    await core.deliveries.plan_ahead()
    before = len(connector.sent_activities())
    clock.advance(hours=30)
    await core.deliveries.run_due()
    cards = [
        a for a in connector.sent_activities()[before:] if "How was Deep dive?" in card_text(a)
    ]
    [card] = cards
    [poll] = await pulses(core.database)
    assert [a["data"] for a in card_actions(card)] == [
        {"action": "vote", "value": f"{poll.id}:{n}"} for n in range(1, 5)
    ]
    assert poll.message_id is not None
    await teams.post(pressed_in_channel(teams, TEAMS_BOB, poll.message_id, "vote", f"{poll.id}:1"))
    await teams.post(
        pressed_in_channel(teams, TEAMS_CAROL, poll.message_id, "vote", f"{poll.id}:4")
    )
    assert await counts(core) == ((1, 0, 0, 1), 2)


async def test_a_ritual_without_a_pulse_says_so_where_its_settings_are_shown(
    bot: ConsoleBot,
) -> None:
    """`ritual edit #1 pulse=no` answered with the settings as before, pulse not among them."""
    await bot.say('setup "Data Science"', as_="alice", channel="ds")
    await bot.say('ritual add deep-dive "Deep dive"', as_="alice", channel="ds")
    assert "pulse" not in await bot.say("ritual show #1", as_="alice", channel="ds")
    edited = await bot.say("ritual edit #1 pulse=no", as_="alice", channel="ds")
    assert "rotating facilitator, no pulse afterwards" in edited
    assert "no pulse afterwards" in await bot.say("ritual list", as_="alice", channel="ds")
    assert "no pulse" not in await bot.say("ritual edit #1 pulse=yes", as_="alice", channel="ds")
