"""Communities and their charters: set-up, lookup by channel, the workspace's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin
from bot.services.activity import record
from bot.services.locks import lock_active_community, lock_workspace
from bot.services.membership import enrol, steward_count
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


class CommunityService:
    """Creates and describes communities; every query is scoped to the caller's workspace."""

    def __init__(self, database: Database, clock: Clock, *, default_timezone: str = "UTC") -> None:
        self._database = database
        self._clock = clock
        self._default_timezone = default_timezone

    async def where_and_who(self, origin: Origin) -> tuple[Community | None, Member | None]:
        """The channel's community and the caller's active membership in it, in one query
        (every command needs both, so this is on the hot path)."""
        membership = (
            (col(Member.community_id) == Community.id)
            & (Member.user_id == origin.user)
            & col(Member.active)
        )
        query = (
            select(Community, Member)
            .join(Workspace, col(Workspace.id) == Community.workspace_id)
            .join(Member, membership, isouter=True)
            .where(
                Workspace.platform == origin.platform,
                Workspace.external_id == origin.workspace,
                Community.channel_id == origin.channel,
            )
        )
        async with self._database.session() as session:
            found = (await session.exec(query)).first()
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
        async with self._database.session() as session:
            members = (
                await session.exec(
                    select(Member)
                    .where(Member.community_id == community.id, col(Member.active))
                    .order_by(col(Member.joined_at))
                )
            ).all()
        stewards = tuple(m for m in members if m.role == Role.STEWARD)
        return Charter(community=community, stewards=stewards, member_count=len(members))

    async def in_workspace(self, origin: Origin) -> list[tuple[Community, int]]:
        """Every community of the caller's workspace with its active member count."""
        async with self._database.session() as session:
            workspace = await find_workspace(session, origin)
            if workspace is None:
                return []
            size = func.count(col(Member.id)).label("size")
            query = (
                select(Community, size)
                .join(
                    Member,
                    (col(Member.community_id) == Community.id) & col(Member.active),
                    isouter=True,
                )
                .where(Community.workspace_id == workspace.id)
                .group_by(col(Community.id))
                .order_by(col(Community.name_key))
            )
            return [(community, int(count)) for community, count in await session.exec(query)]

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
