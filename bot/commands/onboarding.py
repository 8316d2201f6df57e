"""Onboarding: the welcome someone gets by direct message when they join a community's
channel, its buttons (join, ask for a peer mentor), and `onboarding edit|preview`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.commands.reply_data import community_data, member_data
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import ButtonPressed, MemberJoined
from bot.handlers import EventHandlers
from bot.replies import Button, Destination, Reply, Visibility
from bot.services.communities import CommunityService
from bot.services.membership import MembershipService
from bot.services.onboarding import OnboardingService, parse_welcome
from storage.models import Community, Role

log = logging.getLogger(__name__)

JOIN_ACTION = "onboard_join"
MENTOR_ACTION = "onboard_mentor"


class OnboardingCommands:
    def __init__(
        self,
        onboarding: OnboardingService,
        communities: CommunityService,
        membership: MembershipService,
    ) -> None:
        self._onboarding = onboarding
        self._communities = communities
        self._membership = membership

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="onboarding",
                handler=self.onboarding,
                needs_community=True,
                roles=frozenset({Role.STEWARD}),
                aliases=("welcome",),
            )
        ]

    def register(self, handlers: EventHandlers) -> None:
        handlers.on_join(self.on_join)
        handlers.on_action(JOIN_ACTION, self.on_join_pressed)
        handlers.on_action(MENTOR_ACTION, self.on_mentor_pressed)

    async def onboarding(self, inv: Invocation) -> Sequence[Reply]:
        community = inv.require_community()
        words = inv.command.words
        action = words[0].lower() if words else ""
        if action == "edit" and len(words) >= 2:
            await self._onboarding.set_text(community, inv.origin, " ".join(words[1:]))
            saved = Reply(kind="onboarding_saved", data={"community": community_data(community)})
            return [saved, await self.welcome(community, preview=True)]
        if action == "preview" and len(words) == 1:
            return [await self.welcome(community, preview=True)]
        raise UserError("onboarding_what", usage="onboarding")

    async def welcome(
        self, community: Community, *, preview: bool = False, member: bool = False
    ) -> Reply:
        """The welcome: the stewards' text (or the standard one), the charter, how to take
        part, and buttons to join and to ask for a peer mentor."""
        charter = await self._communities.charter(community)
        text = await self._onboarding.text_of(community)
        segments = (
            [{"text": s.text, "field": s.field or ""} for s in parse_welcome(text)]
            if text is not None
            else None
        )
        value = str(community.id)
        mentor = Button(label="Pair me with a peer mentor", action=MENTOR_ACTION, value=value)
        join = Button(label="Join the community", action=JOIN_ACTION, value=value, style="primary")
        buttons = (mentor,) if member else (join, mentor)
        return Reply(
            kind="welcome",
            data={
                "community": community_data(community),
                "stewards": [member_data(m) for m in charter.stewards],
                "member_count": charter.member_count,
                "segments": segments,
                "preview": preview,
            },
            visibility=Visibility.USER if preview else Visibility.DIRECT,
            buttons=() if preview else buttons,
        )

    # Events ------------------------------------------------------------------------------

    async def on_join(self, event: MemberJoined) -> Reply | None:
        """Someone joined a community's channel: welcome them by DM, once per community."""
        origin = event.origin
        if origin.is_direct:
            return None
        community, member = await self._communities.where_and_who(origin)
        if community is None:
            return None
        if not await self._onboarding.first_welcome(community, origin):
            log.info("%s was welcomed to community %s before", origin.user, community.id)
            return None
        welcome = await self.welcome(community, member=member is not None)
        return welcome.addressed(Destination.direct(origin))

    async def on_join_pressed(self, event: ButtonPressed) -> list[Reply]:
        """ "Join the community", pressed in the welcome DM: the DM is not the community's
        channel, so the button names the community."""
        community = await self._pressed_for(event)
        if community is None:
            return []
        origin = event.origin
        joined = await self._membership.join(community, origin)
        in_channel = Destination(
            platform=origin.platform,
            workspace=origin.workspace,
            enterprise=origin.enterprise,
            channel=community.channel_id,
        )
        data = {
            "community": community_data(community),
            "member": member_data(joined.member),
            "member_count": joined.member_count,
        }
        return [
            Reply(kind="joined", data=data, visibility=Visibility.CHANNEL, to=in_channel),
            Reply(kind="welcome_joined", data=data),
        ]

    async def on_mentor_pressed(self, event: ButtonPressed) -> list[Reply]:
        """ "Pair me with a peer mentor": the wish is kept for the stewards."""
        community = await self._pressed_for(event)
        if community is None:
            return []
        first = await self._onboarding.wish_mentor(community, event.origin)
        return [
            Reply(
                kind="mentor_requested",
                data={"community": community_data(community), "again": not first},
            )
        ]

    async def _pressed_for(self, event: ButtonPressed) -> Community | None:
        if not event.value.isdigit():
            return None
        community = await self._onboarding.community_for(event.origin, int(event.value))
        if community is None:
            log.info("ignoring %s for community %s, unknown here", event.action, event.value)
        return community
