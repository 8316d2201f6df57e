"""Real replies of every message kind, produced by running commands through the router."""

from __future__ import annotations

from bot.app import Core
from bot.clock import FixedClock
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    Origin,
)
from bot.replies import MessageRef, Reply
from tests.sample_deliveries import delivery_replies

PLATFORM = "sample"


class _Capture:
    platform = PLATFORM

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def send(self, reply: Reply) -> MessageRef:
        self.sent.append(reply)
        assert reply.to is not None
        return MessageRef(
            platform=PLATFORM,
            workspace=reply.to.workspace,
            channel=reply.to.channel or "D1",
            message_id=str(len(self.sent)),
        )

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        self.sent.append(reply)

    async def delete(self, ref: MessageRef) -> None:
        pass


def _origin(user: str, channel: str = "C1", *, direct: bool = False) -> Origin:
    return Origin(
        platform=PLATFORM,
        workspace="W1",
        channel=channel,
        channel_name="ds",
        user=user,
        user_name=user.title(),
        is_direct=direct,
    )


SCRIPT: tuple[tuple[str, str], ...] = (
    ("alice", "help"),
    ("alice", "help setup"),
    ("alice", "setup"),
    ("alice", 'setup "Data <Science> & Co" domain="ML *bold* `code`" mission="<!channel> hi"'),
    ("alice", "about"),
    ("bob", "join"),
    ("bob", "skills Python, <b>SQL</b>"),
    ("alice", "role <@bob|Bob> core"),
    ("alice", "members"),
    ("carol", "who python"),
    (
        "bob",
        'share https://Example.com/a/?utm_source=x "A <b>read</b> & *more*" #ml note="<!here>"',
    ),
    ("alice", "helpful #1"),
    ("alice", "library read #ml"),
    ("bob", 'save "Feature <stores> & more. See https://x.io/a for *details*. Stores rock."'),
    ("carol", "communities"),
    ("carol", "membrs"),
    ("alice", 'poll "Where <b>next</b>?" "Café & co" "*Roof*" closes=2d'),
    ("bob", "vote #1 2"),
    ("carol", "poll results #1"),
    ("bob", 'win "Shipped <!here> the *new* model"'),
    ("bob", 'kudos <@alice|Alice> "for the <b>demo</b>"'),
    ("alice", 'onboarding edit "Hi, welcome to {name} ({domain}): ask {stewards}."'),
    ("alice", "poll close #1"),
    ("carol", "ritual templates"),
    ("alice", 'ritual add deep-dive "Deep <b>dive</b> & *more*" where="<!channel> hi"'),
    ("alice", 'ritual add case-study "Retro_1" on 2026-03-02 at 12:00'),
    ("carol", "ritual list"),
    ("carol", "ritual show #1"),
    ("carol", "ritual next 3"),
    ("carol", "ritual feed"),
    ("bob", "rotation #1"),
    ("alice", "rotation #1 skip"),
    ("bob", "rotation #1 history"),
    ("bob", "away 2026-03-10 2026-03-12"),
    ("alice", "menu"),
    ("alice", "export"),
)
# Run once the clock has passed the one-off meeting above.
LATER: tuple[tuple[str, str], ...] = (
    ("alice", "ritual attended #2 <@bob|Bob> <@carol|Carol>"),
    ("alice", "stats days=30"),
    ("alice", "leave <@bob|Bob>"),
)
# After the home view: bob, now the only member, leaves and so archives the community.
DELIVERING: tuple[tuple[str, str], ...] = (
    ("alice", 'setup "Deliveries"'),
    ("bob", "join"),
    ("alice", "role <@bob|Bob> core"),
)
# In a community of its own: its only member leaving archives it.
CLOSING: tuple[tuple[str, str], ...] = (
    ("erin", 'setup "Closing time"'),
    ("erin", "leave"),
    ("erin", "leave confirm"),
)


async def collect_replies(core: Core) -> dict[str, Reply]:
    """The first reply of each kind a scripted session produces (kind -> reply)."""
    capture = _Capture()
    core.outbox.register(capture)
    found: dict[str, Reply] = {}
    for user, text in SCRIPT:
        for reply in await core.router.handle(CommandInvoked(origin=_origin(user), text=text)):
            found.setdefault(reply.kind, reply)
    for form in ("ritual_form", "poll_form"):  # the steward menu's form buttons
        pressed = ButtonPressed(origin=_origin("alice"), action="menu_form", value=form)
        for reply in await core.router.handle(pressed):
            found.setdefault(reply.kind, reply)
    assert isinstance(core.clock, FixedClock)
    core.clock.advance(hours=6)
    for user, text in LATER:
        for reply in await core.router.handle(CommandInvoked(origin=_origin(user), text=text)):
            found.setdefault(reply.kind, reply)
    for reply in await core.router.handle(HomeOpened(origin=_origin("bob", "D1", direct=True))):
        found.setdefault(reply.kind, reply)
    # Deliveries in a community of their own, whose rituals the script has not numbered.
    for user, text in DELIVERING:
        await core.router.handle(CommandInvoked(origin=_origin(user, "C7"), text=text))
    for reply in await delivery_replies(core, _origin("carol", "C7")):
        found.setdefault(reply.kind, reply)
    for user, text in CLOSING:
        closing = _origin(user, "C9")
        for reply in await core.router.handle(CommandInvoked(origin=closing, text=text)):
            found.setdefault(reply.kind, reply)
    await core.router.handle(
        FormSubmitted(
            origin=_origin("dan", "C2"), form="setup", values={"name": "Platform", "kind": "guild"}
        )
    )
    await core.router.handle(MemberJoined(origin=_origin("dan")))
    community, _ = await core.communities.where_and_who(_origin("dan"))
    assert community is not None
    for action in ("onboard_mentor", "onboard_join"):
        pressed = ButtonPressed(
            origin=_origin("dan", "D9", direct=True), action=action, value=str(community.id)
        )
        for reply in await core.router.handle(pressed):
            found.setdefault(reply.kind, reply)
    # A month on, the monthly digest reaches the stewards.
    core.clock.advance(days=31)
    await core.digests.run()
    for reply in capture.sent:
        found.setdefault(reply.kind, reply)
    # Data rights last: forgetting carol changes what the steps above would see.
    for text in ("forget me", "forget me confirm"):
        for reply in await core.router.handle(CommandInvoked(origin=_origin("carol"), text=text)):
            found.setdefault(reply.kind, reply)
    found["oops"] = Reply(kind="oops", data={"error_id": "abc123"})
    return found
