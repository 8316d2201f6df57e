"""RSVPs: one answer per person per meeting (a new answer replaces the old), and the counts.

An answer is one upsert on the unique (occurrence, user) key, so presses at the same moment,
by the same person or by many, leave exactly one row each on both databases."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin
from bot.services.activity import record
from bot.services.deliveries import ALIVE
from bot.services.occurrences import SCHEDULED
from storage.database import Database, insert_for
from storage.models import Community, Occurrence, Ritual, Rsvp, Workspace

ANSWERS = ("going", "maybe", "no")


@dataclass(frozen=True, kw_only=True)
class RsvpRecorded:
    """An answer as stored, with the meeting it is for and the counts after it."""

    answer: str
    occurrence: Occurrence
    ritual: Ritual
    community: Community
    counts: dict[str, int]


def no_answers() -> dict[str, int]:
    return dict.fromkeys(ANSWERS, 0)


async def counts(
    session: AsyncSession, occurrence_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """How many answered going, maybe and no, per meeting (every meeting asked is present)."""
    found = {occurrence_id: no_answers() for occurrence_id in occurrence_ids}
    if not found:
        return found
    rows = await session.exec(
        select(Rsvp.occurrence_id, Rsvp.answer, func.count())
        .where(col(Rsvp.occurrence_id).in_(list(found)))
        .group_by(col(Rsvp.occurrence_id), col(Rsvp.answer))
    )
    for occurrence_id, answer, number in rows.all():
        if answer in found[occurrence_id]:
            found[occurrence_id][answer] = int(number)
    return found


class RsvpService:
    """Records answers to a meeting's RSVP buttons."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def answer(self, origin: Origin, occurrence_id: int, answer: str) -> RsvpRecorded:
        """Store `origin.user`'s answer for the meeting, replacing an earlier one. Refused
        for a meeting of another workspace, one taken off the schedule, or one that ended."""
        if answer not in ANSWERS:
            raise UserError("rsvp_unreadable", answer=answer)
        now = self._clock.now()
        async with self._database.session() as session:
            found = (
                await session.exec(
                    select(Occurrence, Ritual, Community)
                    .join(Ritual, col(Ritual.id) == Occurrence.ritual_id)
                    .join(Community, col(Community.id) == Ritual.community_id)
                    .join(Workspace, col(Workspace.id) == Community.workspace_id)
                    .where(
                        Occurrence.id == occurrence_id,
                        Workspace.platform == origin.platform,
                        Workspace.external_id == origin.workspace,
                    )
                )
            ).first()
            if found is None:
                raise UserError("rsvp_meeting_gone")
            occurrence, ritual, community = found
            if occurrence.status != SCHEDULED or ritual.status != ALIVE:
                raise UserError("rsvp_meeting_gone")
            if now >= occurrence.ends_at:
                raise UserError("rsvp_closed", title=ritual.title)
            statement = insert_for(session.get_bind().dialect.name, Rsvp).values(
                occurrence_id=occurrence_id, user_id=origin.user, answer=answer, at=now
            )
            await session.exec(
                statement.on_conflict_do_update(
                    index_elements=["occurrence_id", "user_id"],
                    set_={"answer": statement.excluded.answer, "at": statement.excluded.at},
                )
            )
            record(
                session,
                community,
                origin.user,
                "ritual.rsvp",
                now,
                ritual=ritual.number,
                occurrence=occurrence_id,
                answer=answer,
            )
            tally = (await counts(session, [occurrence_id]))[occurrence_id]
        return RsvpRecorded(
            answer=answer, occurrence=occurrence, ritual=ritual, community=community, counts=tally
        )
