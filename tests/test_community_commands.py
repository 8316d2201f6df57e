"""The spine's commands end to end through the console seam, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Core
from storage.models import Activity, Community
from tests.community_state import members_of
from tests.console_bot import ConsoleBot

SETUP = 'setup "Data Science" domain="ML" mission="Share reusable patterns"'


async def test_setup_makes_the_caller_steward_and_join_adds_a_member(bot: ConsoleBot) -> None:
    created = await bot.say(SETUP, as_="alice", channel="ds")
    assert "started the Community of Practice “Data Science”" in created
    assert "Stewards: @alice" in created
    assert "Welcome @bob" in await bot.say("join", as_="bob")
    listing = await bot.say("members", as_="bob")
    assert "@alice (steward)" in listing and "@bob (member)" in listing
    assert await members_of(bot.core) == {"alice": "steward", "bob": "member"}


async def test_about_shows_the_charter(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    about = await bot.say("about", as_="carol")
    assert "Domain:   ML" in about and "Mission:  Share reusable patterns" in about
    assert "Members:  1" in about and "[Join]" in about


async def test_a_steward_updates_the_charter_and_others_are_refused(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    assert "was updated" in await bot.say('setup mission="Ship better models"', as_="alice")
    refused = await bot.say('setup "Hijack"', as_="mallory")
    assert "Only its stewards can change the charter" in refused
    async with bot.core.database.session() as session:
        community = (await session.exec(select(Community))).one()
    assert (community.name, community.mission) == ("Data Science", "Ship better models")


async def test_one_channel_holds_one_community_and_names_are_unique(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    clash = await bot.say('setup "data  science"', as_="bob", channel="other")
    assert "already a community called “Data Science”" in clash


async def test_setup_rejects_unknown_kinds_and_options_with_usage(bot: ConsoleBot) -> None:
    bad_kind = await bot.say('setup "X" kind=club', as_="alice", channel="x")
    assert "`kind` must be one of cop, guild or erg" in bad_kind and "Usage: setup" in bad_kind
    assert "no option `colour`" in await bot.say('setup "X" colour=red', as_="alice")


async def test_a_member_cannot_change_roles_and_nothing_changes(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    refused = await bot.say("role @alice member", as_="bob")
    assert "Only stewards can use `role`" in refused
    assert await members_of(bot.core) == {"alice": "steward", "bob": "member"}


async def test_a_steward_changes_a_role_and_the_member_is_told(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    out = await bot.say("role @bob core", as_="alice")
    assert "[to @bob (direct message)] You are now on the core team of Data Science" in out
    assert "@bob is now on the core team of Data Science (was a member), set by @alice" in out
    assert "bob is already on the core team." in await bot.say("role @bob core", as_="alice")
    assert (await members_of(bot.core))["bob"] == "core"


async def test_the_last_steward_must_name_a_successor_to_leave(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    assert "You're the last steward" in await bot.say("leave", as_="alice")
    assert "isn't a member yet" in await bot.say("leave @carol", as_="alice")
    out = await bot.say("leave @bob", as_="alice")
    assert "You left Data Science" in out and "@bob is a steward now" in out
    assert await members_of(bot.core) == {"bob": "steward"}
    assert "Welcome @alice" in await bot.say("join", as_="alice")
    assert (await members_of(bot.core))["alice"] == "member"


async def test_demoting_the_last_steward_is_refused(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    assert "without a steward" in await bot.say("role @alice member", as_="alice")


async def test_skills_and_who_find_the_people_who_know(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    assert "Saved your expertise" in await bot.say("skills Python, Forecasting", as_="bob")
    await bot.say("skills time-series forecasting, SQL", as_="alice")
    found = await bot.say("who forecasting", as_="carol")
    assert found.index("@bob") < found.index("@alice")  # the exact tag ranks first
    assert "Nobody in Data Science has listed “rust”" in await bot.say("who rust")
    listing = await bot.say("members")
    assert "@bob (member): Python, Forecasting" in listing
    from_dm = await bot.say("who sql", as_="dana", direct=True)
    assert "@alice: SQL" in from_dm


async def test_skills_need_membership(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    assert "Join “Data Science” first" in await bot.say("skills Go", as_="zed")


async def test_members_can_filter_by_role(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    only = await bot.say("members steward")
    assert "@alice" in only and "@bob" not in only
    assert "is not a role" in await bot.say("members wizards")


async def test_communities_lists_the_workspace(bot: ConsoleBot) -> None:
    assert "no communities here yet" in await bot.say("communities", as_="alice")
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say('setup "Platform Guild" kind=guild', as_="bob", channel="platform")
    listing = await bot.say("communities", as_="bob")
    assert "Data Science (cop) in #ds: 1 member" in listing
    assert "Platform Guild (guild) in #platform: 1 member, you're in it" in listing


async def test_commands_needing_a_community_say_how_to_start_one(bot: ConsoleBot) -> None:
    assert "no community yet" in await bot.say("join", as_="alice", channel="empty")
    assert "in a community's channel" in await bot.say("members", direct=True)


async def test_unknown_commands_suggest_the_closest(bot: ConsoleBot) -> None:
    assert "Did you mean `members`?" in await bot.say("membrs")
    assert "Did you mean `setup`?" in await bot.say("help stup")


async def test_help_lists_every_command_with_usage(bot: ConsoleBot) -> None:
    text = await bot.say("help")
    for spec in bot.core.router.registry.specs:
        assert spec.usage in text
    assert "Example: setup" in await bot.say("help setup")
    # Who may run a command is said once, as a list read aloud.
    assert "warning signs. (stewards, the core team and sponsors only)" in text
    assert "(stewards and the core team only)" in text
    assert "Who:     stewards, the core team and sponsors only" in await bot.say("help stats")


async def test_workspaces_never_see_each_other(core: Core) -> None:
    from bot.events import CommandInvoked, Origin

    def origin(workspace: str, user: str) -> Origin:
        return Origin(platform="slack", workspace=workspace, channel="C1", user=user)

    await core.router.handle(CommandInvoked(origin=origin("T1", "U1"), text='setup "Alpha"'))
    other = await core.router.handle(CommandInvoked(origin=origin("T2", "U2"), text="members"))
    assert other[0].data["error"] == "no_community_here"
    listing = await core.router.handle(
        CommandInvoked(origin=origin("T2", "U2"), text="communities")
    )
    assert listing[0].data["communities"] == []


async def test_everything_that_happens_is_logged_for_analytics(bot: ConsoleBot) -> None:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    await bot.say("skills SQL", as_="bob")
    await bot.say("role @bob core", as_="alice")
    async with bot.core.database.session() as session:
        actions = [a.action for a in (await session.exec(select(Activity))).all()]
    assert actions == ["community.created", "member.joined", "member.skills", "member.role"]


async def test_the_setup_form_announces_the_charter_like_the_command(core: Core) -> None:
    from bot.events import FormSubmitted, Origin
    from bot.replies import Visibility

    origin = Origin(platform="slack", workspace="T1", channel="C1", user="U1", user_name="Ann")
    values = {"name": "Platform", "kind": "guild", "domain": "", "mission": "Ship"}
    [charter] = await core.router.handle(FormSubmitted(origin=origin, form="setup", values=values))
    assert (charter.kind, charter.visibility) == ("charter", Visibility.CHANNEL)
    assert charter.data["headline"] == "created"
    assert charter.data["community"]["kind"] == "guild"
    [refused] = await core.router.handle(
        FormSubmitted(origin=origin, form="setup", values={**values, "kind": "club"})
    )
    assert refused.kind == "error" and refused.data["error"] == "kind_unknown"
    assert refused.data["field"] == "kind"
    unknown = FormSubmitted(origin=origin, form="nonsense", values={})
    assert await core.router.handle(unknown) == []
