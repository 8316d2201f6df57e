"""`ritual rsvp`, the typed twin of the RSVP buttons: the console shows it under a reminder,
and an answer typed counts exactly as one pressed."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.events import ButtonPressed
from storage.models import Rsvp
from tests.console_bot import ConsoleBot
from tests.ritual_state import ADD_DEEP_DIVE, community, occurrences_of, origin


async def reminder_printed(bot: ConsoleBot, core: Core, clock: FixedClock) -> str:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE + " remind=1h", as_="alice")
    await core.deliveries.plan_ahead()
    clock.advance(hours=28)  # Tuesday 13:00 UTC, an hour before 15:00 Berlin
    start = len(bot.lines)
    await core.deliveries.run_due()
    return "\n".join(bot.lines[start:])


async def answers(core: Core) -> dict[str, str]:
    async with core.database.session() as session:
        return {r.user_id: r.answer for r in (await session.exec(select(Rsvp))).all()}


async def test_the_console_shows_the_typed_answer_and_it_counts_like_a_press(
    bot: ConsoleBot, core: Core, clock: FixedClock
) -> None:
    printed = await reminder_printed(bot, core, clock)
    assert "[Going] type `ritual rsvp #1 going 2026-03-03`" in printed
    assert "[Can't go] type `ritual rsvp #1 no 2026-03-03`" in printed
    said = await bot.say("ritual rsvp #1 going 2026-03-03", as_="carol")
    assert "Going 1 · Maybe 0 · Can't go 0" in said
    # The console has no buttons: the reply says what to type instead.
    assert "button" not in said and "Answer again, like `ritual rsvp #1 no 2026-03-03`" in said
    # Without a date it is the next meeting: the same one. A press by another counts beside it.
    await bot.say("ritual rsvp #1 MAYBE", as_="dan")
    [meeting, *_] = await occurrences_of(core)
    pressed = ButtonPressed(origin=origin("bob"), action="rsvp", value=f"{meeting.id} no")
    [reply] = await core.router.handle(pressed)
    assert reply.data["counts"] == {"going": 1, "maybe": 1, "no": 1}
    # Changing one's mind by typing replaces the pressed answer.
    await bot.say("ritual rsvp #1 going", as_="bob")
    assert await answers(core) == {"carol": "going", "dan": "maybe", "bob": "going"}


async def test_a_typed_answer_that_cannot_be_read_is_refused_with_the_usage(
    bot: ConsoleBot, core: Core, clock: FixedClock
) -> None:
    await reminder_printed(bot, core, clock)
    for line in (
        "ritual rsvp",
        "ritual rsvp #1",
        "ritual rsvp #1 perhaps",
        "ritual rsvp one going",
    ):
        said = await bot.say(line, as_="carol")
        assert "ritual rsvp #1 going" in said and "going, maybe and no" in said, line
    wrong_day = await bot.say("ritual rsvp #1 going 2026-03-04", as_="carol")
    assert "2026-03-04" in wrong_day and "2026-04-07" in wrong_day
    unknown = await bot.say("ritual rsvp #9 going", as_="carol")
    assert "There is no ritual #9" in unknown
    assert await answers(core) == {}
    # A later meeting can be answered ahead by its date.
    await bot.say("ritual rsvp #1 no 2026-04-07", as_="carol")
    later = (await occurrences_of(core))[1]
    async with core.database.session() as session:
        [row] = (await session.exec(select(Rsvp))).all()
    assert row.occurrence_id == later.id and row.answer == "no"


async def test_a_past_day_without_a_meeting_names_the_coming_meetings_not_past_ones(
    bot: ConsoleBot, core: Core, clock: FixedClock
) -> None:
    await reminder_printed(bot, core, clock)
    clock.advance(days=40)  # 2026-04-11: the meetings of March and April are over
    said = await bot.say("ritual rsvp #1 going 2026-03-04", as_="carol")
    assert "There is no meeting on 2026-03-04" in said
    assert "2026-05-05" in said and "2026-04-07" not in said
    assert await answers(core) == {}
