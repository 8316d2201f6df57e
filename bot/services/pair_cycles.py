"""Peer-mentoring cycles: who is paired with whom at one meeting, made once and kept.

The people are those in the ritual's pool (`facilitator_pool` rows, not opted out) who are
still active members and not away on the meeting's day; earlier cycles of the same ritual are
the history that `rituals.pairing` keeps apart. The groups are stored before anyone is told,
so a retry after a crash tells the same groups."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import groupby

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from rituals.pairing import pair_people
from rituals.schedule import Schedule
from rituals.walltime import to_wall
from storage.models import Absence, FacilitatorPool, Member, Occurrence, PairGroup, Ritual


@dataclass(frozen=True, kw_only=True)
class Cycle:
    """One meeting's groups (pairs, one trio when odd); `unpaired` is someone left alone
    because nobody else was available."""

    groups: tuple[tuple[str, ...], ...]
    unpaired: tuple[str, ...] = ()
    names: dict[str, str] | None = None  # user id -> display name, for the introductions


async def cycle_for(
    session: AsyncSession, ritual: Ritual, occurrence: Occurrence, *, rng: random.Random
) -> Cycle:
    """The groups of `occurrence`: the stored ones, or new ones made and stored now."""
    stored = (
        await session.exec(
            select(PairGroup.members)
            .where(PairGroup.occurrence_id == occurrence.id)
            .order_by(col(PairGroup.id))
        )
    ).all()
    if stored:
        groups = tuple(tuple(m) for m in stored if len(m) > 1)
        alone = tuple(m[0] for m in stored if len(m) == 1)
    else:
        assert occurrence.id is not None
        groups, alone = await _pair(session, ritual, occurrence, rng)
        for members in (*groups, *((person,) for person in alone)):
            session.add(PairGroup(occurrence_id=occurrence.id, members=list(members)))
        await session.flush()
    people = {person for group in groups for person in group} | set(alone)
    names = dict(
        (
            await session.exec(
                select(Member.user_id, Member.display_name).where(
                    Member.community_id == ritual.community_id,
                    col(Member.user_id).in_(list(people)),
                )
            )
        ).all()
    )
    return Cycle(groups=groups, unpaired=alone, names=names)


async def _pair(
    session: AsyncSession, ritual: Ritual, occurrence: Occurrence, rng: random.Random
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    day = to_wall(occurrence.starts_at, Schedule.from_json(ritual.schedule).tz).date()
    opted_in = (
        await session.exec(
            select(FacilitatorPool.user_id)
            .join(
                Member,
                (col(Member.user_id) == FacilitatorPool.user_id)
                & (col(Member.community_id) == ritual.community_id),
            )
            .where(
                FacilitatorPool.ritual_id == ritual.id,
                col(FacilitatorPool.opted_out).is_(False),
                col(Member.active),
            )
        )
    ).all()
    away = (
        await session.exec(
            select(Absence.user_id).where(
                Absence.community_id == ritual.community_id,
                col(Absence.first_day) <= day,
                col(Absence.last_day) >= day,
            )
        )
    ).all()
    earlier = (
        await session.exec(
            select(PairGroup.occurrence_id, PairGroup.members)
            .join(Occurrence, col(Occurrence.id) == PairGroup.occurrence_id)
            .where(
                Occurrence.ritual_id == ritual.id,
                col(Occurrence.starts_at) < occurrence.starts_at,
            )
            .order_by(col(Occurrence.starts_at), col(PairGroup.id))
        )
    ).all()
    history = [
        [members for _, members in rows if len(members) > 1]
        for _, rows in groupby(earlier, key=lambda row: row[0])
    ]
    pairing = pair_people(set(opted_in), history=history, rng=rng, away=set(away))
    return pairing.groups, pairing.unpaired
