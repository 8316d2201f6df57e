"""Archiving: the last member leaves (after confirming) or a steward archives; data is kept,
the channel says so, and `setup` there brings the community back."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Core
from bot.events import ButtonPressed, CommandInvoked, Origin
from storage.models import Community, Expertise, Member
from tests.console_bot import ConsoleBot

ARCHIVED = "is archived"


async def community(core: Core) -> Community:
    async with core.database.session() as session:
        return (await session.exec(select(Community))).one()


async def active_roles(core: Core) -> dict[str, str]:
    async with core.database.session() as session:
        rows = (await session.exec(select(Member).where(Member.active == True))).all()  # noqa: E712
    return {m.user_id: m.role for m in rows}


async def test_the_only_member_leaves_after_confirming_and_the_community_is_archived(
    bot: ConsoleBot,
) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    await bot.say("skills SQL", as_="alice")
    asked = await bot.say("leave", as_="alice")
    assert "You're the last member of “DS”, so leaving archives it" in asked
    assert "[Leave and archive] type `leave confirm`" in asked
    assert (await community(bot.core)).archived_at is None  # asking changed nothing
    done = await bot.say("leave confirm", as_="alice")
    assert "@alice left “DS” as its last member and archived it" in done
    assert (await community(bot.core)).archived_at is not None
    for command in ("about", "join", "members", "skills Go", "who sql", "leave"):
        assert ARCHIVED in await bot.say(command, as_="bob"), command
    assert "no communities here yet" in await bot.say("communities", as_="bob")
    async with bot.core.database.session() as session:
        assert len((await session.exec(select(Expertise))).all()) == 1  # the data is kept


async def test_setup_brings_an_archived_community_back_and_its_runner_becomes_steward(
    bot: ConsoleBot,
) -> None:
    await bot.say('setup "DS" mission="Share"', as_="alice", channel="ds")
    await bot.say("leave", as_="alice")
    await bot.say("leave confirm", as_="alice")
    back = await bot.say("setup", as_="bob")
    assert "@bob brought “DS” back" in back and "Mission:  Share" in back
    assert "Stewards: @bob" in back
    assert await active_roles(bot.core) == {"bob": "steward"}
    assert (await community(bot.core)).archived_at is None
    assert "Welcome @alice" in await bot.say("join", as_="alice")
    assert "DS (cop) in #ds: 2 members" in await bot.say("communities")


async def test_a_steward_archives_after_confirming_and_members_are_kept(core: Core) -> None:
    def origin(user: str) -> Origin:
        return Origin(platform="slack", workspace="T1", channel="C1", user=user, user_name=user)

    async def run(user: str, text: str) -> list[str]:
        replies = await core.router.handle(CommandInvoked(origin=origin(user), text=text))
        return [r.kind if r.kind != "error" else r.data["error"] for r in replies]

    await run("U1", 'setup "DS"')
    await run("U2", "join")
    assert await run("U2", "archive") == ["role_required"]
    [question] = await core.router.handle(CommandInvoked(origin=origin("U1"), text="archive"))
    assert question.kind == "confirm" and question.buttons[0].value == "archive confirm"
    assert await run("U1", "archive please") == ["confirm_only"]
    pressed = ButtonPressed(origin=origin("U1"), action="command", value="archive confirm")
    [archived] = await core.router.handle(pressed)
    assert archived.kind == "archived" and archived.data["left"] is False
    assert await run("U1", "archive confirm") == ["community_archived"]
    assert await active_roles(core) == {"U1": "steward", "U2": "member"}
    # A member may bring it back; a steward is still there, so the charter stays theirs.
    assert await run("U2", 'setup "Renamed"') == ["charter_not_yours"]
    assert await run("U2", "setup") == ["charter"]
    assert await active_roles(core) == {"U1": "steward", "U2": "member"}
    assert (await community(core)).name == "DS"


async def test_leave_as_the_only_member_cannot_name_a_successor(bot: ConsoleBot) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    assert "isn't a member yet" in await bot.say("leave @bob", as_="alice")
    assert "other than yourself" in await bot.say("leave @alice", as_="alice")
    assert "at most one person" in await bot.say("leave now", as_="alice")
