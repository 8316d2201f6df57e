"""What a person's menu holds, per community of their workspace they belong to: for a steward
the next meetings with RSVP counts, facilitators not yet confirmed, open polls and library
drafts waiting; for anyone else the next meetings with their own answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select

from bot.events import Origin
from bot.services.library import LibraryService
from bot.services.membership import MembershipService
from bot.services.rituals import Meeting, RitualService
from bot.services.rotation import CORE_TEAM
from bot.services.rsvps import counts as rsvp_counts
from storage.database import Database
from storage.models import (
    Community,
    FacilitatorPool,
    Member,
    Poll,
    Resource,
    Ritual,
    Role,
    Rsvp,
)

MEETINGS_SHOWN = 4  # per community
COMMUNITIES_SHOWN = 8  # a menu stays short enough for one message


@dataclass(frozen=True, kw_only=True)
class CommunityMenu:
    """One community in a person's menu. `counts` and `mine` are by occurrence id."""

    community: Community
    member: Member
    meetings: Sequence[Meeting]
    names: dict[str, str]
    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    mine: dict[int, str] = field(default_factory=dict)
    rotating: Sequence[Ritual] = ()  # rituals whose facilitator rotates
    # Rotating rituals whose rotation does not have the person yet (core team and volunteers
    # are in it, unless they opted out).
    can_volunteer: Sequence[Ritual] = ()
    polls: Sequence[Poll] = ()
    drafts: Sequence[Resource] = ()

    @property
    def stewarded(self) -> bool:
        return self.member.role == Role.STEWARD

    @property
    def unconfirmed(self) -> list[Meeting]:
        """Coming meetings of rotating rituals whose facilitator has not confirmed."""
        return [
            m for m in self.meetings if m.ritual.rotate and not m.occurrence.facilitator_confirmed
        ]


class MenuService:
    """Reads a person's menu; only communities of the caller's own workspace or tenant."""

    def __init__(
        self,
        database: Database,
        membership: MembershipService,
        rituals: RitualService,
        library: LibraryService,
    ) -> None:
        self._database = database
        self._membership = membership
        self._rituals = rituals
        self._library = library

    async def for_user(self, origin: Origin) -> list[CommunityMenu]:
        """The caller's communities (stewarded ones first), each with what its menu shows."""
        joined = await self._membership.memberships(origin)  # active communities, by name
        joined.sort(key=lambda pair: pair[1].role != Role.STEWARD)
        return [
            await self._one(community, member, origin.user)
            for community, member in joined[:COMMUNITIES_SHOWN]
        ]

    async def _one(self, community: Community, member: Member, user: str) -> CommunityMenu:
        agenda = await self._rituals.agenda(community, MEETINGS_SHOWN)
        ids = [m.occurrence.id for m in agenda.meetings if m.occurrence.id is not None]
        rotating = [x.ritual for x in await self._rituals.listing(community) if x.ritual.rotate]
        steward = member.role == Role.STEWARD
        async with self._database.session() as session:
            counts = await rsvp_counts(session, ids) if steward else {}
            answers = await session.exec(
                select(Rsvp.occurrence_id, Rsvp.answer).where(
                    col(Rsvp.occurrence_id).in_(ids), Rsvp.user_id == user
                )
            )
            wishes = {
                row.ritual_id: row
                for row in await session.exec(
                    select(FacilitatorPool).where(
                        col(FacilitatorPool.ritual_id).in_([r.id for r in rotating]),
                        FacilitatorPool.user_id == user,
                    )
                )
            }
            polls = (
                await session.exec(
                    select(Poll)
                    .where(Poll.community_id == community.id, col(Poll.closed_at).is_(None))
                    .order_by(col(Poll.number))
                )
            ).all()
        return CommunityMenu(
            community=community,
            member=member,
            meetings=agenda.meetings,
            names=agenda.names,
            counts=counts,
            mine=dict(answers.all()),
            rotating=rotating,
            can_volunteer=[r for r in rotating if not _in_rotation(member, wishes.get(r.id or 0))],
            polls=polls if steward else (),
            drafts=await self._library.drafts_waiting(community) if steward else (),
        )


def _in_rotation(member: Member, wish: FacilitatorPool | None) -> bool:
    """Whether rotation may pick `member` (as `rotation.load_pool` reads it)."""
    if wish is not None and wish.opted_out:
        return False
    return member.role in CORE_TEAM or (wish is not None and wish.volunteered)
