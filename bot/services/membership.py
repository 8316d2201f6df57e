"""Membership: joining, leaving, roles, expertise and the directory of who knows what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin, UserRef
from bot.services.activity import record
from bot.services.locks import lock_active_community, share_active_community
from bot.text import clean_origin, one_line
from bot.vocabulary import ROLE_PHRASES, SKILL_LENGTH_MAX, SKILLS_MAX
from storage.database import Database
from storage.models import (
    DISPLAY_NAME_SORT_SQL,
    ROLE_RANK_SQL,
    Community,
    Expertise,
    ExpertiseTerm,
    Member,
    Role,
    Workspace,
)
from storage.search_terms import normalised, terms_of

# A page of the directory, and how many people `who` names at most: every read is bounded.
DIRECTORY_PAGE = 20
WHO_PEOPLE = 20
# Rows `who` reads for those people (a person may match in several communities or skills).
WHO_ROWS = 100
# The communities a person's home view lists as theirs.
HOME_COMMUNITIES = 50


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
class DirectoryPage:
    """One page of a community's directory; `total` counts every member it pages through."""

    listings: tuple[Listing, ...]
    total: int
    page: int
    more: bool


@dataclass(frozen=True, kw_only=True)
class Found:
    """The people `who` found, at most `WHO_PEOPLE`; `more` when others matched too."""

    listings: tuple[Listing, ...]
    more: bool


@dataclass(frozen=True, kw_only=True)
class Joined:
    """A join: the membership, and how many active members the community has with it
    (counted in the join's own transaction)."""

    member: Member
    member_count: int


@dataclass(frozen=True, kw_only=True)
class RoleChange:
    member: Member
    previous: str


@dataclass(frozen=True, kw_only=True)
class Departure:
    """What `leave` did: promoted a successor, archived the community (the last member left),
    or nothing yet, as leaving would archive it and needs confirming."""

    community: Community
    successor: Member | None = None
    archived: bool = False
    needs_confirmation: bool = False


def skill_tag(label: str) -> str:
    """The form of a skill `who` searches (lower case; "ß" becomes "ss")."""
    return label.casefold()


def add_terms(session: AsyncSession, community: Community, expertise: Expertise) -> None:
    """Make a saved skill findable by `who` (its normalised terms, one row each)."""
    assert expertise.id is not None and community.id is not None
    for term in sorted(terms_of(expertise.tag)):
        session.add(
            ExpertiseTerm(
                expertise_id=expertise.id,
                workspace_id=community.workspace_id,
                community_id=community.id,
                term=term,
            )
        )


def split_skills(text: str) -> list[str]:
    """`"Python, SQL ,ml"` -> `["Python", "SQL", "ml"]`, without duplicates."""
    seen: dict[str, str] = {}
    for raw in text.split(","):
        label = one_line(raw)
        if not label:
            continue
        # Lower case can be longer ("ﬃ" is "ffi"), and the tag has to fit too.
        if max(len(label), len(skill_tag(label))) > SKILL_LENGTH_MAX:
            raise UserError("skill_too_long", skill=label[:20], limit=SKILL_LENGTH_MAX)
        seen.setdefault(skill_tag(label), label)
    if len(seen) > SKILLS_MAX:
        raise UserError("too_many_skills", limit=SKILLS_MAX)
    return list(seen.values())


async def steward_count(session: AsyncSession, community: Community) -> int:
    """How many active stewards `community` has."""
    query = select(func.count(col(Member.id))).where(
        Member.community_id == community.id, Member.role == Role.STEWARD, col(Member.active)
    )
    return (await session.exec(query)).one()


# Built once, their values bound per call: building a statement costs more than running it.
_MEMBER_COUNT = select(func.count(col(Member.id))).where(
    Member.community_id == bindparam("community"), col(Member.active)
)
_MEMBERSHIP = select(Member).where(
    Member.community_id == bindparam("community"), Member.user_id == bindparam("user")
)


async def membership_of(session: AsyncSession, community: Community, user_id: str) -> Member | None:
    """`user_id`'s row in `community`, active or not (None if they never joined)."""
    params = {"community": community.id, "user": user_id}
    return (await session.exec(_MEMBERSHIP, params=params)).first()


async def member_count(session: AsyncSession, community: Community) -> int:
    """How many active members `community` has."""
    return (await session.exec(_MEMBER_COUNT, params={"community": community.id})).one()


async def enrol(
    session: AsyncSession, community: Community, origin: Origin, role: Role, now: datetime
) -> Member:
    """Make `origin.user` an active member in `role`: a new membership, or their old one
    taken up again (one row per person and community)."""
    origin = clean_origin(origin)
    member = await membership_of(session, community, origin.user)
    return enrolled(session, member, community, origin, role, now)


def enrolled(
    session: AsyncSession,
    member: Member | None,
    community: Community,
    origin: Origin,
    role: Role,
    now: datetime,
) -> Member:
    """`member` (the person's row in `community`, None if they never joined) made active in
    `role`, added to the session."""
    origin = clean_origin(origin)
    assert community.id is not None
    if member is None:
        member = Member(
            community_id=community.id,
            user_id=origin.user,
            display_name=origin.display_name,
            role=role,
            joined_at=now,
        )
    else:
        if not member.active:
            member.joined_at, member.left_at = now, None
        member.active, member.role = True, role
        if origin.user_name:
            member.display_name = origin.user_name
    session.add(member)
    return member


# The directory's order, spelled as the index `ix_members_directory` spells it.
_RANK: ColumnElement[int] = literal_column(ROLE_RANK_SQL, Integer())
_SORT_NAME: ColumnElement[str] = literal_column(DISPLAY_NAME_SORT_SQL, String())
_RANK_OF = {role: rank for rank, role in enumerate(Role)}


def _listed(by_role: bool) -> list[ColumnElement[bool]]:
    """Who the directory lists: a community's active members (of one role, by its rank), a
    range of `ix_members_directory` (`= true`: PostgreSQL's index cannot serve `IS TRUE`)."""
    where: list[ColumnElement[bool]] = [
        col(Member.community_id) == bindparam("community"),
        col(Member.active) == true(),
    ]
    if by_role:
        where.append(bindparam("rank") == _RANK)
    return where


def _directory(by_role: bool) -> Select[Any]:
    """A page of the directory in one statement: the page, read in order from the index,
    joined to its members' skills, with the count of all it lists (from the index alone)."""
    people = (
        select(col(Member.id).label("id"), Member.user_id, Member.display_name, Member.role)
        .add_columns(_RANK.label("rank"), _SORT_NAME.label("sort_name"))
        .where(*_listed(by_role))
        # With one role, its rank is fixed: ordered by name, the index serves it as it is.
        .order_by(*(() if by_role else (_RANK,)), _SORT_NAME, col(Member.id))
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .cte("page")
    )
    total = select(func.count()).select_from(Member).where(*_listed(by_role))
    return (
        select(people.c.id, people.c.user_id, people.c.display_name, people.c.role)
        .add_columns(total.scalar_subquery().label("total"), col(Expertise.label))
        .join_from(people, Expertise, col(Expertise.member_id) == people.c.id, isouter=True)
        .order_by(people.c.rank, people.c.sort_name, people.c.id, col(Expertise.id))
    )


# Built once (with and without a role filter): building a statement costs more than running it.
_DIRECTORY = {by_role: _directory(by_role) for by_role in (False, True)}


class MembershipService:
    """Owns who belongs to a community and in which role."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def join(self, community: Community, origin: Origin) -> Joined:
        """Join: a short write transaction under a shared lock on the community, so that
        joins run side by side (on PostgreSQL; SQLite takes writers in turn). The count for
        the answer is read in the same transaction, not in a session of its own."""
        now, name = self._clock.now(), community.name
        try:
            async with self._database.session(write=True) as session:
                community = await share_active_community(session, community.id)
                member = await self._any(session, community, clean_origin(origin).user)
                if member is not None and member.active:
                    raise UserError("already_member", community=community.name)
                member = enrolled(session, member, community, origin, Role.MEMBER, now)
                record(session, community, origin.user, "member.joined", now)
                await session.flush()
                return Joined(member=member, member_count=await member_count(session, community))
        except IntegrityError:  # the same person joined meanwhile, from another request
            raise UserError("already_member", community=name) from None

    async def leave(
        self,
        community: Community,
        origin: Origin,
        successor: UserRef | None = None,
        *,
        confirm: bool = False,
    ) -> Departure:
        """Leave. The last steward names a successor, who becomes steward; the last member
        archives the community, once `confirm`ed."""
        now = self._clock.now()
        async with self._database.session(write=True) as session:
            community = await lock_active_community(session, community.id)
            member = await self._active(session, community, origin.user)
            if member is None:
                raise UserError("not_member", community=community.name)
            if await member_count(session, community) == 1:
                if successor is not None:
                    if successor.id == origin.user:
                        raise UserError("successor_is_self", usage="leave")
                    raise UserError("successor_not_member", who=successor.label)
                if not confirm:
                    return Departure(community=community, needs_confirmation=True)
                self._depart(session, community, member, now)
                community.archived_at = now
                session.add(community)
                record(session, community, origin.user, "community.archived", now)
                return Departure(community=community, archived=True)
            promoted: Member | None = None
            if member.role == Role.STEWARD and await steward_count(session, community) == 1:
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
            self._depart(session, community, member, now)
            return Departure(community=community, successor=promoted)

    @staticmethod
    def _depart(session: AsyncSession, community: Community, member: Member, now: datetime) -> None:
        member.active, member.left_at = False, now
        session.add(member)
        record(session, community, member.user_id, "member.left", now)

    async def set_role(
        self, community: Community, actor: Origin, target: UserRef, role: Role
    ) -> RoleChange:
        now = self._clock.now()
        async with self._database.session(write=True) as session:
            community = await lock_active_community(session, community.id)
            # The router saw a steward; a concurrent change may have made them something else.
            acting = await self._active(session, community, actor.user)
            if acting is None or acting.role != Role.STEWARD:
                raise UserError("no_longer_steward", community=community.name)
            member = await self._active(session, community, target.id)
            if member is None:
                raise UserError("target_not_member", who=target.label, community=community.name)
            previous = member.role
            if previous == role:
                raise UserError(
                    "already_has_role", who=member.display_name, role=ROLE_PHRASES[role]
                )
            if previous == Role.STEWARD and await steward_count(session, community) == 1:
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
        async with self._database.session(write=True) as session:
            community = await lock_active_community(session, community.id)
            member = await self._active(session, community, origin.user)
            if member is None:
                raise UserError("join_first", usage="join", community=community.name)
            assert member.id is not None
            owned = select(Expertise.id).where(col(Expertise.member_id) == member.id)
            await session.exec(
                delete(ExpertiseTerm).where(col(ExpertiseTerm.expertise_id).in_(owned))
            )
            await session.exec(delete(Expertise).where(col(Expertise.member_id) == member.id))
            saved = [Expertise(member_id=member.id, tag=skill_tag(x), label=x) for x in skills]
            session.add_all(saved)
            await session.flush()
            for expertise in saved:
                add_terms(session, community, expertise)
            record(
                session,
                community,
                origin.user,
                "member.skills",
                now,
                count=len(skills),
            )
            return skills

    async def directory(
        self, community: Community, role: Role | None = None, *, page: int = 1
    ) -> DirectoryPage:
        """A page of active members, stewards first then by name, each with their expertise
        and how many there are in all: one bounded statement (the page read in order from
        `ix_members_directory`, joined to its skills; the count from the index)."""
        page = max(page, 1)
        query = _DIRECTORY[role is not None]
        params = {
            "community": community.id,
            "rank": None if role is None else _RANK_OF.get(role),
            "offset": (page - 1) * DIRECTORY_PAGE,
            "limit": DIRECTORY_PAGE + 1,
        }
        async with self._database.read() as session:
            # Core rows, without the ORM's result processing: nothing here is an entity.
            rows = (await (await session.connection()).execute(query, params)).all()
            total = rows[0].total if rows else 0
            if not rows and page > 1:  # past the end: the count alone
                count = select(func.count(col(Member.id))).where(*_listed(role is not None))
                total = (await (await session.connection()).execute(count, params)).scalar_one()
        found: dict[int, tuple[str, str, str, list[str]]] = {}
        for member_id, user_id, name, role_, _, label in rows:
            _, _, _, skills = found.setdefault(member_id, (user_id, name, role_, []))
            if label is not None:
                skills.append(label)
        listings = tuple(
            Listing(user_id=user_id, display_name=name, role=role_, skills=tuple(skills))
            for user_id, name, role_, skills in found.values()
        )
        return DirectoryPage(
            listings=listings[:DIRECTORY_PAGE],
            total=int(total),
            page=page,
            more=len(listings) > DIRECTORY_PAGE,
        )

    async def who(self, origin: Origin, community: Community | None, topic: str) -> Found:
        """Active members whose expertise has `topic` as a term, in `community` or else in
        every active community of the caller's workspace (an index range, read up to a limit)."""
        needle = normalised(topic)
        if not needle:
            return Found(listings=(), more=False)
        query = (
            select(Member.user_id, Member.display_name, Member.role, Expertise.label)
            .select_from(ExpertiseTerm)
            .join(Expertise, col(Expertise.id) == ExpertiseTerm.expertise_id)
            .join(Member, col(Member.id) == Expertise.member_id)
            .join(Community, col(Community.id) == ExpertiseTerm.community_id)
            .where(
                ExpertiseTerm.term == needle,
                col(Member.active),
                col(Community.archived_at).is_(None),
            )
            .order_by(col(ExpertiseTerm.id))
            .limit(WHO_ROWS)
        )
        if community is not None:
            query = query.where(ExpertiseTerm.community_id == community.id)
        else:
            workspace = select(Workspace.id).where(
                Workspace.platform == origin.platform, Workspace.external_id == origin.workspace
            )
            query = query.where(col(ExpertiseTerm.workspace_id) == workspace.scalar_subquery())
        async with self._database.read() as session:
            rows = (await session.exec(query)).all()
        people = _group(rows)
        ranked = sorted(
            people,
            key=lambda x: (
                -any(normalised(s) == needle for s in x.skills),
                x.display_name.casefold(),
            ),
        )
        more = len(people) > WHO_PEOPLE or len(rows) == WHO_ROWS
        return Found(listings=tuple(ranked[:WHO_PEOPLE]), more=more)

    async def memberships(self, origin: Origin) -> list[tuple[Community, Member]]:
        """The caller's active memberships in their workspace's active communities, by name
        (at most `HOME_COMMUNITIES`, read through the index on members' user ids)."""
        query = (
            select(Community, Member)
            .join(Member, col(Member.community_id) == Community.id)
            .join(Workspace, col(Workspace.id) == Community.workspace_id)
            .where(
                Member.user_id == origin.user,
                col(Member.active),
                Workspace.platform == origin.platform,
                Workspace.external_id == origin.workspace,
                col(Community.archived_at).is_(None),
            )
            .order_by(col(Community.name_key))
            .limit(HOME_COMMUNITIES)
        )
        async with self._database.read() as session:
            return [(c, m) for c, m in await session.exec(query)]

    async def communities_of(self, community_ids: list[int], user_id: str) -> dict[int, Member]:
        """The user's active memberships among `community_ids`, by community id."""
        async with self._database.read() as session:
            query = select(Member).where(
                col(Member.community_id).in_(community_ids),
                Member.user_id == user_id,
                col(Member.active),
            )
            return {m.community_id: m for m in await session.exec(query)}

    @staticmethod
    async def _any(session: AsyncSession, community: Community, user_id: str) -> Member | None:
        return await membership_of(session, community, user_id)

    async def _active(
        self, session: AsyncSession, community: Community, user_id: str
    ) -> Member | None:
        member = await self._any(session, community, user_id)
        return member if member is not None and member.active else None
