"""Each main command issues the same number of SQL statements however much data there is
(counted, not timed), so an N+1 or a read that grows with the workspace cannot creep back."""

from __future__ import annotations

from adapters.console.translate import PLATFORM, WORKSPACE
from tests.bulk_communities import seed, workspace_id
from tests.console_bot import ConsoleBot
from tests.sql_statements import recording

# (command line, channel); the channel `{big}` is the community being measured.
COMMANDS = {
    "help": ("help", "{big}"),
    "about": ("about", "{big}"),
    "members": ("members", "{big}"),
    "members page 2": ("members page=2", "{big}"),
    "who in a community": ("who python", "{big}"),
    "who workspace-wide": ("who python", "lobby"),
    "communities": ("communities", "lobby"),
    "skills": ("skills Python, SQL, dbt", "{big}"),
    "join": ("join", "{big}"),
    "leave": ("leave", "{big}"),
}


async def _counts(bot: ConsoleBot, community: str) -> dict[str, int]:
    counts = {}
    for name, (line, channel) in COMMANDS.items():
        who = "newcomer" if name in ("join", "leave", "skills") else "U00001"
        if name == "skills":
            await bot.say("join", as_=who, channel=channel.format(big=community))
        await bot.say(line, as_=who, channel=channel.format(big=community))  # warm up
        if name == "join":
            await bot.say("leave", as_=who, channel=channel.format(big=community))
        with recording(bot.core.database) as statements:
            reply = await bot.say(line, as_=who, channel=channel.format(big=community))
        assert "went wrong" not in reply, (name, reply)
        counts[name] = len(statements)
        if name == "join":
            await bot.say("skills Go", as_=who, channel=channel.format(big=community))
    return counts


async def test_commands_issue_as_many_statements_at_any_size(bot: ConsoleBot) -> None:
    database = bot.core.database
    workspace = await workspace_id(database, PLATFORM, WORKSPACE)
    await seed(database, workspace, 1, members=25, prefix="small")
    await seed(database, workspace, 3, prefix="few")
    small = await _counts(bot, "small-0")

    await seed(database, workspace, 1, members=70, skills=5, prefix="big")
    await seed(database, workspace, 150, prefix="many")
    large = await _counts(bot, "big-0")

    assert large == small
    assert all(count > 0 for name, count in small.items() if name != "help"), small
    assert "More: `members page=2`" in await bot.say("members", as_="U00001", channel="big-0")
