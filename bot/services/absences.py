"""Time away: a member's away periods in a community, which rotation and pairing pass over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin, UserRef
from bot.services.activity import record
from bot.services.rotation import names_in, replan_community
from bot.services.transactions import in_transaction
from rituals.absence import AwayPeriod, parse_away
from rituals.walltime import to_wall
from storage.database import Database
from storage.models import Absence, Community, Member


@dataclass(frozen=True, kw_only=True)
class Away:
    """One away period of one person, for listing."""

    user_id: str
    name: str
    first: date
    last: date


@dataclass(frozen=True, kw_only=True)
class AwayChange:
    """What `away` did: `period` set for `user_id`, or `ended` periods ended or dropped."""

    user_id: str
    name: str
    period: AwayPeriod | None = None
    ended: int = 0


class AbsenceService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def today(self, community: Community) -> date:
        """The date in the community's time zone (away periods are local dates)."""
        return to_wall(self._clock.now(), ZoneInfo(community.timezone)).date()

    async def set_away(
        self, community: Community, origin: Origin, who: UserRef, text: str
    ) -> AwayChange:
        """`who` is away on the days `text` names (first and last day, inclusive)."""
        period = parse_away(text, today=self.today(community))

        async def work(session: AsyncSession) -> AwayChange:
            member = await self._member(session, community, origin, who)
            assert community.id is not None
            same = await session.exec(
                select(Absence).where(
                    Absence.community_id == community.id,
                    Absence.user_id == who.id,
                    Absence.first_day == period.first,
                    Absence.last_day == period.last,
                )
            )
            if same.first() is None:
                session.add(
                    Absence(
                        community_id=community.id,
                        user_id=who.id,
                        first_day=period.first,
                        last_day=period.last,
                        set_by=origin.user,
                    )
                )
            now = self._clock.now()
            record(
                session,
                community,
                origin.user,
                "member.away",
                now,
                target=who.id,
                first=period.first.isoformat(),
                last=period.last.isoformat(),
            )
            await replan_community(session, community, now=now)
            return AwayChange(user_id=who.id, name=member.display_name, period=period)

        return await in_transaction(self._database, work)

    async def come_back(self, community: Community, origin: Origin, who: UserRef) -> AwayChange:
        """`who` is around again: a period under way ends yesterday, later ones are dropped."""
        today = self.today(community)

        async def work(session: AsyncSession) -> AwayChange:
            member = await self._member(session, community, origin, who)
            rows = (
                await session.exec(
                    select(Absence).where(
                        Absence.community_id == community.id,
                        Absence.user_id == who.id,
                        col(Absence.last_day) >= today,
                    )
                )
            ).all()
            if not rows:
                raise UserError("not_away", who=member.display_name)
            for row in rows:
                if row.first_day < today:
                    row.last_day = today - timedelta(days=1)
                    session.add(row)
                else:
                    await session.delete(row)
            now = self._clock.now()
            record(session, community, origin.user, "member.back", now, target=who.id)
            await replan_community(session, community, now=now)
            return AwayChange(user_id=who.id, name=member.display_name, ended=len(rows))

        return await in_transaction(self._database, work)

    async def listing(self, community: Community) -> list[Away]:
        """Everyone's away periods that have not ended, soonest first."""
        today = self.today(community)
        async with self._database.session() as session:
            assert community.id is not None
            rows = (
                await session.exec(
                    select(Absence)
                    .where(Absence.community_id == community.id, col(Absence.last_day) >= today)
                    .order_by(col(Absence.first_day), col(Absence.user_id))
                )
            ).all()
            names = await names_in(session, community.id)
        return [
            Away(
                user_id=row.user_id,
                name=names.get(row.user_id, row.user_id),
                first=row.first_day,
                last=row.last_day,
            )
            for row in rows
        ]

    @staticmethod
    async def _member(
        session: AsyncSession, community: Community, origin: Origin, who: UserRef
    ) -> Member:
        member = (
            await session.exec(
                select(Member).where(
                    Member.community_id == community.id,
                    Member.user_id == who.id,
                    col(Member.active),
                )
            )
        ).first()
        if member is None and who.id == origin.user:
            raise UserError("join_to_take_part", usage="join", community=community.name)
        if member is None:
            raise UserError("target_not_member", who=who.label, community=community.name)
        return member
