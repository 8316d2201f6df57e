"""The home view: a person's communities, with quick actions for the ones they steward, and
their menu (`bot/commands/menu.py`) below."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands.reply_data import community_data
from bot.events import Origin
from bot.replies import Reply
from bot.services.communities import CommunityService
from bot.services.membership import MembershipService
from bot.vocabulary import role_label
from storage.models import Role

Menu = Callable[[Origin], Awaitable[Reply]]


class HomeView:
    def __init__(
        self,
        communities: CommunityService,
        membership: MembershipService,
        *,
        menu: Menu | None = None,
    ) -> None:
        self._communities = communities
        self._membership = membership
        self._menu = menu

    async def for_user(self, origin: Origin) -> Reply:
        """The person's communities and the first page of the others (bounded reads)."""
        mine = await self._membership.memberships(origin)
        first_page = await self._communities.in_workspace(origin)
        sizes = await self._communities.sizes([c.id for c, _ in mine if c.id is not None])
        joined = [
            {
                **community_data(community),
                "size": sizes.get(community.id or 0, 0),
                "role": member.role,
                "role_label": role_label(member.role),
                "steward": member.role == Role.STEWARD,
            }
            for community, member in mine
        ]
        theirs = {community.id for community, _ in mine}
        others = [
            {**community_data(community), "size": size}
            for community, size in first_page.communities
            if community.id not in theirs
        ]
        menu = await self._menu(origin) if self._menu is not None and joined else None
        return Reply(
            kind="home",
            data={
                "user": {"id": origin.user, "name": origin.display_name},
                "joined": joined,
                "others": others,
                "menu": dict(menu.data) if menu is not None else None,
            },
            buttons=menu.buttons if menu is not None else (),
        )
