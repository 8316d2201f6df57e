"""Polls on the console and at the core's seam: posting, votes by command, button and reaction
(duplicated, out of order, all at once), live counts, closing once, anonymity."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from adapters.console import translate
from adapters.console.adapter import ConsolePlatform
from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.commands.poll_posts import poll_message
from bot.events import ButtonPressed, Event, ReactionAdded, ReactionChanged, ReactionRemoved
from bot.replies import MessageRef, Visibility
from bot.services.anonymity import VoterKeys
from bot.settings import Settings
from copbot.app import running
from messages.rendering import Renderer
from storage.database import Database
from storage.models import Activity, InstallationSecret, PollVote
from tests.console_bot import ConsoleBot
from tests.feedback_state import cells_holding, counts, latest_poll, poll_ref

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reaction(
    user: str,
    ref: MessageRef,
    emoji: str,
    *,
    added: bool = True,
    when: datetime | None = None,
    event_id: str | None = None,
) -> ReactionChanged:
    made = ReactionAdded if added else ReactionRemoved
    return made(
        origin=translate.origin(user, "ds"),
        event_id=event_id,
        message=ref,
        reaction=emoji,
        at=when,
    )


def press(user: str, poll_id: int | None, option: int) -> ButtonPressed:
    return ButtonPressed(
        origin=translate.origin(user, "ds"), action="vote", value=f"{poll_id}:{option}"
    )


async def community(bot: ConsoleBot) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    await bot.say("join", as_="bob")


# Posting ---------------------------------------------------------------------------------


async def test_a_poll_goes_into_the_channel_with_its_number(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    posted = await bot.say('poll "Lunch?" "Pizza" "Sushi" "Tacos" closes=1h', as_="bob")
    assert posted.startswith("[to #ds] Poll #1: Lunch?\n1. Pizza")
    assert "0 people voted so far." in posted and "Closes 2026-03-02 10:00 UTC." in posted
    poll = await latest_poll(core)
    ref = await poll_ref(core)
    assert (ref.platform, ref.workspace, ref.channel) == ("console", "local", "ds")
    assert poll.closes_at == at(3600) and poll.created_by == "bob"
    assert (await bot.say('poll "Again?" "Yes" "No"', as_="alice")).startswith("[to #ds] Poll #2")

    message = poll_message(await core.feedback.polls.view(poll))
    assert message.visibility is Visibility.CHANNEL
    assert [(b.action, b.value) for b in message.buttons] == [
        ("vote", f"{poll.id}:1"),
        ("vote", f"{poll.id}:2"),
        ("vote", f"{poll.id}:3"),
    ]
    assert message.reactions == ("one", "two", "three")


async def test_an_anonymous_poll_gets_no_reactions_to_vote_with(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    posted = await bot.say('poll "Mood?" "Good" "Meh" anonymous=yes', as_="bob")
    assert "Anonymous: nobody, stewards included, can see who voted what." in posted
    assert "reactions are not counted" in posted
    message = poll_message(await core.feedback.polls.view(await latest_poll(core)))
    assert message.reactions == () and len(message.buttons) == 2


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        ("poll", "A poll needs a question and at least two options"),
        ('poll "Q?" "Only one"', "A poll needs 2 to 10 options, each in quotes; that makes 1."),
        (
            "poll Q " + " ".join(f'"o{n}"' for n in range(11)),
            "A poll needs 2 to 10 options, each in quotes; that makes 11.",
        ),
        ('poll "Q?" "Same" "same"', "The option “same” is there twice."),
        ('poll "Q?" "A" "B" closes=soon', "I could not read `soon` as how long the poll"),
        ('poll "Q?" "A" "B" closes=200d', "A poll stays open between a minute and 90 days"),
        ('poll "Q?" "A" "B" multi=maybe', "`multi=` takes yes or no, not `maybe`."),
        ('poll "Q?" "A" "B" colour=red', "`poll` has no option `colour`."),
        ('poll "Q?" "A" @carol', "Put the question and each option in quotes"),
        ("poll results #9", "There is no poll #9 in this community."),
        ("poll close first", "Say which poll by its number, for example `poll close #1`."),
        ("vote", "Say which poll and which option, for example `vote #1 2`."),
    ],
)
async def test_what_a_poll_refuses(bot: ConsoleBot, line: str, sentence: str) -> None:
    await community(bot)
    assert sentence in await bot.say(line, as_="bob")


async def test_only_members_start_polls(bot: ConsoleBot) -> None:
    await community(bot)
    refused = await bot.say('poll "Q?" "A" "B"', as_="carol")
    assert refused.startswith("Join “DS” first to use `poll`: `join` in its channel.")
    assert "Usage: join" in refused


# Votes by command and button -------------------------------------------------------------


async def test_one_vote_each_a_new_one_moves_it_and_again_takes_it_back(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi" "Tacos"', as_="bob")
    said = await bot.say("vote #1 2", as_="bob")
    assert said == "Your vote in poll #1 (Lunch?): Sushi. Choose it again to take your vote back."
    assert "Sushi" in await bot.say("vote #1 sushi", as_="carol")  # anyone in the channel
    assert "Tacos" in await bot.say("vote #1 3", as_="bob")
    assert await counts(core) == ((0, 1, 1), 2)
    assert "You took back your vote in poll #1" in await bot.say("vote 1 3", as_="bob")
    assert await counts(core) == ((0, 1, 0), 1)
    assert "has options 1 to 3; `7` is not one of them" in await bot.say("vote #1 7", as_="bob")
    assert "`curry` is not one of them" in await bot.say("vote #1 curry", as_="bob")
    results = await bot.say("poll results #1", as_="dan")
    assert "2. Sushi  ██████████ 1 (100%)" in results and "1 person voted so far." in results


async def test_with_multi_people_choose_several(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say('poll "Topics?" "SQL" "dbt" "ML" multi=yes', as_="bob")
    await bot.say("vote #1 1", as_="bob")
    assert "SQL and ML" in await bot.say("vote #1 3", as_="bob")
    await bot.say("vote #1 3", as_="carol")
    assert await counts(core) == ((1, 0, 2), 2)
    assert "Your vote in poll #1 (Topics?): ML." in await bot.say("vote #1 1", as_="bob")
    results = await bot.say("poll results #1", as_="bob")
    assert "3. ML  ██████████ 2 (100%)" in results


async def test_buttons_vote_like_the_command(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi"', as_="bob")
    poll = await latest_poll(core)
    [confirmation] = await core.router.handle(press("carol", poll.id, 1))
    assert confirmation.kind == "vote_recorded" and confirmation.visibility is Visibility.USER
    assert confirmation.data["choices"] == ["Pizza"]
    await core.router.handle(press("dan", poll.id, 2))
    await core.router.handle(press("carol", poll.id, 2))  # moves
    assert await counts(core) == ((0, 2), 2)
    # A value that names no poll of this workspace, or no option, does nothing.
    elsewhere = dataclasses.replace(translate.origin("eve", "ds"), workspace="other")
    assert (
        await core.router.handle(dataclasses.replace(press("eve", poll.id, 1), origin=elsewhere))
        == []
    )
    assert await core.router.handle(press("eve", 999, 1)) == []
    assert await core.router.handle(press("eve", poll.id, 0))  # an error reply, no vote
    assert await counts(core) == ((0, 2), 2)


# Votes by reaction -----------------------------------------------------------------------


async def test_reaction_votes_survive_duplicates_and_disorder(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi" "Tacos"', as_="bob")
    ref = await poll_ref(core)
    handle = core.router.handle

    assert await handle(reaction("bob", ref, "two", when=at(1), event_id="E1")) == []
    await handle(reaction("bob", ref, "two", when=at(1), event_id="E1"))  # redelivered
    await handle(reaction("bob", ref, "two", when=at(1), event_id="E1-copy"))  # a copy
    assert await counts(core) == ((0, 1, 0), 1)

    # Bob adds a second option: his vote moves; he takes it back: it returns to the first,
    # whose reaction is still there.
    await handle(reaction("bob", ref, "three", when=at(2)))
    assert await counts(core) == ((0, 0, 1), 1)
    await handle(reaction("bob", ref, "three", added=False, when=at(3)))
    assert await counts(core) == ((0, 1, 0), 1)

    # Carol's removal arrives before the add it takes back: the late add changes nothing.
    await handle(reaction("carol", ref, "one", added=False, when=at(5)))
    await handle(reaction("carol", ref, "one", when=at(4)))
    assert await counts(core) == ((0, 1, 0), 1)
    await handle(reaction("carol", ref, "one", when=at(6)))
    assert await counts(core) == ((1, 1, 0), 2)

    # At the same instant, taking back wins, whichever arrives first.
    await handle(reaction("dan", ref, "three", added=False, when=at(7)))
    await handle(reaction("dan", ref, "three", when=at(7)))
    await handle(reaction("erin", ref, "three", when=at(7)))
    await handle(reaction("erin", ref, "three", added=False, when=at(7)))
    assert await counts(core) == ((1, 1, 0), 2)

    # Emoji that are no option, and options the poll does not have, are not votes.
    await handle(reaction("dan", ref, "like", when=at(8)))
    await handle(reaction("dan", ref, "keycap_ten", when=at(8)))
    assert await counts(core) == ((1, 1, 0), 2)


async def test_a_reaction_on_a_message_that_is_no_poll_is_ignored(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi"', as_="bob")
    ref = await poll_ref(core)
    other = MessageRef(platform="console", workspace="local", channel="ds", message_id="x-9")
    assert await core.router.handle(reaction("bob", other, "one", when=at(1))) == []
    assert await core.router.handle(reaction("bob", ref, "one", when=at(1))) == []
    async with core.database.session() as session:
        votes = (await session.exec(select(PollVote))).all()
    assert [(v.voter, v.option, v.chosen) for v in votes] == [("bob", 1, True)]


async def test_many_votes_at_the_same_moment_are_counted_exactly(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi" "Tacos"', as_="bob")
    poll = await latest_poll(core)
    ref = await poll_ref(core)
    events: list[Event] = []
    expected = [0, 0, 0]
    for n in range(60):
        user, emoji = f"r{n}", ("one", "two", "three")[n % 3]
        events += [
            reaction(user, ref, emoji, when=at(n), event_id=f"add-{n}"),
            reaction(user, ref, emoji, when=at(n), event_id=f"add-{n}"),  # redelivered
            reaction(user, ref, emoji, when=at(n), event_id=f"add-{n}-again"),
        ]
        if n % 5 == 0:  # taken back later (sometimes arriving first)
            events.append(reaction(user, ref, emoji, added=False, when=at(n + 100)))
        else:
            expected[n % 3] += 1
    for n in range(30):
        events.append(press(f"b{n}", poll.id, 1 + n % 3))
        expected[n % 3] += 1
    random.Random(7).shuffle(events)
    await asyncio.gather(*(core.router.handle(event) for event in events))
    assert await counts(core) == (tuple(expected), sum(expected))


# Live counts -----------------------------------------------------------------------------


async def test_the_poll_is_edited_in_place_at_most_once_every_few_seconds(
    core: Core, bot: ConsoleBot, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi"', as_="bob")
    live = core.feedback.live_counts
    assert await live.flush() == 0  # nothing changed yet
    await bot.say("vote #1 1", as_="bob")
    assert await live.flush() == 1
    assert bot.lines[-1].startswith("[edited in #ds] Poll #1: Lunch?")
    assert "1 person voted so far." in bot.lines[-1]
    await bot.say("vote #1 2", as_="carol")
    await bot.say("vote #1 2", as_="dan")
    clock.advance(seconds=2)
    assert await live.flush() == 0  # edited 2 s ago: wait
    clock.advance(seconds=1)
    assert await live.flush() == 1
    assert "3 people voted so far." in bot.lines[-1]
    clock.advance(seconds=10)
    assert await live.flush() == 0  # nothing new
    await bot.say("vote #1 1", as_="erin")
    assert await live.flush() == 1  # quiet for long enough: shown at once


async def test_a_hidden_poll_shows_results_only_when_it_closes(
    core: Core, bot: ConsoleBot, clock: FixedClock
) -> None:
    await community(bot)
    posted = await bot.say('poll "Next?" "SQL" "ML" hidden=yes', as_="bob")
    assert "Results are shown when the poll closes." in posted and "%" not in posted
    await bot.say("vote #1 2", as_="bob")
    await bot.say("vote #1 2", as_="carol")
    assert await core.feedback.live_counts.flush() == 0
    results = await bot.say("poll results #1", as_="alice")
    assert "2 people voted so far. Results are shown when the poll closes." in results
    assert "%" not in results
    closed = await bot.say("poll close #1", as_="bob")
    assert "[edited in #ds] Poll #1 (closed): Next?" in closed
    assert "2. ML  ██████████ 2 (100%)" in closed and "[#ds] Poll #1 is closed: Next?" in closed


# Closing ---------------------------------------------------------------------------------


async def test_the_author_or_a_steward_closes_a_poll_once(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say("join", as_="carol")
    await bot.say('poll "Lunch?" "Pizza" "Sushi"', as_="bob")
    await bot.say("vote #1 1", as_="carol")
    refused = await bot.say("poll close #1", as_="carol")
    assert refused == "Only the person who started poll #1, or a steward, can close it."
    closed = await bot.say("poll close #1", as_="alice")  # a steward
    assert "[#ds] Poll #1 is closed: Lunch?\n1. Pizza  ██████████ 1 (100%)" in closed
    assert "1 person voted." in closed
    assert await bot.say("poll close #1", as_="bob") == "Poll #1 is closed."
    assert await bot.say("vote #1 2", as_="dan") == "Poll #1 is closed."
    await core.router.handle(reaction("dan", await poll_ref(core), "two", when=at(9)))
    assert await counts(core) == ((1, 0), 1)


async def test_a_poll_closes_at_its_time_exactly_once_across_processes(
    core: Core,
    bot: ConsoleBot,
    clock: FixedClock,
    settings: Settings,
    database: Database,
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi" closes=1h', as_="bob")
    await bot.say("vote #1 2", as_="bob")
    other_lines: list[str] = []
    other = build_core(settings, database=database, clock=clock)  # a second process
    other.outbox.register(ConsolePlatform(other_lines.append, Renderer("text")))
    clock.advance(minutes=59)
    assert await core.feedback.closing.sweep() == 0
    clock.advance(minutes=1)
    closed = await asyncio.gather(
        core.feedback.closing.sweep(),
        other.feedback.closing.sweep(),
        core.feedback.closing.sweep(),
    )
    assert sorted(closed) == [0, 0, 1]
    announcements = [
        line for line in bot.lines + other_lines if "Poll #1 is closed: Lunch?" in line
    ]
    assert len(announcements) == 1 and announcements[0].startswith("[to #ds]")
    assert (await latest_poll(core)).closed_at == at(3600)
    assert await core.feedback.closing.sweep() == 0


# Anonymity -------------------------------------------------------------------------------

VOTERS = ("qvera", "qwalt", "qxena", "qyuri")


async def test_an_anonymous_poll_keeps_no_voter_id_anywhere(
    core: Core, bot: ConsoleBot, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say('poll "Is the cadence right?" "Yes" "No" anonymous=yes', as_="bob")
    poll = await latest_poll(core)
    clock.advance(minutes=7)
    said = await bot.say("vote #1 1", as_="qvera")
    assert "Your vote is anonymous: only you see this." in said
    [answer] = await core.router.handle(press("qwalt", poll.id, 2))
    assert answer.visibility is Visibility.USER and answer.data["anonymous"] is True
    await core.router.handle(press("qxena", poll.id, 1))
    await core.router.handle(press("qxena", poll.id, 2))  # moved
    # A reaction would show who reacted: it is not a vote on an anonymous poll.
    assert await core.router.handle(reaction("qyuri", await poll_ref(core), "one")) == []
    assert await counts(core) == ((1, 2), 3)

    assert await cells_holding(core, *VOTERS) == []
    async with core.database.session() as session:
        votes = (await session.exec(select(PollVote))).all()
        logged = (
            await session.exec(select(Activity).where(col(Activity.action) == "poll.voted"))
        ).all()
    assert {len(v.voter) for v in votes} == {66} and all(v.voter.startswith("h:") for v in votes)
    assert len({v.voter for v in votes}) == 3
    # No time of day either, only the order of each voter's changes.
    assert {v.at - poll.created_at for v in votes} <= {timedelta(0), timedelta(microseconds=1)}
    assert [(a.user_id, a.detail) for a in logged] == [("", {"poll": 1})] * 4


async def test_voter_keys_are_made_once_or_come_from_the_settings(database: Database) -> None:
    made = await asyncio.gather(*(VoterKeys(database).voter(1, "bob") for _ in range(4)))
    assert len(set(made)) == 1
    async with database.session() as session:
        assert len((await session.exec(select(InstallationSecret))).all()) == 1
    assert await VoterKeys(database).voter(2, "bob") != made[0]  # another poll, another key
    configured = VoterKeys(database, "from-the-environment")
    assert await configured.voter(1, "bob") not in made


async def test_the_composition_root_runs_live_counts_and_closing_on_the_scheduler(
    settings: Settings, database: Database, clock: FixedClock
) -> None:
    async with running(settings, database=database, clock=clock) as copbot:
        assert {"upkeep", "poll live counts", "polls closing"} <= set(copbot.scheduler.jobs)


async def test_a_poll_closed_by_another_process_takes_no_more_reactions(
    core: Core, bot: ConsoleBot, settings: Settings, database: Database, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi"', as_="bob")
    ref = await poll_ref(core)
    await core.router.handle(reaction("bob", ref, "one", when=at(1)))  # this process knows it
    other = build_core(settings, database=database, clock=clock)
    assert await other.feedback.polls.close(await latest_poll(other))
    await core.router.handle(reaction("carol", ref, "two", when=at(2)))
    await core.router.handle(reaction("bob", ref, "one", added=False, when=at(3)))
    assert await counts(core) == ((1, 0), 1)


async def test_results_are_posted_even_when_the_poll_can_no_longer_be_edited(
    core: Core, bot: ConsoleBot, clock: FixedClock, settings: Settings, database: Database
) -> None:
    await community(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi" closes=1h', as_="bob")
    other_lines: list[str] = []
    other = build_core(settings, database=database, clock=clock)  # it never posted the poll
    other.outbox.register(ConsolePlatform(other_lines.append, Renderer("text")))
    clock.advance(hours=1)
    assert await other.feedback.closing.sweep() == 1
    assert [line for line in other_lines if "Poll #1 is closed: Lunch?" in line]
