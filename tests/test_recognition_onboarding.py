"""Wins, kudos and onboarding on the console and at the core's seam."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from adapters.console import translate
from bot.app import Core
from bot.events import ButtonPressed, MemberJoined
from bot.replies import MessageRef, Reply, Visibility
from messages.rendering import Renderer
from storage.models import Activity, Kudos, MentorRequest, Welcome, Win
from tests.community_state import members_of
from tests.console_bot import ConsoleBot


async def community(bot: ConsoleBot) -> None:
    await bot.say('setup "DS" domain="Machine learning" mission="Share patterns"', as_="alice")
    await bot.say("join", as_="bob")


async def actions(core: Core) -> list[tuple[str, str]]:
    async with core.database.session() as session:
        rows = (await session.exec(select(Activity).order_by(Activity.id))).all()  # type: ignore[arg-type]
    return [(a.action, a.user_id) for a in rows]


# Wins and kudos --------------------------------------------------------------------------


async def test_a_win_is_shared_in_the_channel_and_kept(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    shared = await bot.say('win "Our notebook runs in <5 min> now"', as_="bob")
    assert shared == "[#ds] @bob shared a win with DS: Our notebook runs in <5 min> now"
    assert "shared a win with DS: Paired with @carol on it" in await bot.say(
        "win Paired with @carol on it", as_="bob"
    )
    async with core.database.session() as session:
        wins = (await session.exec(select(Win))).all()
    assert [(w.user_id, w.text) for w in wins] == [
        ("bob", "Our notebook runs in <5 min> now"),
        ("bob", "Paired with @carol on it"),
    ]
    assert ("win.shared", "bob") in await actions(core)


async def test_kudos_thank_in_the_channel_and_tell_the_person(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    said = await bot.say('kudos @carol "for the dbt demo"', as_="bob")
    assert "[to @carol (direct message)] @bob thanked you in DS: “for the dbt demo”" in said
    assert "[#ds] Kudos to @carol from @bob: for the dbt demo" in said
    async with core.database.session() as session:
        [kudos] = (await session.exec(select(Kudos))).all()
    assert (kudos.from_user, kudos.to_user, kudos.text) == ("bob", "carol", "for the dbt demo")
    assert ("kudos.given", "bob") in await actions(core)


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        ("win", "Say what it is about, in quotes."),
        ('win "' + "x" * 1001 + '"', "That is too long (at most 1000 characters)."),
        ('kudos "for everything"', "Name one person to thank, for example"),
        ('kudos @carol @dan "both"', "Name one person to thank"),
        ("kudos @carol", "Say what it is about, in quotes."),
        ('kudos @bob "me"', "Kudos are for someone else"),
    ],
)
async def test_what_wins_and_kudos_refuse(bot: ConsoleBot, line: str, sentence: str) -> None:
    await community(bot)
    assert sentence in await bot.say(line, as_="bob")


async def test_wins_and_kudos_are_for_members(bot: ConsoleBot) -> None:
    await community(bot)
    assert (await bot.say('win "x"', as_="carol")).startswith(
        "Join “DS” first to use `win`: `join` in its channel."
    )
    assert (await bot.say('kudos @bob "x"', as_="carol")).startswith("Join “DS” first")


# Onboarding ------------------------------------------------------------------------------


def joined(user: str, channel: str = "ds", event_id: str | None = None) -> MemberJoined:
    return MemberJoined(origin=translate.origin(user, channel), event_id=event_id)


def pressed(user: str, action: str, value: str) -> ButtonPressed:
    return ButtonPressed(
        origin=translate.origin(user, "ds", direct=True), action=action, value=value
    )


async def test_a_newcomer_is_welcomed_once_by_direct_message(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    assert await core.router.handle(joined("carol", event_id="J1")) == []
    [welcome] = [line for line in bot.lines if line.startswith("[to @carol (direct message)]")]
    assert "Welcome to DS, a Community of Practice of 2 in ds!" in welcome
    assert "Domain:   Machine learning" in welcome and "Mission:  Share patterns" in welcome
    assert "Stewards: @alice" in welcome and "To take part: join the community" in welcome
    before = len(bot.lines)
    await core.router.handle(joined("carol", event_id="J1"))  # redelivered
    await core.router.handle(joined("carol", event_id="J2"))  # left and came back
    await core.router.handle(joined("carol", channel="elsewhere"))  # no community there
    assert bot.lines[before:] == []
    async with core.database.session() as session:
        welcomes = (await session.exec(select(Welcome))).all()
    assert [w.user_id for w in welcomes] == ["carol"]


class Captured:
    """Stands in for the console's outbound side, keeping the replies themselves."""

    platform = translate.PLATFORM

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def send(self, reply: Reply) -> MessageRef:
        self.sent.append(reply)
        assert reply.to is not None
        where = reply.to.channel or "@" + str(reply.to.user)
        return MessageRef(platform="console", workspace="local", channel=where, message_id="m")

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        self.sent.append(reply)

    async def delete(self, ref: MessageRef) -> None:
        pass


async def test_the_welcome_offers_to_join_and_a_peer_mentor(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    captured = Captured()
    core.outbox.register(captured)
    await core.router.handle(joined("carol"))
    [welcome] = captured.sent
    assert welcome.kind == "welcome" and welcome.visibility is Visibility.DIRECT
    assert welcome.to is not None and welcome.to.user == "carol"
    join, mentor = welcome.buttons
    assert (join.label, join.action, join.style) == (
        "Join the community",
        "onboard_join",
        "primary",
    )
    assert (mentor.label, mentor.action) == ("Pair me with a peer mentor", "onboard_mentor")
    assert join.value == mentor.value and join.value.isdigit()

    # Pressed in the DM, where there is no community: the button names it.
    [confirmed] = await core.router.handle(pressed("carol", "onboard_join", join.value))
    assert confirmed.kind == "welcome_joined"
    text = Renderer("text").text(confirmed.kind, confirmed.data)
    assert text.startswith("You joined DS; you're one of 3 now.")
    [announced] = captured.sent[1:]
    assert announced.kind == "joined" and announced.to is not None
    assert (announced.to.channel, announced.to.user) == ("ds", None)
    assert (await members_of(core))["carol"] == "member"
    [again] = await core.router.handle(pressed("carol", "onboard_join", join.value))
    assert again.kind == "error" and again.data["error"] == "already_member"

    [wish] = await core.router.handle(pressed("carol", "onboard_mentor", mentor.value))
    assert wish.kind == "mentor_requested" and wish.data["again"] is False
    [twice] = await core.router.handle(pressed("carol", "onboard_mentor", mentor.value))
    assert twice.data["again"] is True
    async with core.database.session() as session:
        wishes = (await session.exec(select(MentorRequest))).all()
    assert [w.user_id for w in wishes] == ["carol"]
    assert ("mentor.requested", "carol") in await actions(core)

    # A member joining the channel is welcomed without the join button; a value naming a
    # community of another workspace does nothing.
    await core.router.handle(joined("bob"))
    assert [b.action for b in captured.sent[-1].buttons] == ["onboard_mentor"]
    foreign = dataclasses.replace(
        pressed("dan", "onboard_join", join.value),
        origin=dataclasses.replace(translate.origin("dan", "ds", direct=True), workspace="x"),
    )
    assert await core.router.handle(foreign) == []
    assert await core.router.handle(pressed("dan", "onboard_join", "abc")) == []


async def test_stewards_write_the_welcome_with_placeholders(core: Core, bot: ConsoleBot) -> None:
    await community(bot)
    saved = await bot.say(
        'onboarding edit "Hi! {name} is about {domain}; {mission}. Ask {stewards}. {{braces}}"',
        as_="alice",
    )
    assert saved.startswith("Saved the welcome of DS.")
    assert "Hi! DS is about Machine learning; Share patterns. Ask @alice. {braces}" in saved
    preview = await bot.say("onboarding preview", as_="alice")
    assert preview.startswith("This is the welcome newcomers to DS get by direct message:")
    await core.router.handle(joined("carol"))
    assert "Hi! DS is about Machine learning" in bot.lines[-1]
    assert ("onboarding.edited", "alice") in await actions(core)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            '"Hi {nme}"',
            "`{nme}` is not a placeholder; use `{name}`, `{domain}`, `{mission}`, `{stewards}`.",
        ),
        ('"Hi {name!r}"', "`{name!r}` is not a placeholder"),
        ('"Hi {name:>30}"', "`{name:>30}` is not a placeholder"),
        ('"Hi {name.__class__}"', "`{name.__class__}` is not a placeholder"),
        ('"Hi {}"', "`{}` is not a placeholder"),
        ('"Hi {name"', "A brace is not closed: a placeholder is a word in braces, like `{name}`"),
        ('"Hi }"', "A brace is not closed: a placeholder is a word in braces, like `{name}`"),
        ('""', "Give the welcome text, in quotes."),
        ('"' + "x" * 2001 + '"', "That welcome is too long (at most 2000 characters)."),
    ],
)
async def test_what_a_welcome_text_refuses(bot: ConsoleBot, text: str, sentence: str) -> None:
    await community(bot)
    assert sentence in await bot.say("onboarding edit " + text, as_="alice")


async def test_only_stewards_change_or_preview_the_welcome(bot: ConsoleBot) -> None:
    await community(bot)
    assert await bot.say("onboarding preview", as_="bob") == ("Only stewards can use `onboarding`.")
    assert "Say `onboarding edit" in await bot.say("onboarding", as_="alice")
