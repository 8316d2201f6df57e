"""Text is cleaned where it enters: the same on both databases, and never an apology."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Core
from bot.events import CommandInvoked, Origin
from bot.text import clean, clean_origin, one_line
from bot.vocabulary import CHANNEL_NAME_MAX, DISPLAY_NAME_MAX
from storage.models import Community, Member
from tests.console_bot import ConsoleBot

OOPS = "something went wrong"


def test_clean_drops_controls_and_keeps_line_breaks_only_when_asked() -> None:
    assert clean("a\x00b\x07c\x1b[31md\x7f\x9b") == "abc[31md"
    assert clean("a\tb\r\nc\rd\u2028e") == "a b c d e"
    assert clean("a\r\nb\n\nc\x85d", multiline=True) == "a\nb\n\nc\nd"
    assert clean("half \ud800 a surrogate") == "half  a surrogate"
    assert clean("Jose\u0301") == "José"  # one form of é, whichever way it was typed
    assert one_line("  a \n\t b  ") == "a b"


def test_clean_origin_shortens_platform_names_silently() -> None:
    origin = Origin(
        platform="slack",
        workspace="T1",
        channel="C1",
        user="U1",
        user_name="N\x00" + "n" * 300,
        channel_name="c" * 300,
    )
    cleaned = clean_origin(origin)
    assert len(cleaned.user_name) == DISPLAY_NAME_MAX and cleaned.user_name.startswith("Nn")
    assert len(cleaned.channel_name or "") == CHANNEL_NAME_MAX
    assert cleaned.user_name.endswith("…")
    assert clean_origin(cleaned) is cleaned
    direct = Origin(platform="p", workspace="w", channel="c", user="u")
    assert clean_origin(direct).channel_name is None


async def test_nul_bytes_never_reach_the_database(bot: ConsoleBot) -> None:
    out = await bot.say('setup "a\x00b" mission="one\x00\nline two"', as_="alice", channel="ds")
    assert "started" in out and OOPS not in out
    async with bot.core.database.session() as session:
        community = (await session.exec(select(Community))).one()
    assert (community.name, community.mission) == ("ab", "one\nline two")
    assert "Who knows" in await bot.say("who a\x00b") or "Nobody" in await bot.say("who a\x00b")
    assert OOPS not in await bot.say('setup "\x00"', channel="other")
    assert "needs a name" in await bot.say('setup "\x00"', channel="other")


async def test_long_platform_names_are_shortened_not_refused(core: Core) -> None:
    origin = Origin(
        platform="slack",
        workspace="T1",
        channel="C1",
        user="U1",
        user_name="Ann " * 100,
        channel_name="data-science-" * 30,
    )
    [charter] = await core.router.handle(CommandInvoked(origin=origin, text='setup "DS"'))
    assert charter.kind == "charter"
    joiner = Origin(**{**origin.__dict__, "user": "U2", "user_name": "B\x00ob" * 80})
    [joined] = await core.router.handle(CommandInvoked(origin=joiner, text="join"))
    assert joined.kind == "joined"
    async with core.database.session() as session:
        community = (await session.exec(select(Community))).one()
        names = sorted(m.display_name for m in (await session.exec(select(Member))).all())
    assert len(community.channel_name or "") == CHANNEL_NAME_MAX
    assert [len(n) for n in names] == [DISPLAY_NAME_MAX, DISPLAY_NAME_MAX]
    assert "\x00" not in "".join(names)


async def test_names_whose_lower_case_is_longer_still_fit(bot: ConsoleBot) -> None:
    # "ß" folds to "ss" and "ﬃ" to "ffi": the folded key must fit its column as well.
    out = await bot.say('setup "' + "ß" * 80 + '"', as_="alice", channel="ds")
    assert OOPS not in out and "too long" in out
    await bot.say('setup "DS"', as_="alice", channel="ds")
    skills = await bot.say("skills " + "ﬃ" * 40, as_="alice")
    assert OOPS not in skills and "too long for a skill" in skills


async def test_mentions_take_any_letters(bot: ConsoleBot) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    for name in ("José", "Zoë", "李雷"):
        assert f"Welcome @{name}" in await bot.say("join", as_=name)
        out = await bot.say(f"role @{name} core", as_="alice")
        assert f"@{name} is now on the core team of DS" in out, out
    listing = await bot.say("members core", as_="alice")
    assert "@José" in listing and "@Zoë" in listing and "@李雷" in listing


async def test_the_setup_form_is_cleaned_and_checked_like_the_command(core: Core) -> None:
    from bot.events import FormSubmitted

    origin = Origin(platform="slack", workspace="T1", channel="C1", user="U1", user_name="Ann")
    values = {"name": "D\x00S", "kind": "guild\x00", "domain": "x" * 301, "mission": "M"}
    [refused] = await core.router.handle(FormSubmitted(origin=origin, form="setup", values=values))
    assert refused.data["error"] == "field_too_long" and refused.data["field"] == "domain"
    values = {**values, "domain": "a\tb\nc", "mission": "one\x00\r\ntwo"}
    [charter] = await core.router.handle(FormSubmitted(origin=origin, form="setup", values=values))
    assert charter.kind == "charter"
    community = charter.data["community"]
    assert (community["name"], community["kind"]) == ("DS", "guild")
    assert (community["domain"], community["mission"]) == ("a b c", "one\ntwo")
