"""Commands about people: `join`, `leave`, `members`, `role`, `skills` and `who`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.community import confirmation
from bot.commands.reply_data import community_data, listing_data, member_data, user_data
from bot.commands.spec import CommandSpec, Invocation, page_option, show_more
from bot.errors import UserError
from bot.replies import Destination, Reply, Visibility
from bot.services.communities import CommunityService
from bot.services.membership import MembershipService, split_skills
from bot.vocabulary import CONFIRM_WORD, ROLE_NOUNS, ROLE_WORDS, ROLES, role_phrase
from storage.models import Role


def parse_role(word: str, usage: str) -> Role:
    """The role a word names; `usage` is the command to show when it names none."""
    role = ROLE_WORDS.get(word.lower())
    if role is None:
        raise UserError("role_unknown", usage=usage, word=word, roles=[str(r) for r in ROLES])
    return role


class MembershipCommands:
    def __init__(self, communities: CommunityService, membership: MembershipService) -> None:
        self._communities = communities
        self._membership = membership

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="join",
                handler=self.join,
                needs_community=True,
                words=False,
            ),
            CommandSpec(
                name="leave",
                handler=self.leave,
                needs_community=True,
                mentions=True,
            ),
            CommandSpec(
                name="members",
                handler=self.members,
                needs_community=True,
                aliases=("directory",),
                options=frozenset({"page"}),
            ),
            CommandSpec(
                name="role",
                handler=self.role,
                needs_community=True,
                roles=frozenset({Role.STEWARD}),
                mentions=True,
            ),
            CommandSpec(
                name="skills",
                handler=self.skills,
                needs_community=True,
                aliases=("expertise",),
            ),
            CommandSpec(
                name="who",
                handler=self.who,
            ),
        ]

    async def join(self, inv: Invocation) -> Reply:
        community = inv.require_community()
        joined = await self._membership.join(community, inv.origin)
        return Reply(
            kind="joined",
            data={
                "community": community_data(community),
                "member": member_data(joined.member),
                "member_count": joined.member_count,
            },
            visibility=Visibility.CHANNEL,
        )

    async def leave(self, inv: Invocation) -> Sequence[Reply]:
        community = inv.require_community()
        users, words = inv.command.users, inv.command.words
        confirm = words == (CONFIRM_WORD,)
        if len(users) > 1 or (words and not confirm):
            raise UserError("one_successor", usage="leave")
        departure = await self._membership.leave(
            community, inv.origin, users[0] if users else None, confirm=confirm
        )
        if departure.needs_confirmation:
            return [confirmation("leave", departure.community)]
        if departure.archived:
            return [
                Reply(
                    kind="archived",
                    data={
                        "community": community_data(departure.community),
                        "by": user_data(inv.origin.user, inv.origin.display_name),
                        "left": True,
                    },
                    visibility=Visibility.CHANNEL,
                )
            ]
        successor = departure.successor
        replies = [
            Reply(
                kind="left",
                data={
                    "community": community_data(community),
                    "successor": member_data(successor) if successor else None,
                },
            )
        ]
        if successor is not None:
            replies.append(
                self._role_notice(inv, successor.user_id, community_data(community), Role.STEWARD)
            )
        return replies

    async def members(self, inv: Invocation) -> Reply:
        community = inv.require_community()
        words = inv.command.words
        if len(words) > 1:
            raise UserError("one_role_filter", usage="members")
        role = parse_role(words[0], "members") if words else None
        page = page_option(inv.command, "members")
        found = await self._membership.directory(community, role, page=page)
        line = " ".join(("members", *words))
        return Reply(
            kind="members",
            data={
                "community": community_data(community),
                "role": role,
                "role_noun": ROLE_NOUNS[role or Role.MEMBER],
                "members": [listing_data(x) for x in found.listings],
                "total": found.total,
                "page": found.page,
                "more": f"{line} page={found.page + 1}" if found.more else None,
            },
            buttons=show_more(line, found.page) if found.more else (),
        )

    async def role(self, inv: Invocation) -> Sequence[Reply]:
        community = inv.require_community()
        users, words = inv.command.users, inv.command.words
        if len(users) != 1 or len(words) != 1:
            raise UserError("one_person_one_role", usage="role")
        role = parse_role(words[0], "role")
        change = await self._membership.set_role(community, inv.origin, users[0], role)
        data = community_data(community)
        return [
            Reply(
                kind="role_changed",
                data={
                    "community": data,
                    "member": member_data(change.member),
                    "previous": change.previous,
                    "previous_phrase": role_phrase(change.previous),
                    "by": user_data(inv.origin.user, inv.origin.display_name),
                },
                visibility=Visibility.CHANNEL,
            ),
            self._role_notice(inv, change.member.user_id, data, role),
        ]

    async def skills(self, inv: Invocation) -> Reply:
        text = " ".join(inv.command.words).strip()
        if not text:
            raise UserError("skills_missing", usage="skills")
        saved = await self._membership.set_skills(
            inv.require_community(), inv.origin, split_skills(text)
        )
        return Reply(
            kind="skills",
            data={"community": community_data(inv.require_community()), "skills": saved},
        )

    async def who(self, inv: Invocation) -> Reply:
        topic = inv.command.rest.strip()
        if not topic:
            raise UserError("topic_missing", usage="who")
        scope = inv.require_community() if inv.community is not None else None
        found = await self._membership.who(inv.origin, scope, topic)
        return Reply(
            kind="who",
            data={
                "topic": topic,
                "scope": community_data(inv.community) if inv.community else None,
                "members": [listing_data(x) for x in found.listings],
                "more": found.more,
            },
        )

    @staticmethod
    def _role_notice(
        inv: Invocation, user_id: str, community: dict[str, object], role: Role
    ) -> Reply:
        origin = inv.origin
        return Reply(
            kind="role_notice",
            data={
                "community": community,
                "role": role,
                "role_phrase": role_phrase(role),
                "by": user_data(origin.user, origin.display_name),
            },
            visibility=Visibility.DIRECT,
            to=Destination.direct(origin, user=user_id),
        )
