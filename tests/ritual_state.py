"""Helpers for the ritual tests: a community with people, and what the database holds."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from bot.app import Core
from bot.events import CommandInvoked, Origin
from bot.replies import Reply
from storage.models import Occurrence, Ritual
from tests.console_bot import ConsoleBot

ADD_DEEP_DIVE = (
    'ritual add deep-dive "Monthly deep dive" every month on first tue at 15:00 Europe/Berlin'
)
# The Done-when's six meetings, from the test clock (Monday 2026-03-02): the first Tuesdays,
# across the change to summer time on 2026-03-29.
SIX_TUESDAYS = [
    "Tue 2026-03-03 15:00 CET",
    "Tue 2026-04-07 15:00 CEST",
    "Tue 2026-05-05 15:00 CEST",
    "Tue 2026-06-02 15:00 CEST",
    "Tue 2026-07-07 15:00 CEST",
    "Tue 2026-08-04 15:00 CEST",
]


async def community(bot: ConsoleBot, *, zone: str = "Europe/Berlin", channel: str = "ds") -> None:
    """Data Science in `channel`: alice steward, bob core team, carol and dan members."""
    await bot.say(f'setup "Data Science" timezone={zone}', as_="alice", channel=channel)
    for name in ("bob", "carol", "dan"):
        await bot.say("join", as_=name, channel=channel)
    await bot.say("role @bob core", as_="alice", channel=channel)


def origin(user: str, channel: str = "ds", *, direct: bool = False) -> Origin:
    """A console origin, as `ConsoleBot` makes them."""
    return Origin(
        platform="console",
        workspace="local",
        channel=f"dm:{user}" if direct else channel,
        channel_name=None if direct else channel,
        user=user,
        user_name=user,
        is_direct=direct,
    )


async def replies(
    core: Core, text: str, *, user: str = "alice", channel: str = "ds"
) -> list[Reply]:
    """The replies to a command, as data (mentions written `<@id|name>`)."""
    return await core.router.handle(CommandInvoked(origin=origin(user, channel), text=text))


async def shown_starts(core: Core, count: int, *, user: str = "carol") -> list[datetime]:
    """The UTC instants `ritual next <count>` shows."""
    [answer] = await replies(core, f"ritual next {count}", user=user)
    return [datetime.fromisoformat(m["start"]) for m in answer.data["meetings"]]


async def rituals_in(core: Core) -> list[Ritual]:
    async with core.database.session() as session:
        return list((await session.exec(select(Ritual).order_by(col(Ritual.number)))).all())


async def occurrences_of(core: Core, number: int = 1) -> list[Occurrence]:
    async with core.database.session() as session:
        query = (
            select(Occurrence)
            .join(Ritual, col(Ritual.id) == Occurrence.ritual_id)
            .where(Ritual.number == number)
            .order_by(col(Occurrence.starts_at))
        )
        return list((await session.exec(query)).all())
