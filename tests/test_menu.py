"""The menu at the console seam and through the router: a steward's and a member's, the
buttons that act in a community's channel with the command's own role checks (when pressed,
not when shown), the forms checked like the typed command with the error on its field, and
only the caller's own workspace. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import select

from bot.app import Core
from bot.events import ButtonPressed, CommandInvoked, FormSubmitted, Origin
from bot.replies import Reply
from bot.vocabulary import MENU_LABELS
from storage.models import Occurrence, Poll, Ritual
from tests.console_bot import ConsoleBot


def at(user: str, channel: str = "ds", *, direct: bool = False, workspace: str = "local") -> Origin:
    return Origin(
        platform="console",
        workspace=workspace,
        channel=channel,
        user=user,
        user_name=user,
        is_direct=direct,
    )


async def menu_of(core: Core, user: str, *, workspace: str = "local") -> Reply:
    [reply] = await core.router.handle(
        CommandInvoked(origin=at(user, "@" + user, direct=True, workspace=workspace), text="menu")
    )
    assert reply.kind == "menu", reply
    return reply


async def press(core: Core, user: str, action: str, value: str) -> list[Reply]:
    """A press of a menu button: from the DM, acting in the community's channel."""
    return await core.router.handle(ButtonPressed(origin=at(user), action=action, value=value))


async def submit(core: Core, user: str, form: str, values: Mapping[str, str]) -> list[Reply]:
    return await core.router.handle(FormSubmitted(origin=at(user), form=form, values=values))


async def a_community_with_a_ritual(bot: ConsoleBot) -> None:
    await bot.say('setup "Data Science"', as_="alice", channel="ds")
    await bot.say("join", as_="bob", channel="ds")
    await bot.say("join", as_="carol", channel="ds")
    added = await bot.say(
        'ritual add deep-dive "Deep dive" every week on tue at 15:00 Europe/Berlin rotate=yes',
        as_="alice",
        channel="ds",
    )
    assert "added #1" in added


async def test_a_stewards_menu_in_a_direct_message(core: Core, bot: ConsoleBot) -> None:
    await a_community_with_a_ritual(bot)
    await bot.say('poll "Lunch?" "Pizza" "Sushi"', as_="bob", channel="ds")
    await bot.say('save "Feature stores compared: https://x.io/fs"', as_="bob", channel="ds")
    async with core.database.session() as session:
        first = (await session.exec(select(Occurrence).order_by(Occurrence.starts_at))).first()
    assert first is not None
    await press(core, "bob", "rsvp", f"{first.id} going")
    await press(core, "carol", "rsvp", f"{first.id} maybe")

    shown = await bot.say("menu", as_="alice", direct=True)

    assert "Your steward's menu" in shown
    assert "Data Science (steward) in #ds" in shown
    assert "#1 Deep dive: @" in shown and "going 1, maybe 1, can't go 0" in shown
    assert "Facilitators not yet confirmed:" in shown and "has not confirmed" in shown
    assert "Open polls: #1 Lunch?" in shown
    assert "Library drafts waiting: #1 Feature stores compared" in shown
    assert "[Rotation #1] in #ds type `rotation #1`" in shown
    assert "[Manage roles] in #ds type `members`" in shown
    reply = await menu_of(core, "alice")
    labels = [b.label for b in reply.buttons]
    assert labels[:2] == [MENU_LABELS["schedule"], MENU_LABELS["poll"]]
    assert {b.channel for b in reply.buttons} == {"ds"}
    # The health report and export are commands: their buttons act in the community's channel.
    assert "[Health report] in #ds type `stats`" in shown
    assert MENU_LABELS["stats"] in labels and MENU_LABELS["export"] in labels


async def test_a_members_menu_shows_their_own_answers_and_volunteering(
    core: Core, bot: ConsoleBot
) -> None:
    await a_community_with_a_ritual(bot)
    async with core.database.session() as session:
        first = (await session.exec(select(Occurrence).order_by(Occurrence.starts_at))).first()
    assert first is not None
    await press(core, "bob", "rsvp", f"{first.id} going")

    shown = await bot.say("menu", as_="bob", direct=True)

    assert "Your menu: what's coming up" in shown and "Data Science (member)" in shown
    assert "you're going" in shown and "you haven't answered" in shown
    assert "going 1" not in shown and "Open polls" not in shown  # no steward's counts
    assert "[Volunteer to facilitate #1] in #ds type `rotation #1 volunteer`" in shown
    volunteered = await press(core, "bob", "command", "rotation #1 volunteer")
    assert [r.kind for r in volunteered] == ["rotation"], volunteered
    # In the rotation now (as the core team is without volunteering): no button to volunteer,
    # until they opt out.
    assert "Volunteer" not in await bot.say("menu", as_="bob", direct=True)
    await bot.say("role @carol core", as_="alice", channel="ds")
    assert "Volunteer" not in await bot.say("menu", as_="carol", direct=True)
    await bot.say("rotation #1 optout", as_="bob", channel="ds")
    assert "[Volunteer to facilitate #1]" in await bot.say("menu", as_="bob", direct=True)
    nobody = await bot.say("menu", as_="zed", direct=True)
    assert "You haven't joined a community yet" in nobody


async def test_the_menu_holds_only_the_callers_workspace(core: Core, bot: ConsoleBot) -> None:
    await a_community_with_a_ritual(bot)
    elsewhere = at("alice", "other", workspace="another")
    await core.router.handle(CommandInvoked(origin=elsewhere, text='setup "Secret club"'))
    mine = await menu_of(core, "alice")
    assert [c["name"] for c in mine.data["communities"]] == ["Data Science"]
    theirs = await menu_of(core, "alice", workspace="another")
    assert [c["name"] for c in theirs.data["communities"]] == ["Secret club"]
    assert {b.channel for b in theirs.buttons} == {"other"}


async def test_command_buttons_run_the_command_and_check_roles(core: Core, bot: ConsoleBot) -> None:
    await a_community_with_a_ritual(bot)
    reply = await menu_of(core, "alice")
    [health] = [b for b in reply.buttons if b.label == MENU_LABELS["stats"]]
    assert (health.action, health.value, health.channel) == ("command", "stats", "ds")
    [ran] = await press(core, "alice", health.action, health.value)
    assert ran.kind == "stats" and ran.data["community"]["name"] == "Data Science"
    # Someone else pressing the same button (a forwarded or stale menu) is refused.
    [refused] = await press(core, "bob", health.action, health.value)
    assert refused.kind == "error" and refused.data["error"] == "role_required"


async def test_the_schedule_form_opens_for_stewards_and_submits_like_ritual_add(
    core: Core, bot: ConsoleBot
) -> None:
    await a_community_with_a_ritual(bot)
    [form] = await press(core, "alice", "menu_form", "ritual_form")
    assert form.kind == "ritual_form" and form.form is not None
    assert (form.form.name, form.form.channel) == ("ritual_form", "ds")
    # A member may not open it, nor submit it (the role is checked each time).
    [refused] = await press(core, "bob", "menu_form", "ritual_form")
    assert refused.kind == "error" and refused.data["error"] == "role_required"
    values = {
        "template": "office-hours",
        "title": "Ask us",
        "schedule": "every week on fri at 11:00",
    }
    [refused] = await submit(core, "bob", "ritual_form", values)
    assert refused.data["error"] == "role_required"
    # Errors land on their fields.
    for field, bad in (
        ("schedule", {"schedule": "every blue moon"}),
        ("duration", {"duration": "forever"}),
        ("remind", {"remind": "soonish"}),
        ("template", {"template": "karaoke"}),
        ("rotate", {"rotate": "perhaps"}),
    ):
        [error] = await submit(core, "alice", "ritual_form", {**values, **bad})
        assert error.kind == "error" and error.data["field"] == field, (field, error.data)
    replies = await submit(core, "alice", "ritual_form", {**values, "duration": "30m"})
    assert replies and replies[0].kind == "ritual_saved"
    async with core.database.session() as session:
        ritual = (await session.exec(select(Ritual).where(Ritual.number == 2))).one()
    assert (ritual.title, ritual.template, ritual.duration_minutes) == (
        "Ask us",
        "office-hours",
        30,
    )


async def test_the_poll_form_posts_a_poll_in_the_channel(core: Core, bot: ConsoleBot) -> None:
    await a_community_with_a_ritual(bot)
    [form] = await press(core, "alice", "menu_form", "poll_form")
    assert form.kind == "poll_form"
    [error] = await submit(core, "alice", "poll_form", {"question": "Day?", "options": "Tue"})
    assert error.data["field"] == "options"
    [error] = await submit(
        core, "alice", "poll_form", {"question": "Day?", "options": "Tue\nThu", "closes": "never"}
    )
    assert error.data["field"] == "closes"
    start = len(bot.lines)
    await submit(
        core,
        "alice",
        "poll_form",
        {"question": "Day?", "options": "Tue\n\nThu", "anonymous": "yes"},
    )
    assert "Poll #1: Day?" in "\n".join(bot.lines[start:])
    async with core.database.session() as session:
        poll = (await session.exec(select(Poll))).one()
    assert poll.options == ["Tue", "Thu"] and poll.anonymous
    # A press from someone outside the community is refused before any form.
    [outside] = await press(core, "zed", "menu_form", "poll_form")
    assert outside.kind == "error" and outside.data["error"] == "members_only"
