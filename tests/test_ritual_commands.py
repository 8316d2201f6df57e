"""`ritual …` end to end at the console seam, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.events import CommandInvoked
from bot.services.rituals import attendance
from storage.models import Activity, Attendance, Occurrence, Rsvp
from tests.console_bot import ConsoleBot
from tests.ritual_state import (
    ADD_DEEP_DIVE,
    SIX_TUESDAYS,
    community,
    occurrences_of,
    origin,
    replies,
    rituals_in,
    shown_starts,
)

MEETING = re.compile(r"(\w{3} \d{4}-\d{2}-\d{2} \d{2}:\d{2} \w+)  #(\d+)")


def meetings(text: str) -> list[str]:
    """The meetings `ritual next` lists, as "<local time> #N"."""
    return [f"{when} #{number}" for when, number in MEETING.findall(text)]


async def test_done_when_the_monthly_deep_dive_meets_at_three_in_berlin(
    bot: ConsoleBot,
) -> None:
    await community(bot)
    added = await bot.say(ADD_DEEP_DIVE, as_="alice")
    assert (
        "[#ds] @alice added #1 “Monthly deep dive”: every month on the first Tuesday at 15:00 "
        "Europe/Berlin." in added
    )
    assert "1h, reminders 1d and 1h before, rotating facilitator." in added
    assert "Tue 2026-03-03 15:00 CET" in added  # its next meetings come with it
    listed = await bot.say("ritual next 6", as_="carol")
    assert meetings(listed) == [f"{when} #1" for when in SIX_TUESDAYS]
    # The reply data carries the instants in UTC: 14:00 before the March change, 13:00 after.
    starts = await shown_starts(bot.core, 6)
    assert [s.hour for s in starts] == [14, 13, 13, 13, 13, 13]
    assert all(s.utcoffset() == timedelta(0) for s in starts)


async def test_add_takes_the_template_defaults_and_the_community_zone(bot: ConsoleBot) -> None:
    await community(bot, zone="America/New_York")
    added = await bot.say("ritual add office-hours", as_="bob")
    assert "#1 “Office hours”: every week on Friday at 14:00 America/New_York" in added
    assert "1h, reminders 1d and 1h before." in added  # office hours do not rotate
    [ritual] = await rituals_in(bot.core)
    assert (ritual.template, ritual.duration_minutes, ritual.rotate) == ("office-hours", 60, False)
    assert ritual.reminders == [24 * 60, 60] and ritual.pulse and ritual.sequence == 0
    assert "Fri 2026-03-06 14:00 EST" in await bot.say("ritual next 1")


async def test_add_reads_every_option(bot: ConsoleBot) -> None:
    await community(bot)
    added = await bot.say(
        'ritual add show-and-tell "Demo day" on 2026-03-20 at 17:30 duration=1h30m '
        'remind=2h,1m rotate=no where="https://meet.example.com/x" pulse=no',
        as_="alice",
    )
    assert "#1 “Demo day”: on Friday 2026-03-20 at 17:30 Europe/Berlin." in added
    assert (
        "1h30m, reminders 2h and 1m before, no pulse afterwards, at https://meet.example.com/x."
        in added
    )
    [ritual] = await rituals_in(bot.core)
    assert ritual.reminders == [120, 1] and not ritual.rotate and not ritual.pulse
    assert ritual.location == "https://meet.example.com/x" and ritual.duration_minutes == 90
    assert await bot.say("ritual add case-study remind=off", as_="alice")
    assert (await rituals_in(bot.core))[1].reminders == []


async def test_numbers_count_up_per_community(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say('setup "Platform"', as_="zoe", channel="platform")
    await bot.say("ritual add office-hours", as_="alice", channel="ds")
    await bot.say("ritual add deep-dive", as_="alice", channel="ds")
    assert "added #1" in await bot.say("ritual add fireside-chat", as_="zoe", channel="platform")
    listing = await bot.say("ritual list", as_="dan", channel="ds")
    assert "#1 Office hours:" in listing and "#2 Monthly deep dive:" in listing
    assert "Fireside" not in listing


async def test_templates_list_all_seven(bot: ConsoleBot) -> None:
    shown = await bot.say("ritual templates", as_="anyone", direct=True)
    for key in (
        "deep-dive",
        "show-and-tell",
        "peer-mentoring",
        "case-study",
        "problem-solving",
        "office-hours",
        "fireside-chat",
    ):
        assert f"  {key}: " in shown
    assert "peer-mentoring: Peer mentoring, 30m, every 2 weeks on mon at 10:00, pairs" in shown


async def test_show_has_the_agenda_calendar_links_and_facilitators(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    shown = await bot.say("ritual show #1", as_="carol")
    assert "#1 Monthly deep dive (deep-dive)" in shown
    assert "• Questions and discussion (20 min)" in shown
    assert "Tue 2026-03-03 15:00 CET: @alice" in shown  # the core team facilitates first
    assert re.search(r"add to your calendar: http://127.0.0.1:3000/calendar/[\w-]+/\d+\.ics", shown)
    assert re.search(
        r"Every ritual in your calendar: http://127.0.0.1:3000/calendar/[\w-]+\.ics", shown
    )
    feed = await bot.say("ritual feed", as_="dan")
    assert re.search(r"http://127.0.0.1:3000/calendar/[\w-]{32}\.ics", feed)


async def test_skip_move_edit_pause_resume_show_in_ritual_next(
    bot: ConsoleBot, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    skipped = await bot.say("ritual skip #1 2026-04-07", as_="bob")
    assert "@bob called off the Tue 2026-04-07 15:00 CEST meeting of #1" in skipped
    moved = await bot.say("ritual move #1 2026-05-05 to 2026-05-06 at 16:30", as_="alice")
    assert "moved the Tue 2026-05-05 15:00 CEST meeting of #1 “Monthly deep dive” to " in moved
    assert "Wed 2026-05-06 16:30 CEST" in moved
    assert meetings(await bot.say("ritual next 4")) == [
        "Tue 2026-03-03 15:00 CET #1",
        "Wed 2026-05-06 16:30 CEST #1",
        "Tue 2026-06-02 15:00 CEST #1",
        "Tue 2026-07-07 15:00 CEST #1",
    ]
    paused = await bot.say("ritual pause #1 until 2026-07-01", as_="alice")
    assert "paused #1 “Monthly deep dive” until 2026-07-01." in paused
    assert meetings(await bot.say("ritual next 2")) == [
        "Tue 2026-07-07 15:00 CEST #1",
        "Tue 2026-08-04 15:00 CEST #1",
    ]
    assert "(paused until 2026-07-01)" in await bot.say("ritual list")
    assert "resumed #1" in await bot.say("ritual resume #1", as_="alice")
    assert meetings(await bot.say("ritual next 1")) == ["Tue 2026-03-03 15:00 CET #1"]
    clock.advance(days=10)  # past the first meeting: edits start from the next one
    edited = await bot.say(
        'ritual edit #1 "Deep dive" every month on second wed at 16:00 duration=90m', as_="bob"
    )
    assert "changed #1 “Deep dive” from its next meeting on: every month on the second" in edited
    assert "1h30m, reminders 1d and 1h before" in edited
    assert meetings(await bot.say("ritual next 2")) == [
        "Wed 2026-04-08 16:00 CEST #1",
        "Wed 2026-05-13 16:00 CEST #1",
    ]
    rows = await occurrences_of(bot.core)
    kept = [(r.starts_at, r.status) for r in rows if r.status == "scheduled"]
    assert kept[0] == (datetime(2026, 3, 3, 14, tzinfo=UTC), "scheduled")  # the past stays
    assert all(
        r.ends_at - r.starts_at == timedelta(minutes=90)
        for r in rows[1:]
        if r.status == "scheduled"
    )
    assert {r.status for r in rows} == {"scheduled", "removed"}  # dropped meetings are marked
    [ritual] = await rituals_in(bot.core)
    assert ritual.sequence == 5  # skip, move, pause, resume, edit
    assert len(ritual.past_series) == 1


async def test_cancel_removes_the_coming_meetings(bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    await bot.say("ritual next 3")
    cancelled = await bot.say("ritual cancel #1", as_="alice")
    assert "cancelled #1 “Monthly deep dive”; its coming meetings are off." in cancelled
    assert {r.status for r in await occurrences_of(bot.core)} == {"removed"}
    assert "has no rituals yet" in await bot.say("ritual list")
    assert "has no meetings coming up" in await bot.say("ritual next")
    assert "was cancelled" in await bot.say("ritual skip #1", as_="alice")
    assert "added #2" in await bot.say("ritual add deep-dive", as_="alice")  # numbers stay


async def test_stewards_and_core_team_change_rituals_others_are_refused(
    bot: ConsoleBot,
) -> None:
    await community(bot)
    refused = await bot.say(ADD_DEEP_DIVE, as_="carol")
    assert "Only stewards or the core team can use `ritual add`." in refused
    assert await rituals_in(bot.core) == []
    await bot.say(ADD_DEEP_DIVE, as_="bob")
    for command in (
        "ritual skip #1",
        "ritual move #1 2026-04-07 to 2026-04-08",
        "ritual edit #1 duration=30m",
        "ritual pause #1",
        "ritual resume #1",
        "ritual cancel #1",
        "ritual attended #1 @carol",
        "rotation #1 assign @carol",
    ):
        verb = " ".join(command.split()[:2]) if command.startswith("ritual") else "rotation assign"
        assert f"Only stewards or the core team can use `{verb}`." in await bot.say(
            command, as_="dan"
        ), command
    outsider = await bot.say("ritual skip #1", as_="zed")
    assert "Only stewards or the core team" in outsider
    [ritual] = await rituals_in(bot.core)
    assert ritual.sequence == 0
    for command in ("ritual list", "ritual show #1", "ritual next", "ritual feed", "rotation #1"):
        assert "Only" not in await bot.say(command, as_="zed"), command


async def test_ritual_commands_need_the_community_channel(bot: ConsoleBot) -> None:
    assert "no community yet" in await bot.say("ritual list", as_="alice", channel="empty")
    assert "in a community's channel" in await bot.say("ritual next", as_="alice", direct=True)


ERRORS: list[tuple[str, str, str]] = [
    # (who, command, what the answer says)
    ("alice", 'ritual add deep-dive "X" weekly on tuesdays', "I could not read the schedule"),
    ("alice", 'ritual add deep-dive "X" weekly on tuesdays', "`every day at 08:00`"),
    (
        "alice",
        "ritual add deep-dive every day at 10:00 Europe/Berln",
        "Did you mean `Europe/Berlin`",
    ),
    ("alice", "ritual add deep-dive on 2026-03-01 at 10:00", "has already passed"),
    ("alice", "ritual add office-hours remind=8d", "A reminder 8d before would come before"),
    ("alice", "ritual add office-hours remind=soon", "I could not read the reminders"),
    ("alice", "ritual add deep-dives-and-more", "There is no ritual called"),
    ("alice", "ritual add deep-dive duration=forever", "I could not read the length"),
    ("alice", "ritual add deep-dive duration=25h", "at most 1d"),
    ("alice", "ritual add deep-dive colour=red", "`ritual add` has no option `colour`"),
    ("alice", "ritual add deep-dive rotate=maybe", "`rotate` is `yes` or `no`, not `maybe`"),
    ("alice", "ritual add deep-dive " + '"' + "x" * 121 + '"', "too long (at most 120"),
    ("alice", "ritual add deep-dive where=" + "x" * 501, "at most 500 characters"),
    ("alice", "ritual add", "Say which template to start from"),
    ("alice", "ritual add deep-dive every month on wed at 10:00", "Which wed of the month?"),
    ("alice", "ritual add deep-dive every day at 25:00", "is not a time of day"),
    ("alice", "ritual frob", "`ritual` has no `frob`"),
    ("alice", "ritual ad deep-dive", "Did you mean `ritual add`?"),
    ("alice", "ritual", "Say what `ritual` should do."),
]


@pytest.mark.parametrize(("who", "command", "says"), ERRORS)
async def test_each_error_on_add_is_explained_and_nothing_is_saved(
    bot: ConsoleBot, who: str, command: str, says: str
) -> None:
    await community(bot)
    answer = await bot.say(command, as_=who)
    assert says in answer, answer
    assert await rituals_in(bot.core) == []


async def test_errors_about_an_existing_ritual(bot: ConsoleBot, clock: FixedClock) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    await bot.say("ritual add office-hours", as_="alice")
    cases = [
        ("ritual show x", "Say which ritual by its number, like `#1`, not `x`"),
        ("ritual show #9", "There is no ritual #9 here. The rituals are #1 and #2."),
        ("ritual edit #1", "Say what to change"),
        ("ritual skip #1 2026-04-07 2026-05-05", "Give at most one date"),
        ("ritual skip #1 2026-04-08", "There is no meeting on 2026-04-08. The next ones are on"),
        ("ritual skip #1 07/04/2026", "I could not read the date `07/04/2026`"),
        ("ritual move #1 2026-04-07", "Say which meeting to move and where to"),
        (
            "ritual move #1 2026-04-07 to 2026-05-05",
            "There is already a meeting at 2026-05-05 15:00",
        ),
        ("ritual move #1 2026-04-07 to 2026-03-01", "has already passed: move the meeting"),
        ("ritual move #1 2026-04-07 to 2026-04-08 at 7pm", "I could not read the time `7pm`"),
        ("ritual resume #1", "This ritual is not paused."),
        ("ritual resume #1 now", "Name just the ritual, by its number."),
        ("ritual pause #1 until 2026-03-01", "A pause lasts until a day after today"),
        ("ritual next 0", "`0` is not a number from 1 to 50."),
        ("ritual next lots", "`lots` is not a number from 1 to 50."),
        ("ritual attended #1", "Mention who came"),
        ("ritual attended #1 @carol", "#1 “Monthly deep dive” has not met yet."),
        ("ritual attended #1 2026-04-07 @carol", "The meeting on 2026-04-07 has not begun yet"),
        ("ritual edit #2 remind=8d", "A reminder 8d before"),
        ("ritual edit #1 every week on mon at 10:00 remind=8d", "A reminder 8d before"),
        ("ritual edit #1 pulse=often", "`pulse` is `yes` or `no`"),
        ("ritual show #1 duration=1h", "`ritual show` has no option `duration`"),
    ]
    for command, says in cases:
        assert says in await bot.say(command, as_="alice"), command
    [deep_dive, office_hours] = await rituals_in(bot.core)
    assert deep_dive.sequence == office_hours.sequence == 0  # nothing changed
    clock.advance(days=2)  # the 3 March meeting is over
    assert "has already begun or passed" in await bot.say("ritual skip #1 2026-03-03", as_="alice")
    await bot.say('ritual add case-study "One-off" on 2026-03-10 at 10:00', as_="alice")
    clock.advance(days=10)
    assert "has no meetings to come" in await bot.say("ritual skip #3", as_="alice")


async def test_attended_records_the_latest_meeting(bot: ConsoleBot, clock: FixedClock) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    clock.when = datetime(2026, 3, 3, 16, tzinfo=UTC)  # after the first meeting
    answer = await bot.say("ritual attended #1 @carol @dan @carol", as_="bob")
    assert "2 came to the Tue 2026-03-03 15:00 CET meeting of #1 “Monthly deep dive”" in answer
    assert "@carol, @dan" in answer
    again = await bot.say("ritual attended #1 2026-03-03 @dan @alice", as_="alice")
    assert "3 came to" in again
    assert "They were all recorded already." in await bot.say(
        "ritual attended #1 @dan", as_="alice"
    )
    async with bot.core.database.session() as session:
        rows = (await session.exec(select(Attendance))).all()
        assert sorted(r.user_id for r in rows) == ["alice", "carol", "dan"]
        assert {r.recorded_by for r in rows} == {"bob", "alice"}
        actions = [a.action for a in (await session.exec(select(Activity))).all()]
    assert actions.count("ritual.attended") == 3 and "ritual.added" in actions


async def test_attendance_falls_back_to_going_rsvps(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    first = (await occurrences_of(core))[0]
    async with core.database.session() as session:
        for user, answer in (("carol", "going"), ("dan", "maybe"), ("bob", "going")):
            session.add(
                Rsvp(occurrence_id=first.id, user_id=user, answer=answer, at=first.starts_at)
            )
    async with core.database.session() as session:
        row = await session.get(Occurrence, first.id)
        assert row is not None
        assert await attendance(session, row) == {"carol", "bob"}
        session.add(
            Attendance(occurrence_id=row.id, user_id="dan", recorded_by="alice", at=row.starts_at)
        )
    async with core.database.session() as session:
        row = await session.get(Occurrence, first.id)
        assert row is not None
        assert await attendance(session, row) == {"dan"}  # a record beats the RSVPs


async def test_two_stewards_adding_at_once_get_distinct_numbers(
    core: Core, bot: ConsoleBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.services.transactions")
    await community(bot)
    await bot.say("role @carol steward", as_="alice")
    adders = ["alice", "bob", "carol"] * 3

    async def add(user: str) -> str:
        [answer] = await core.router.handle(
            CommandInvoked(origin=origin(user), text="ritual add office-hours")
        )
        assert answer.kind == "ritual_saved", answer.data
        return str(answer.data["ritual"]["number"])

    numbers = await asyncio.gather(*(add(user) for user in adders))
    assert sorted(numbers, key=int) == [str(n) for n in range(1, len(adders) + 1)]
    assert len({r.uid for r in await rituals_in(core)}) == len(adders)
    # They did race: some lost the number they read and ran again.
    assert "lost a race" in caplog.text


async def test_replies_carry_utc_instants_and_the_community_zone(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    [added] = await replies(core, ADD_DEEP_DIVE)
    assert added.data["zone"] == "Europe/Berlin"
    assert added.data["meetings"][0]["start"] == "2026-03-03T14:00:00+00:00"
    assert added.data["meetings"][0]["day"] == "2026-03-03"
    assert added.data["ritual"]["schedule"].startswith("every month on the first Tuesday")


def random_command(rng: random.Random) -> str:
    heads = [
        "ritual",
        "ritual add deep-dive",
        "ritual add office-hours",
        "ritual edit #1",
        "ritual skip #1",
        "ritual move #1",
        "ritual pause #1",
        "ritual resume #1",
        "ritual show",
        "ritual next",
        "ritual attended #1",
        "ritual cancel #2",
        "rotation #1",
        "rotation #1 skip",
        "rotation #1 swap",
        "rotation #1 assign",
        "rotation #1 confirm",
        "rotation",
        "away",
    ]
    pieces = [
        "every",
        "on",
        "at",
        "to",
        "until",
        "month",
        "2 weeks",
        "first tue",
        "15:00",
        "25:61",
        "Europe/Berlin",
        "Mars/Base",
        "2026-03-10",
        "2026-04-07",
        "2026-02-30",
        "9999-12-31",
        "0001-01-01",
        "#1",
        "#0",
        "#99999999",
        "@carol",
        "@zed",
        "duration=0m",
        "duration=2h",
        "remind=1m",
        "remind=400d",
        "rotate=maybe",
        "where=",
        '"',
        "off",
        "12",
        "-1",
    ]
    words = [rng.choice(heads)] + [rng.choice(pieces) for _ in range(rng.randint(0, 6))]
    return " ".join(words)


async def test_random_ritual_commands_always_get_an_answer_never_an_apology(
    core: Core, bot: ConsoleBot, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    await bot.say("ritual add office-hours", as_="alice")
    rng = random.Random(20261128)
    for index in range(150):
        line = random_command(rng)
        user = rng.choice(["alice", "bob", "carol", "zed"])
        answers = await core.router.handle(
            CommandInvoked(origin=origin(user, direct=index % 17 == 0), text=line)
        )
        assert answers, line
        assert all(a.kind != "oops" for a in answers), line
        clock.advance(hours=rng.randint(0, 30))
