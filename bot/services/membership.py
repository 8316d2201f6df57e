"""Membership: joining, leaving, roles, expertise and the directory of who knows what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin, UserRef
from bot.services.activity import record
from bot.vocabulary import ROLE_LABELS, ROLES, SKILL_LENGTH_MAX, SKILLS_MAX
from storage.database import Database
from storage.models import Community, Expertise, Member, Role


@dataclass(frozen=True, kw_only=True)
class Listing:
    """A member with their expertise labels, for the directory."""

    user_id: str
    display_name: str
    role: str
    skills: tuple[str, ...]


def _group(rows: Sequence[tuple[str, str, str, str | None]]) -> list[Listing]:
    """(user, name, role, skill) rows, one per skill, into one listing per person
    (a person in several communities is listed once, with their skills merged)."""
    people: dict[str, tuple[str, str, list[str]]] = {}
    for user_id, name, role, label in rows:
        _, _, skills = people.setdefault(user_id, (name, role, []))
        if label is not None and label not in skills:
            skills.append(label)
    return [
        Listing(user_id=user_id, display_name=name, role=role, skills=tuple(skills))
        for user_id, (name, role, skills) in people.items()
    ]


@dataclass(frozen=True, kw_only=True)
class RoleChange:
    member: Member
    previous: str


def split_skills(text: str) -> list[str]:
    """`"Python, SQL ,ml"` -> `["Python", "SQL", "ml"]`, without duplicates."""
    seen: dict[str, str] = {}
    for raw in text.split(","):
        label = " ".join(raw.split())
        if not label:
            continue
        if len(label) > SKILL_LENGTH_MAX:
            raise UserError("skill_too_long", skill=label[:20], limit=SKILL_LENGTH_MAX)
        seen.setdefault(label.casefold(), label)
    if len(seen) > SKILLS_MAX:
        raise UserError("too_many_skills", limit=SKILLS_MAX)
    return list(seen.values())


class MembershipService:
    """Owns who belongs to a community and in which role."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def join(self, community: Community, origin: Origin) -> Member:
        now = self._clock.now()
        async with self._database.session() as session:
            member = await self._any(session, community, origin.user)
            if member is not None and member.active:
                raise UserError("already_member", community=community.name)
            if member is None:
                assert community.id is not None
                member = Member(
                    community_id=community.id,
                    user_id=origin.user,
                    display_name=origin.display_name,
                    joined_at=now,
                )
            else:
                member.active, member.role, member.left_at = True, Role.MEMBER, None
                member.joined_at = now
                if origin.user_name:
                    member.display_name = origin.user_name
            session.add(member)
            record(session, community, origin.user, "member.joined", now)
            return member

    async def leave(
        self, community: Community, origin: Origin, successor: UserRef | None = None
    ) -> Member | None:
        """Leave; the last steward must name a successor, who becomes steward.

        Returns the successor's membership when one was promoted."""
        now = self._clock.now()
        async with self._database.session() as session:
            member = await self._active(session, community, origin.user)
            if member is None:
                raise UserError("not_member", community=community.name)
            promoted: Member | None = None
            if member.role == Role.STEWARD and await self._steward_count(session, community) == 1:
                if successor is None:
                    raise UserError("last_steward_leaving", usage="leave")
                if successor.id == origin.user:
                    raise UserError("successor_is_self", usage="leave")
                promoted = await self._active(session, community, successor.id)
                if promoted is None:
                    raise UserError("successor_not_member", who=successor.label)
                promoted.role = Role.STEWARD
                session.add(promoted)
                record(
                    session,
                    community,
                    origin.user,
                    "member.role",
                    now,
                    target=successor.id,
                    role=Role.STEWARD,
                )
            member.active, member.left_at = False, now
            session.add(member)
            record(session, community, origin.user, "member.left", now)
            return promoted

    async def set_role(
        self, community: Community, actor: Origin, target: UserRef, role: Role
    ) -> RoleChange:
        now = self._clock.now()
        async with self._database.session() as session:
            member = await self._active(session, community, target.id)
            if member is None:
                raise UserError("target_not_member", who=target.label, community=community.name)
            previous = member.role
            if previous == role:
                raise UserError("already_has_role", who=member.display_name, role=ROLE_LABELS[role])
            if previous == Role.STEWARD and await self._steward_count(session, community) == 1:
                raise UserError("no_steward_left")
            member.role = role
            session.add(member)
            record(
                session,
                community,
                actor.user,
                "member.role",
                now,
                target=target.id,
                role=role,
                previous=previous,
            )
            return RoleChange(member=member, previous=previous)

    async def set_skills(
        self, community: Community, origin: Origin, skills: list[str]
    ) -> list[str]:
        now = self._clock.now()
        async with self._database.session() as session:
            member = await self._active(session, community, origin.user)
            if member is None:
                raise UserError("join_first", usage="join", community=community.name)
            await session.exec(delete(Expertise).where(col(Expertise.member_id) == member.id))
            for label in skills:
                assert member.id is not None
                session.add(Expertise(member_id=member.id, tag=label.casefold(), label=label))
            record(
                session,
                community,
                origin.user,
                "member.skills",
                now,
                count=len(skills),
            )
            return skills

    async def directory(self, community: Community, role: Role | None = None) -> list[Listing]:
        """Active members, stewards first, each with their expertise (one query)."""
        query = (
            select(Member.user_id, Member.display_name, Member.role, Expertise.label)
            .join(Expertise, col(Expertise.member_id) == Member.id, isouter=True)
            .where(Member.community_id == community.id, col(Member.active))
            .order_by(col(Member.id), col(Expertise.id))
        )
        if role is not None:
            query = query.where(Member.role == role)
        async with self._database.session() as session:
            rows = (await session.exec(query)).all()
        listings = _group(rows)
        order = {r: i for i, r in enumerate(ROLES)}
        return sorted(
            listings, key=lambda x: (order.get(Role(x.role), 9), x.display_name.casefold())
        )

    async def who(self, community_ids: list[int], topic: str) -> list[Listing]:
        """Active members whose expertise mentions `topic` (case-insensitive)."""
        needle = " ".join(topic.split()).casefold()
        if not needle:
            return []
        query = (
            select(Member.user_id, Member.display_name, Member.role, Expertise.label)
            .join(Expertise, col(Expertise.member_id) == Member.id)
            .where(col(Member.community_id).in_(community_ids), col(Member.active))
            .where(col(Expertise.tag).contains(needle, autoescape=True))
            .order_by(col(Member.id), col(Expertise.id))
        )
        async with self._database.session() as session:
            rows = (await session.exec(query)).all()
        return sorted(
            _group(rows),
            key=lambda x: (
                -any(s.casefold() == needle for s in x.skills),
                x.display_name.casefold(),
            ),
        )

    async def communities_of(self, community_ids: list[int], user_id: str) -> dict[int, Member]:
        """The user's active memberships among `community_ids`, by community id."""
        async with self._database.session() as session:
            query = select(Member).where(
                col(Member.community_id).in_(community_ids),
                Member.user_id == user_id,
                col(Member.active),
            )
            return {m.community_id: m for m in await session.exec(query)}

    @staticmethod
    async def _any(session: AsyncSession, community: Community, user_id: str) -> Member | None:
        query = select(Member).where(Member.community_id == community.id, Member.user_id == user_id)
        return (await session.exec(query)).first()

    async def _active(
        self, session: AsyncSession, community: Community, user_id: str
    ) -> Member | None:
        member = await self._any(session, community, user_id)
        return member if member is not None and member.active else None

    @staticmethod
    async def _steward_count(session: AsyncSession, community: Community) -> int:
        query = select(Member).where(
            Member.community_id == community.id, Member.role == Role.STEWARD, col(Member.active)
        )
        return len((await session.exec(query)).all())
