"""Two people acting at once: exactly one of two conflicting commands wins, the other gets a
proper answer (never the apology), and a community always keeps a steward.

Each pair runs concurrently through the router, many times, on both databases."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlmodel import col, select

from bot.app import Core
from bot.events import ButtonPressed, CommandInvoked, Origin
from storage.models import Community, Member, Role

ROUNDS = 20


def origin(user: str, channel: str) -> Origin:
    return Origin(
        platform="slack",
        workspace="T1",
        channel=channel,
        channel_name=channel,
        user=user,
        user_name=user.title(),
    )


async def outcome(core: Core, user: str, channel: str, text: str) -> str:
    """The kind of the first reply: the error's kind for an error, the headline (created,
    updated) for a charter."""
    event = CommandInvoked(origin=origin(user, channel), text=text)
    [reply, *_] = await core.router.handle(event)
    if reply.kind in ("error", "charter"):
        return str(reply.data.get("error") or reply.data["headline"])
    return reply.kind


async def at_once(core: Core, channel: str, *runs: tuple[str, str]) -> list[str]:
    return list(await asyncio.gather(*(outcome(core, user, channel, text) for user, text in runs)))


async def step(core: Core, user: str, channel: str, text: str, expected: str) -> None:
    assert await outcome(core, user, channel, text) == expected, (user, text)


async def stewards(core: Core, channel: str) -> list[str]:
    async with core.database.session() as session:
        query = (
            select(Member.user_id)
            .join(Community, col(Community.id) == Member.community_id)
            .where(Community.channel_id == channel, col(Member.active))
            .where(Member.role == Role.STEWARD)
        )
        return list((await session.exec(query)).all())


async def archived(core: Core, channel: str) -> bool:
    async with core.database.session() as session:
        query = select(Community).where(Community.channel_id == channel)
        return (await session.exec(query)).one().archived_at is not None


async def community_with(core: Core, channel: str, *members: str) -> None:
    """`channel`'s community with `alice` as steward and `members` joined."""
    await step(core, "alice", channel, f'setup "Community {channel}"', "created")
    for member in members:
        await step(core, member, channel, "join", "joined")


def one_won(outcomes: list[str], success: str) -> Counter[str]:
    counts = Counter(outcomes)
    assert "oops" not in counts, outcomes
    assert counts[success] == 1, outcomes
    return counts


async def test_the_last_steward_leaving_for_bob_while_bob_leaves(core: Core) -> None:
    for n in range(ROUNDS):
        channel = f"C{n}"
        await community_with(core, channel, "bob", "carol")
        outcomes = await at_once(core, channel, ("alice", "leave <@bob>"), ("bob", "leave"))
        counts = one_won(outcomes, "left")
        assert counts["left"] == 1, outcomes
        assert set(outcomes) - {"left"} <= {"successor_not_member", "last_steward_leaving"}
        assert len(await stewards(core, channel)) >= 1, outcomes


async def test_two_stewards_demoting_each_other(core: Core) -> None:
    for n in range(ROUNDS):
        channel = f"C{n}"
        await community_with(core, channel, "bob")
        await step(core, "alice", channel, "role <@bob> steward", "role_changed")
        outcomes = await at_once(
            core, channel, ("alice", "role <@bob> member"), ("bob", "role <@alice> member")
        )
        one_won(outcomes, "role_changed")
        assert set(outcomes) - {"role_changed"} <= {
            "no_steward_left",
            "no_longer_steward",
            "role_required",
        }, outcomes
        assert len(await stewards(core, channel)) == 1, outcomes


async def test_two_stewards_leaving_at_once(core: Core) -> None:
    for n in range(ROUNDS):
        channel = f"C{n}"
        await community_with(core, channel, "bob", "carol")
        await step(core, "alice", channel, "role <@bob> steward", "role_changed")
        outcomes = await at_once(core, channel, ("alice", "leave"), ("bob", "leave"))
        one_won(outcomes, "left")
        assert "last_steward_leaving" in outcomes
        assert len(await stewards(core, channel)) == 1, outcomes


async def test_the_last_member_archiving_while_someone_joins(core: Core) -> None:
    for n in range(ROUNDS):
        channel = f"C{n}"
        await community_with(core, channel)
        outcomes = await at_once(core, channel, ("alice", "leave confirm"), ("bob", "join"))
        assert "oops" not in outcomes
        if await archived(core, channel):
            assert outcomes == ["archived", "community_archived"], outcomes
        else:
            assert outcomes == ["last_steward_leaving", "joined"], outcomes
            assert await stewards(core, channel) == ["alice"]


@pytest.mark.parametrize("same_user", [False, True], ids=["two-people", "double-click"])
async def test_two_setups_in_one_empty_channel(core: Core, same_user: bool) -> None:
    second = "alice" if same_user else "bob"
    for n in range(ROUNDS):
        channel = f"C{n}"
        outcomes = await at_once(
            core, channel, ("alice", f'setup "One {n}"'), (second, f'setup "Two {n}"')
        )
        one_won(outcomes, "created")
        # The second click updates the charter the first created; someone else is refused.
        assert ("updated" if same_user else "charter_not_yours") in outcomes, outcomes
        assert len(await stewards(core, channel)) == 1


async def test_one_name_set_up_in_two_channels(core: Core) -> None:
    for n in range(ROUNDS):
        name = f'setup "Same {n}"'
        outcomes = await asyncio.gather(
            outcome(core, "alice", f"A{n}", name), outcome(core, "bob", f"B{n}", name)
        )
        one_won(list(outcomes), "created")
        assert "name_taken" in outcomes, outcomes


async def test_a_double_clicked_join(core: Core) -> None:
    for n in range(ROUNDS):
        channel = f"C{n}"
        await community_with(core, channel)
        click = ButtonPressed(origin=origin("bob", channel), action="command", value="join")
        replies = await asyncio.gather(core.router.handle(click), core.router.handle(click))
        kinds = [r[0].data.get("error", r[0].kind) for r in replies]
        one_won(kinds, "joined")
        assert "already_member" in kinds, kinds
