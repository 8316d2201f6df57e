"""Facilitator rotation and time away, by command at the console and through the services
over a simulated year, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select, update

from bot.app import Core
from bot.clock import FixedClock
from bot.events import UserRef
from bot.services.rotation import plan_facilitators
from bot.services.upcoming import materialise
from storage.models import Absence, Community, Occurrence, Ritual
from tests.console_bot import ConsoleBot
from tests.ritual_state import community, occurrences_of, origin, replies

# A weekly ritual from the test clock (Monday 2026-03-02): Wednesdays at 11:00 Berlin.
WEEKLY = "ritual add problem-solving"
SLOT = re.compile(r"^  \w{3} (\d{4}-\d{2}-\d{2}) \d{2}:\d{2} \w+: (.+)$", re.MULTILINE)


def plan(text: str) -> list[tuple[str, str]]:
    """(date, facilitator) for each meeting a `rotation #N` answer lists."""
    return SLOT.findall(text)


def who(text: str) -> list[str]:
    return [facilitator for _, facilitator in plan(text)]


async def test_the_core_team_rotates_and_newcomers_wait_until_they_volunteer(
    bot: ConsoleBot,
) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    shown = await bot.say("rotation #1", as_="dan")
    assert "Facilitators of #1 “Problem-solving circle”:" in shown
    assert plan(shown)[:2] == [("2026-03-04", "@alice"), ("2026-03-11", "@bob")]
    assert who(shown) == ["@alice", "@bob"] * 3  # six by default; carol and dan never asked
    thanks = await bot.say("rotation #1 volunteer", as_="carol")
    assert "Thank you! You're in the facilitator rotation of #1" in thanks
    assert who(thanks) == ["@alice", "@bob", "@carol"] * 2
    assert who(await bot.say("rotation #1 9", as_="dan")) == ["@alice", "@bob", "@carol"] * 3
    out = await bot.say("rotation #1 optout", as_="bob")
    assert "You're out of the facilitator rotation of #1" in out
    assert "@bob" not in who(out)
    back = await bot.say("rotation #1 optin", as_="bob")
    assert "You're back in the facilitator rotation of #1" in back
    assert who(back)[:3] == ["@alice", "@bob", "@carol"]  # nobody has facilitated: join order


async def test_a_skipper_is_replaced_and_keeps_their_place(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("rotation #1 volunteer", as_="carol")
    skipped = await bot.say("rotation #1 skip", as_="alice")
    assert "You're off the Wed 2026-03-04 11:00 CET meeting; @bob takes it." in skipped
    assert "You keep your place for the next one." in skipped
    # Bob is told, with buttons that run the rotation commands for that meeting.
    assert "[to @bob (direct message)] You're facilitating #1 “Problem-solving circle” of " in (
        skipped
    )
    assert "@alice can't make it. Can you?" in skipped
    assert who(skipped) == ["@bob", "@alice", "@carol", "@bob", "@alice", "@carol"]
    assert "not facilitating the meeting on 2026-03-04; it is bob's turn" in await bot.say(
        "rotation #1 skip 2026-03-04", as_="alice"
    )


async def test_a_dm_button_runs_the_command_for_the_right_community(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    # The notice's buttons run `rotation #1 confirm <day>` / `... skip <day>` in bob's DMs.
    confirmed = await bot.say("rotation #1 confirm 2026-03-11", as_="bob", direct=True)
    assert "Thank you: you facilitate the Wed 2026-03-11 11:00 CET meeting of #1" in confirmed
    assert "2026-03-11 11:00 CET: @bob (confirmed)" in confirmed
    skipped = await bot.say("rotation #1 skip 2026-03-11", as_="bob", direct=True)
    assert "You're off the Wed 2026-03-11 11:00 CET meeting; @alice takes it." in skipped
    # A second community with its own #1 makes a bare DM command ambiguous...
    await bot.say('setup "Platform"', as_="erin", channel="platform")
    await bot.say("join", as_="bob", channel="platform")
    await bot.say("role @bob core", as_="erin", channel="platform")
    await bot.say(WEEKLY, as_="erin", channel="platform")
    assert "Several of your communities have a ritual #1" in await bot.say(
        "rotation #1", as_="bob", direct=True
    )
    # ...but not when only one of them has bob facilitating on that day.
    platform = await bot.say("rotation #1", as_="bob", channel="platform")
    bob_day = next(day for day, person in plan(platform) if person == "@bob")
    answer = await bot.say(f"rotation #1 confirm {bob_day}", as_="bob", direct=True)
    assert f"{bob_day} 11:00 UTC: @bob (confirmed)" in answer  # Platform's zone
    assert "Run `rotation` in a community's channel." in await bot.say(
        "rotation #1", as_="nobody", direct=True
    )


async def test_swap_assign_and_their_notices(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("rotation #1 volunteer", as_="carol")
    swapped = await bot.say("rotation #1 swap @carol", as_="alice")
    assert "@carol facilitates the Wed 2026-03-04 11:00 CET meeting now" in swapped
    assert plan(swapped)[:3] == [
        ("2026-03-04", "@carol"),
        ("2026-03-11", "@bob"),
        ("2026-03-18", "@alice"),
    ]
    assert "[to @carol (direct message)] You're facilitating #1" in swapped
    assert "@alice swapped with you" in swapped
    assigned = await bot.say("rotation #1 assign @dan 2026-03-25", as_="bob")
    assert "@dan facilitates the Wed 2026-03-25 11:00 CET meeting of #1" in assigned
    assert "[to @dan (direct message)] You're facilitating #1" in assigned
    assert "@bob chose you. Can you?" in assigned
    assert ("2026-03-25", "@dan") in plan(assigned)
    # Explicit choices hold when the pool changes around them, and when the meeting moves.
    await bot.say("rotation #1 optout", as_="alice")
    held = await bot.say("rotation #1", as_="dan")
    assert plan(held)[0] == ("2026-03-04", "@carol") and ("2026-03-25", "@dan") in plan(held)
    await bot.say("ritual move #1 2026-03-25 to 2026-07-02 at 10:00", as_="alice")
    moved = await bot.say("rotation #1 20", as_="dan")
    assert ("2026-07-02", "@dan") in plan(moved) and ("2026-03-25", "@dan") not in plan(moved)


async def test_a_first_timer_gets_an_experienced_co_facilitator(
    bot: ConsoleBot, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("rotation #1 2", as_="alice")
    clock.advance(days=15)  # alice (4 March) and bob (11 March) have facilitated
    await bot.say("rotation #1 volunteer", as_="carol")
    asked = await bot.say("rotation #1 cofacilitator", as_="carol")
    assert re.search(r"@(alice|bob) will co-facilitate your first meeting, Wed 2026-03-\d\d", asked)
    assert "[to @alice (direct message)] You'll co-facilitate #1" in asked
    assert "beside @carol, who facilitates for the first time" in asked
    assert "@carol with @alice" in asked  # the plan shows the pair
    refused = await bot.say("rotation #1 cofacilitator", as_="bob")
    assert "A co-facilitator is for a first turn, and you have facilitated #1 1 times" in refused


async def test_history_is_the_fairness_ledger(bot: ConsoleBot, clock: FixedClock) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("rotation #1 volunteer", as_="carol")
    await bot.say("rotation #1", as_="alice")
    clock.advance(weeks=4)
    ledger = await bot.say("rotation #1 history", as_="dan")
    assert "Who facilitated #1 “Problem-solving circle”, and how often:" in ledger
    assert "@alice: 2 times, last on 2026-03-25" in ledger
    assert "@bob: 1 time, last on 2026-03-11" in ledger
    assert "@carol: 1 time, last on 2026-03-18" in ledger
    assert "Wed 2026-03-25 11:00 CET: @alice" in ledger
    assert "@dan" not in ledger  # never in the pool, never facilitated


async def test_away_people_are_passed_over_and_keep_their_place(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("rotation #1 volunteer", as_="carol")
    away = await bot.say("away 2026-03-01 2026-03-20", as_="bob")
    assert "You're away from 2026-03-01 to 2026-03-20: no facilitating or pairing then." in away
    shown = await bot.say("rotation #1", as_="alice")
    assert who(shown)[:4] == ["@alice", "@carol", "@alice", "@bob"]  # bob first when back
    listing = await bot.say("away", as_="dan")
    assert "Away from Data Science:" in listing and "@bob: 2026-03-01 to 2026-03-20" in listing
    back = await bot.say("away off", as_="bob")
    assert "Welcome back! 1 time away ended." in back
    assert who(await bot.say("rotation #1", as_="alice"))[:3] == ["@alice", "@bob", "@carol"]
    assert "Nobody in Data Science is away." in await bot.say("away", as_="dan")
    set_by_steward = await bot.say("away @carol 2026-04-01 2026-04-30", as_="alice")
    assert "@carol is away from 2026-04-01 to 2026-04-30" in set_by_steward
    assert "@carol is back." in await bot.say("away @carol off", as_="alice")


async def test_rotation_and_away_errors(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("ritual add office-hours", as_="alice")
    cases = [
        ("carol", "rotation #2", "has no facilitator rotation"),
        ("carol", "rotation #1 skip", "You have no turn coming up at #1"),
        ("carol", "rotation #1 confirm 2026-03-04", "You're not facilitating the meeting on"),
        ("alice", "rotation #1 swap", "Mention one person."),
        ("alice", "rotation #1 swap @alice", "Mention someone other than yourself"),
        ("alice", "rotation #1 swap @zed", "isn't a member of “Data Science” yet"),
        ("alice", "rotation #1 assign @zed", "isn't a member of “Data Science” yet"),
        ("alice", "rotation #1 assign @dan 2026-03-05", "There is no meeting on 2026-03-05"),
        ("alice", "rotation #1 skip 2026-03-04 now", "Give at most one date"),
        ("alice", "rotation #1 0", "`0` is not a number from 1 to 52."),
        ("alice", "rotation #1 volunteer now", "Name just the ritual, by its number."),
        ("alice", "rotation #7", "There is no ritual #7 here."),
        ("alice", "rotation", "Say which ritual by its number"),
        ("zed", "away 2026-04-01 2026-04-02", "Join “Data Science” first"),
        ("carol", "away @dan 2026-04-01 2026-04-02", "Only stewards can say when someone else"),
        ("carol", "away off", "carol has no time away coming up."),
        ("carol", "away next week", "I could not read the date `next`"),
        ("carol", "away 2026-04-01 2026-04-02 2026-04-03", "as time away: give the first"),
        ("carol", "away 2026-02-01 2026-02-02", "That time away ended on 2026-02-02"),
        ("alice", "away @bob @carol 2026-04-01", "Mention one person."),
    ]
    for user, command, says in cases:
        assert says in await bot.say(command, as_=user), command
    async with bot.core.database.session() as session:
        assert (await session.exec(select(Absence))).all() == []


async def test_plan_facilitators_fills_a_window_like_the_whole_plan(
    core: Core, bot: ConsoleBot, clock: FixedClock
) -> None:
    """The delivery side's sweep calls `plan_facilitators` on the window it materialised;
    the facilitators are those of the plan from today, assigned ones kept."""
    await community(bot)
    await bot.say(WEEKLY, as_="alice")
    await bot.say("rotation #1 volunteer", as_="carol")
    await bot.say("rotation #1 assign @dan 2026-03-25", as_="alice")
    whole = [(r.starts_at, r.facilitator_id) for r in (await occurrences_of(core))[:6]]
    async with core.database.session() as session:
        await session.exec(
            update(Occurrence)
            .where(col(Occurrence.facilitator_assigned).is_(False))
            .values(facilitator_id=None)
        )
    async with core.database.session() as session:
        ritual = (await session.exec(select(Ritual))).one()
        now = clock.now()
        window = [
            r
            for r in await materialise(session, ritual, now=now)
            if now + timedelta(days=14) <= r.starts_at < now + timedelta(days=36)
        ]
        await plan_facilitators(session, ritual, window, today=now.date())
    again = [(r.starts_at, r.facilitator_id) for r in (await occurrences_of(core))[:6]]
    # Today's plan up to the window's end is written; the meeting after it is left alone.
    assert again[:5] == whole[:5] and again[5][1] is None
    assert dict(again)[datetime(2026, 3, 25, 10, tzinfo=UTC)] == "dan"


async def test_a_year_of_rotation_is_fair(core: Core, bot: ConsoleBot, clock: FixedClock) -> None:
    """Fifty-two weekly meetings through the services, with volunteers joining, people away
    and people skipping: everyone in the pool facilitates about as often as everyone else,
    nobody facilitates while away, a skipper runs the next meeting, a newcomer never does."""
    await community(bot)
    for name in ("erin", "frank", "gina"):
        await bot.say("join", as_=name)
    [added] = await replies(core, WEEKLY)
    number = added.data["ritual"]["number"]
    async with core.database.session() as session:
        place = (await session.exec(select(Community))).one()
    for name in ("carol", "erin", "frank"):
        await core.rotation.volunteer(place, origin(name), number)
    await core.absences.set_away(place, origin("erin"), UserRef(id="erin"), "2026-06-01 2026-06-30")
    rng = random.Random(7)
    ran: list[tuple[date, str]] = []
    skipped_by: dict[int, str] = {}
    for week in range(52):
        view = await core.rotation.show(place, number, 1)
        [meeting] = view.meetings
        facilitator = meeting.facilitator_id
        assert facilitator is not None
        if rng.random() < 0.15:
            changed = await core.rotation.skip(place, origin(facilitator), number, None)
            skipped_by[week] = facilitator
            facilitator = changed.meetings[0].facilitator_id
            assert facilitator is not None and facilitator != skipped_by[week]
        ran.append((meeting.starts_at.date(), facilitator))
        clock.when = meeting.starts_at + timedelta(hours=2)
    counts = Counter(person for _, person in ran)
    assert set(counts) == {"alice", "bob", "carol", "erin", "frank"}  # not dan, gina
    assert max(counts.values()) - min(counts.values()) <= 2
    assert not [d for d, p in ran if p == "erin" and date(2026, 6, 1) <= d <= date(2026, 6, 30)]

    def last_turn(person: str, before: int) -> int:
        return max((i for i, (_, p) in enumerate(ran[:before]) if p == person), default=-1)

    for week, skipper in skipped_by.items():
        if week + 1 == len(ran) or week + 1 in skipped_by:
            continue
        day, after = ran[week + 1]
        skipper_away = skipper == "erin" and date(2026, 6, 1) <= day <= date(2026, 6, 30)
        # The skipper kept their place: only someone longer without a turn goes first.
        assert (
            after == skipper or skipper_away or last_turn(after, week) < last_turn(skipper, week)
        ), (week, skipper, ran[week + 1])
    async with core.database.session() as session:
        rows = (
            await session.exec(
                select(Occurrence)
                .where(col(Occurrence.starts_at) < clock.now())
                .order_by(col(Occurrence.starts_at))
            )
        ).all()
    assert [(r.starts_at.date(), r.facilitator_id) for r in rows] == ran  # the ledger agrees
