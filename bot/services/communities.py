"""Communities and their charters: set-up, lookup by channel, the workspace's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin
from bot.services.activity import record
from bot.services.locks import lock_active_community, lock_workspace
from bot.services.membership import enrol, member_count, steward_count
from bot.text import clean, clean_origin, one_line
from bot.vocabulary import FIELD_LABELS, FIELD_LIMITS, KINDS
from rituals.schedule import resolve_zone
from storage.database import Database
from storage.models import Community, CommunityKind, Member, Role, Workspace


@dataclass(frozen=True, kw_only=True)
class Charter:
    """A community with the people its charter names."""

    community: Community
    stewards: tuple[Member, ...]
    member_count: int


@dataclass(frozen=True, kw_only=True)
class CommunityPage:
    """One page of a workspace's active communities, by name, with their member counts."""

    communities: tuple[tuple[Community, int], ...]
    page: int
    more: bool


# Communities listed per page: the list is read a page at a time, whatever the workspace's size.
COMMUNITIES_PAGE = 20


@dataclass(frozen=True, kw_only=True)
class SetupResult:
    community: Community
    created: bool
    restored: bool = False  # an archived community was brought back


@dataclass(frozen=True, kw_only=True)
class CharterChange:
    """The fields a `setup` asks to set; None means "leave as it is"."""

    name: str | None = None
    kind: str | None = None
    domain: str | None = None
    mission: str | None = None
    timezone: str | None = None  # an IANA zone: rituals' default, and how times are shown

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (self.name, self.kind, self.domain, self.mission, self.timezone)
        )

    def validated(self) -> CharterChange:
        """The change cleaned (one line, but a mission may have several) and checked."""
        name = one_line(self.name) if self.name is not None else None
        if name is not None and not name:
            raise UserError("name_missing", usage="setup", field="name")
        kind = one_line(self.kind) if self.kind is not None else None
        if kind is not None and kind.lower() not in KINDS:
            raise UserError(
                "kind_unknown",
                usage="setup",
                field="kind",
                value=kind,
                kinds=[str(k) for k in KINDS],
            )
        domain = one_line(self.domain) if self.domain is not None else None
        mission = clean(self.mission, multiline=True).strip() if self.mission is not None else None
        # The name's key is checked too: lower case can be longer ("ß" is "ss").
        lengths = (
            ("name", max(len(name), len(name_key(name))) if name is not None else 0),
            ("domain", len(domain or "")),
            ("mission", len(mission or "")),
        )
        for field, length in lengths:
            if length > FIELD_LIMITS[field]:
                raise UserError(
                    "field_too_long",
                    field=field,
                    label=FIELD_LABELS[field],
                    limit=FIELD_LIMITS[field],
                )
        return CharterChange(
            name=name,
            kind=kind.lower() if kind is not None else None,
            domain=domain,
            mission=mission,
            timezone=resolve_zone(one_line(self.timezone)) if self.timezone is not None else None,
        )


def name_key(name: str) -> str:
    """The form of a name used to keep names unique in a workspace."""
    return " ".join(name.split()).casefold()


async def ensure_workspace(session: AsyncSession, origin: Origin, clock: Clock) -> Workspace:
    """The workspace row for `origin`, created on first sight."""
    query = select(Workspace).where(
        Workspace.platform == origin.platform, Workspace.external_id == origin.workspace
    )
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    workspace = Workspace(
        platform=origin.platform,
        external_id=origin.workspace,
        enterprise_id=origin.enterprise,
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(workspace)
    except IntegrityError:  # created meanwhile by a concurrent request
        return (await session.exec(query)).one()
    return workspace


async def find_workspace(session: AsyncSession, origin: Origin) -> Workspace | None:
    query = select(Workspace).where(
        Workspace.platform == origin.platform, Workspace.external_id == origin.workspace
    )
    return (await session.exec(query)).first()


async def _sizes(session: AsyncSession, community_ids: list[int]) -> dict[int, int]:
    if not community_ids:
        return {}
    query = (
        select(Member.community_id, func.count(col(Member.id)))
        .where(col(Member.community_id).in_(community_ids), col(Member.active))
        .group_by(col(Member.community_id))
    )
    return {community_id: int(n) for community_id, n in await session.exec(query)}


def _where_and_who() -> Select[Community, Member]:
    membership = (
        (col(Member.community_id) == Community.id)
        & (col(Member.user_id) == bindparam("user"))
        & col(Member.active)
    )
    return (
        select(Community, Member)
        .join(Workspace, col(Workspace.id) == Community.workspace_id)
        .join(Member, membership, isouter=True)
        .where(
            col(Workspace.platform) == bindparam("platform"),
            col(Workspace.external_id) == bindparam("workspace"),
            col(Community.channel_id) == bindparam("channel"),
        )
    )


# Built once: every command runs it, and building a statement costs more than running it.
_WHERE_AND_WHO = _where_and_who()


class CommunityService:
    """Creates and describes communities; every query is scoped to the caller's workspace."""

    def __init__(self, database: Database, clock: Clock, *, default_timezone: str = "UTC") -> None:
        self._database = database
        self._clock = clock
        self._default_timezone = default_timezone

    async def where_and_who(self, origin: Origin) -> tuple[Community | None, Member | None]:
        """The channel's community and the caller's active membership in it, in one query
        (every command needs both, so this is on the hot path)."""
        params = {
            "platform": origin.platform,
            "workspace": origin.workspace,
            "channel": origin.channel,
            "user": origin.user,
        }
        async with self._database.read() as session:
            found = (await session.exec(_WHERE_AND_WHO, params=params)).first()
        return (found[0], found[1]) if found is not None else (None, None)

    async def setup(self, origin: Origin, change: CharterChange) -> SetupResult:
        """Bind the channel to a new community, let a steward update its charter, or bring
        the channel's archived community back (anyone may; they become steward if none is
        left)."""
        change = change.validated()
        origin = clean_origin(origin)
        now = self._clock.now()
        async with self._database.session(write=True) as session:
            workspace = await ensure_workspace(session, origin, self._clock)
            assert workspace.id is not None
            # Set-ups in a workspace take turns: each checks the channel and the name is free.
            await lock_workspace(session, workspace.id)
            existing = (
                await session.exec(
                    select(Community)
                    .where(
                        Community.workspace_id == workspace.id,
                        Community.channel_id == origin.channel,
                    )
                    .with_for_update(key_share=True)
                )
            ).first()
            if change.name is not None:
                await self._check_name_free(session, workspace.id, change.name, existing)
            if existing is None:
                return SetupResult(
                    community=await self._create(session, workspace, origin, change, now),
                    created=True,
                )
            restored = existing.archived_at is not None
            if restored:
                existing.archived_at = None
                if await steward_count(session, existing) == 0:
                    await enrol(session, existing, origin, Role.STEWARD, now)
            if not restored or not change.is_empty:
                await self._require_steward(session, existing, origin)
            for attribute in ("name", "kind", "domain", "mission", "timezone"):
                value = getattr(change, attribute)
                if value is not None:
                    setattr(existing, attribute, value)
            existing.name_key = name_key(existing.name)
            if origin.channel_name:
                existing.channel_name = origin.channel_name
            session.add(existing)
            action = "community.restored" if restored else "community.updated"
            record(session, existing, origin.user, action, now)
            return SetupResult(community=existing, created=False, restored=restored)

    async def _create(
        self,
        session: AsyncSession,
        workspace: Workspace,
        origin: Origin,
        change: CharterChange,
        now: datetime,
    ) -> Community:
        if change.name is None:
            raise UserError("name_missing", usage="setup", field="name")
        assert workspace.id is not None
        community = Community(
            workspace_id=workspace.id,
            name=change.name,
            name_key=name_key(change.name),
            kind=change.kind or CommunityKind.COP,
            domain=change.domain or "",
            mission=change.mission or "",
            channel_id=origin.channel,
            channel_name=origin.channel_name,
            timezone=change.timezone or self._default_timezone,
            created_at=now,
        )
        session.add(community)
        await session.flush()
        await enrol(session, community, origin, Role.STEWARD, now)
        record(session, community, origin.user, "community.created", now, name=community.name)
        return community

    async def archive(self, community: Community, origin: Origin) -> Community:
        """Archive the community: its data is kept, and `setup` in its channel brings it back."""
        now = self._clock.now()
        async with self._database.session(write=True) as session:
            community = await lock_active_community(session, community.id)
            # The router saw a steward; a concurrent change may have made them something else.
            steward = (
                await session.exec(
                    select(Member).where(
                        Member.community_id == community.id,
                        Member.user_id == origin.user,
                        col(Member.active),
                        Member.role == Role.STEWARD,
                    )
                )
            ).first()
            if steward is None:
                raise UserError("no_longer_steward", community=community.name)
            community.archived_at = now
            session.add(community)
            record(session, community, origin.user, "community.archived", now)
            return community

    async def charter(self, community: Community) -> Charter:
        """The community with its stewards and a count of its members (two bounded reads,
        whatever its size: this runs on `about` and on every `join`)."""
        async with self._database.read() as session:
            count = await member_count(session, community)
            stewards = (
                await session.exec(
                    select(Member)
                    .where(
                        Member.community_id == community.id,
                        col(Member.active),
                        Member.role == Role.STEWARD,
                    )
                    .order_by(col(Member.joined_at), col(Member.id))
                )
            ).all()
        return Charter(community=community, stewards=tuple(stewards), member_count=count)

    async def in_workspace(self, origin: Origin, *, page: int = 1) -> CommunityPage:
        """A page of the caller's workspace's active communities, by name, with their active
        member counts (the page is read first, then counted: two bounded queries)."""
        page = max(page, 1)
        # The workspace as a scalar subquery, so that its communities are read in name order
        # straight from the (workspace, name) index (joined, PostgreSQL sorted all of them).
        workspace = select(Workspace.id).where(
            Workspace.platform == origin.platform, Workspace.external_id == origin.workspace
        )
        query = (
            select(Community)
            .where(
                col(Community.workspace_id) == workspace.scalar_subquery(),
                col(Community.archived_at).is_(None),
            )
            .order_by(col(Community.name_key))
            .offset((page - 1) * COMMUNITIES_PAGE)
            .limit(COMMUNITIES_PAGE + 1)
        )
        async with self._database.read() as session:
            found = (await session.exec(query)).all()
            shown = found[:COMMUNITIES_PAGE]
            sizes = await _sizes(session, [c.id for c in shown if c.id is not None])
        return CommunityPage(
            communities=tuple((c, sizes.get(c.id or 0, 0)) for c in shown),
            page=page,
            more=len(found) > COMMUNITIES_PAGE,
        )

    async def size(self, community: Community) -> int:
        """How many active members `community` has (a COUNT)."""
        async with self._database.read() as session:
            return await member_count(session, community)

    async def sizes(self, community_ids: list[int]) -> dict[int, int]:
        """Active member counts of a few communities (a page's), by community id."""
        async with self._database.read() as session:
            return await _sizes(session, community_ids)

    async def _check_name_free(
        self, session: AsyncSession, workspace_id: int, name: str, current: Community | None
    ) -> None:
        query = select(Community).where(
            Community.workspace_id == workspace_id, Community.name_key == name_key(name)
        )
        clash = (await session.exec(query)).first()
        if clash is not None and (current is None or clash.id != current.id):
            raise UserError(
                "name_taken", field="name", name=clash.name, channel_name=clash.channel_name
            )

    async def _require_steward(
        self, session: AsyncSession, community: Community, origin: Origin
    ) -> None:
        query = select(Member).where(
            Member.community_id == community.id,
            Member.user_id == origin.user,
            col(Member.active),
        )
        member = (await session.exec(query)).first()
        if member is None or member.role != Role.STEWARD:
            raise UserError("charter_not_yours", name=community.name)
