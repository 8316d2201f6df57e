"""Directories read a page at a time (with "Show more"), and `who` finds skills by their terms
through the indexed `expertise_terms`, filled for old skills by migration 0006s."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from adapters.console.translate import PLATFORM, WORKSPACE
from bot.events import CommandInvoked, Origin
from storage.database import Database, alembic_config
from storage.search_terms import terms_of
from tests.bulk_communities import seed, workspace_id
from tests.console_bot import ConsoleBot


def test_a_skill_is_found_by_its_whole_tag_its_parts_and_its_words() -> None:
    assert terms_of("Time-series  Forecasting") == {
        "time-series forecasting",
        "time-series",
        "forecasting",
        "time",
        "series",
    }
    assert terms_of("C++") == {"c++", "c"}
    assert terms_of("Straße") == {"strasse"}
    assert terms_of("  ") == set()


async def test_members_and_communities_page_with_a_show_more_button(bot: ConsoleBot) -> None:
    database = bot.core.database
    workspace = await workspace_id(database, PLATFORM, WORKSPACE)
    await seed(database, workspace, 25, members=45, prefix="ds")
    first = await bot.say("members", as_="U00001", channel="ds-0")
    assert first.startswith("ds 00000: 45 members\n")
    assert first.count("\n  @") == 20
    assert "More: `members page=2`" in first
    third = await bot.say("members page=3", as_="U00001", channel="ds-0")
    assert "45 members (page 3)" in third and third.count("\n  @") == 5
    assert "More:" not in third
    assert "not a page number" in await bot.say("members page=0", channel="ds-0")

    origin = Origin(platform=PLATFORM, workspace=WORKSPACE, channel="lobby", user="U00001")
    [reply] = await bot.core.router.handle(CommandInvoked(origin=origin, text="communities"))
    assert len(reply.data["communities"]) == 20
    assert [(b.label, b.action, b.value) for b in reply.buttons] == [
        ("Show more", "command", "communities page=2")
    ]
    [last] = await bot.core.router.handle(CommandInvoked(origin=origin, text="communities page=2"))
    assert len(last.data["communities"]) == 5 and not last.buttons
    assert last.data["communities"][-1]["name"] == "ds 00024"


async def test_who_finds_terms_in_active_communities_of_the_workspace_only(
    bot: ConsoleBot,
) -> None:
    await bot.say('setup "Data Science"', as_="alice", channel="ds")
    await bot.say("skills time-series forecasting, SQL", as_="alice", channel="ds")
    await bot.say('setup "Old"', as_="bob", channel="old")
    await bot.say("skills forecasting", as_="bob", channel="old")
    found = await bot.say("who series", as_="carol", channel="lobby")
    assert "@alice: time-series forecasting" in found
    assert "@bob: forecasting" in await bot.say("who Forecasting", channel="lobby")
    await bot.say("archive confirm", as_="bob", channel="old")
    assert "@bob" not in await bot.say("who forecasting", channel="lobby")
    await bot.say("skills Rust", as_="alice", channel="ds")  # replaces the old skills
    assert "Nobody" in await bot.say("who series", channel="lobby")


async def test_the_migration_makes_skills_set_before_it_findable(database: Database) -> None:
    config = alembic_config(database.url, schema=database.schema)
    await asyncio.to_thread(command.downgrade, config, "0005p")
    async with database.engine.begin() as connection:
        for statement in (
            "INSERT INTO workspaces (id, platform, external_id, created_at)"
            " VALUES (1, 'console', 'w', '2026-01-01')",
            "INSERT INTO communities (id, workspace_id, name, name_key, kind, domain, mission,"
            " channel_id, timezone, created_at)"
            " VALUES (1, 1, 'DS', 'ds', 'cop', '', '', 'ds', 'UTC', '2026-01-01')",
            "INSERT INTO members (id, community_id, user_id, display_name, role, active,"
            " joined_at) VALUES (1, 1, 'u1', 'Ann', 'member', true, '2026-01-01')",
            "INSERT INTO expertise (id, member_id, tag, label)"
            " VALUES (1, 1, 'machine learning', 'Machine learning')",
        ):
            await connection.execute(text(statement))
    await database.upgrade()
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT workspace_id, community_id, term FROM expertise_terms ORDER BY term")
        )
        assert [tuple(row) for row in rows] == [
            (1, 1, "learning"),
            (1, 1, "machine"),
            (1, 1, "machine learning"),
        ]


async def test_fifty_people_joining_at_once_all_join(bot: ConsoleBot) -> None:
    await bot.say('setup "Crowd"', as_="alice", channel="crowd")

    async def join(number: int) -> str:
        origin = Origin(platform=PLATFORM, workspace=WORKSPACE, channel="crowd", user=f"p{number}")
        [reply] = await bot.core.router.handle(CommandInvoked(origin=origin, text="join"))
        return reply.kind

    kinds = await asyncio.gather(*(join(n) for n in range(50)))
    assert kinds == ["joined"] * 50
    assert "Crowd: 51 members" in await bot.say("members", channel="crowd")
