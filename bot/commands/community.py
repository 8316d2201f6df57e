"""Commands about a community itself: `setup`, `about` and `communities`."""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands.reply_data import community_data, member_data, user_data
from bot.commands.spec import CommandSpec, Invocation, page_option, show_more
from bot.errors import UserError
from bot.events import Origin
from bot.handlers import EventHandlers
from bot.parsing import ParsedCommand
from bot.replies import Button, Form, Reply, Visibility
from bot.services.communities import CharterChange, CommunityService
from bot.services.membership import MembershipService
from bot.vocabulary import CONFIRM_WORD, FIELD_LIMITS, KIND_LABELS, SETUP_OPTIONS
from messages.commands import command_text
from storage.models import Community, Role


def _one_name(command: ParsedCommand) -> str | None:
    """The name `setup` was given: one argument (quoted if it has spaces) or `name=`."""
    words = command.words
    for position, arg in enumerate(command.args):
        if isinstance(arg, str) and position not in command.quoted and arg.startswith("'"):
            raise UserError("single_quotes", usage="setup")
    if len(words) > 1:
        if command.quoted:
            raise UserError("one_name", usage="setup", names=list(words))
        raise UserError("name_needs_quotes", usage="setup")
    return words[0] if words else command.options.get("name")


def confirmation(command: str, community: Community) -> Reply:
    """A question before `command` archives `community`, with a button that confirms."""
    label = "Leave and archive" if command == "leave" else "Archive"
    return Reply(
        kind="confirm",
        data={"command": command, "community": community_data(community)},
        buttons=(
            Button(
                label=label,
                action="command",
                value=f"{command} {CONFIRM_WORD}",
                style="danger",
            ),
        ),
    )


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
                options=frozenset(SETUP_OPTIONS),
            ),
            CommandSpec(
                name="about",
                handler=self.about,
                needs_community=True,
                words=False,
            ),
            CommandSpec(
                name="communities",
                handler=self.communities,
                scoped=False,
                options=frozenset({"page"}),
                words=False,
            ),
            CommandSpec(
                name="archive",
                handler=self.archive,
                needs_community=True,
                roles=frozenset({Role.STEWARD}),
            ),
        ]

    async def setup(self, inv: Invocation) -> Reply:
        command, origin = inv.command, inv.origin
        if origin.is_direct:
            raise UserError("run_in_channel", usage="setup", command="setup")
        archived = inv.community is not None and inv.community.archived_at is not None
        if not command.args and not command.options and not archived:
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
        name = _one_name(command)
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
        """Set up, update or bring back the charter, and announce it in the channel."""
        result = await self._communities.setup(origin, change)
        charter = await self._communities.charter(result.community)
        headline = "created" if result.created else "restored" if result.restored else "updated"
        return Reply(
            kind="charter",
            data={
                "community": community_data(charter.community),
                "stewards": [member_data(m) for m in charter.stewards],
                "member_count": charter.member_count,
                "headline": headline,
                "by": user_data(origin.user, origin.display_name),
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

    async def archive(self, inv: Invocation) -> Reply:
        community = inv.require_community()
        words = inv.command.words
        if words and words != (CONFIRM_WORD,):
            raise UserError("confirm_only", usage="archive", command="archive")
        if not words:
            return confirmation("archive", community)
        archived = await self._communities.archive(community, inv.origin)
        return Reply(
            kind="archived",
            data={
                "community": community_data(archived),
                "by": user_data(inv.origin.user, inv.origin.display_name),
                "left": False,
            },
            visibility=Visibility.CHANNEL,
        )

    async def communities(self, inv: Invocation) -> Reply:
        found = await self._communities.in_workspace(
            inv.origin, page=page_option(inv.command, "communities")
        )
        ids = [c.id for c, _ in found.communities if c.id is not None]
        mine = await self._membership.communities_of(ids, inv.origin.user)
        more = f"communities page={found.page + 1}" if found.more else None
        return Reply(
            kind="communities",
            data={
                "communities": [
                    {**community_data(c), "size": size, "member": c.id in mine}
                    for c, size in found.communities
                ],
                "page": found.page,
                "more": more,
            },
            buttons=show_more("communities", found.page) if found.more else (),
        )
