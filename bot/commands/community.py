"""Commands about a community itself: `setup`, `about` and `communities`."""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands.reply_data import community_data, member_data
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import Origin
from bot.handlers import EventHandlers
from bot.replies import Button, Form, Reply, Visibility
from bot.services.communities import CharterChange, CommunityService
from bot.services.membership import MembershipService
from bot.vocabulary import FIELD_LIMITS, KIND_LABELS, SETUP_OPTIONS
from messages.commands import command_text


class CommunityCommands:
    def __init__(self, communities: CommunityService, membership: MembershipService) -> None:
        self._communities = communities
        self._membership = membership

    def register(self, handlers: EventHandlers) -> None:
        handlers.on_form("setup", self.submit_setup)

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="setup",
                handler=self.setup,
                aliases=("charter",),
            ),
            CommandSpec(
                name="about",
                handler=self.about,
                needs_community=True,
            ),
            CommandSpec(
                name="communities",
                handler=self.communities,
                scoped=False,
            ),
        ]

    async def setup(self, inv: Invocation) -> Reply:
        command, origin = inv.command, inv.origin
        if origin.is_direct:
            raise UserError("run_in_channel", usage="setup", command="setup")
        unknown = sorted(set(command.options) - set(SETUP_OPTIONS))
        if unknown:
            raise UserError("option_unknown", usage="setup", command="setup", option=unknown[0])
        if not command.args and not command.options:
            current = inv.community
            values = (
                {
                    "name": current.name,
                    "kind": current.kind,
                    "domain": current.domain,
                    "mission": current.mission,
                }
                if current
                else {}
            )
            return Reply(
                kind="setup_form",
                data={
                    "values": values,
                    "usage": command_text("setup").usage,
                    "kinds": [{"value": k, "label": label} for k, label in KIND_LABELS.items()],
                    "limits": dict(FIELD_LIMITS),
                },
                form=Form(name="setup", values=values),
            )
        if command.users or len(command.words) > 1:
            raise UserError("name_needs_quotes", usage="setup")
        name = command.words[0] if command.words else command.options.get("name")
        change = CharterChange(
            name=name,
            kind=command.options.get("kind"),
            domain=command.options.get("domain"),
            mission=command.options.get("mission"),
            timezone=command.options.get("timezone"),
        )
        return await self._apply(origin, change)

    async def submit_setup(self, origin: Origin, values: Mapping[str, str]) -> Reply:
        """The setup form (a Slack modal, a Teams card): every field is submitted."""
        change = CharterChange(
            name=values.get("name"),
            kind=values.get("kind") or None,
            domain=values.get("domain", ""),
            mission=values.get("mission", ""),
        )
        return await self._apply(origin, change)

    async def _apply(self, origin: Origin, change: CharterChange) -> Reply:
        """Set up or update the charter and announce it in the channel."""
        result = await self._communities.setup(origin, change)
        charter = await self._communities.charter(result.community)
        return Reply(
            kind="charter",
            data={
                "community": community_data(charter.community),
                "stewards": [member_data(m) for m in charter.stewards],
                "member_count": charter.member_count,
                "headline": "created" if result.created else "updated",
            },
            visibility=Visibility.CHANNEL,
            buttons=(Button(label="Join", action="command", value="join", style="primary"),),
        )

    async def about(self, inv: Invocation) -> Reply:
        charter = await self._communities.charter(inv.require_community())
        buttons = (
            ()
            if inv.caller
            else (Button(label="Join", action="command", value="join", style="primary"),)
        )
        return Reply(
            kind="charter",
            data={
                "community": community_data(charter.community),
                "stewards": [member_data(m) for m in charter.stewards],
                "member_count": charter.member_count,
                "headline": "about",
            },
            buttons=buttons,
        )

    async def communities(self, inv: Invocation) -> Reply:
        found = await self._communities.in_workspace(inv.origin)
        ids = [c.id for c, _ in found if c.id is not None]
        mine = await self._membership.communities_of(ids, inv.origin.user)
        return Reply(
            kind="communities",
            data={
                "communities": [
                    {**community_data(c), "size": size, "member": c.id in mine} for c, size in found
                ]
            },
        )
