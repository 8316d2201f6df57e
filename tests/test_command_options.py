"""Options and mentions a command does not take are reported, never dropped."""

from __future__ import annotations

from tests.console_bot import ConsoleBot


async def test_unknown_options_and_unexpected_mentions_are_reported(bot: ConsoleBot) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    assert "`skills` has no option `level`" in await bot.say("skills SQL, level=expert")
    assert "`who` has no option `level`" in await bot.say("who level=expert")
    out = await bot.say("skills @bob, SQL", as_="bob")
    assert "`skills` doesn't name people: leave out @bob" in out and "Usage: skills" in out
    assert "`members` doesn't name people" in await bot.say("members @bob")
    assert "`join` has no option `x`" in await bot.say("join x=1", as_="carol")
    assert "Saved your expertise" in await bot.say('skills SQL, "level=expert"', as_="bob")
    assert "has no option" not in await bot.say('setup kind=guild domain="ML"', as_="alice")


async def test_words_a_command_does_not_take_are_questioned_and_nothing_runs(
    bot: ConsoleBot,
) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    out = await bot.say("join now", as_="bob")
    assert "`join` takes no words: leave out `now`" in out and "Usage: join" in out
    assert "DS: 1 member\n" in await bot.say("members") + "\n"  # bob did not join
    for line in ("about DS", "communities all", "export now"):
        assert "takes no words" in await bot.say(line, as_="alice"), line
    assert "takes no words" in await bot.say("menu please", as_="alice", direct=True)
    # Words that are part of a command still work.
    assert "takes no words" not in await bot.say("members steward", as_="alice")
    assert "Saved the export" in await bot.say("export", as_="alice")


async def test_setup_says_what_is_wrong_with_the_name(bot: ConsoleBot) -> None:
    two = await bot.say('setup "A" "B"', as_="alice", channel="ds")
    assert "A community has one name, and you gave 2: “A”, “B”" in two
    assert "double quotes" in await bot.say("setup 'Single'")
    assert "double quotes" in await bot.say("setup 'Data Science'")
    assert "Put a name with spaces in quotes" in await bot.say("setup Data Science")
    assert "started" in await bot.say("setup Bob's")


async def test_counts_and_roles_read_naturally(bot: ConsoleBot) -> None:
    await bot.say('setup "DS"', as_="alice", channel="ds")
    assert "DS: 1 steward\n" in await bot.say("members steward") + "\n"
    assert "DS: 1 member\n" in await bot.say("members") + "\n"
    for name in ("bob", "carol"):
        await bot.say("join", as_=name)
        await bot.say(f"role @{name} core", as_="alice")
    core = await bot.say("members core")
    assert "DS: 2 core team members" in core and "@bob (core team)" in core
    assert "DS has no sponsors yet" in await bot.say("members sponsor")
    assert "DS in #ds (steward, 3 members)" in await bot.say(":home", as_="alice")
    assert "DS in #ds (core team, 3 members)" in await bot.say(":home", as_="bob")
