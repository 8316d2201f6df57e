"""Occurrences as rows: a ritual's meetings in a window, created when first needed.

The schedule is the truth about when a ritual meets; these rows are what RSVPs, attendance,
facilitators and deliveries hang on. Any process may materialise them at any time: a row is
inserted only if missing (the database's unique key decides), and a row whose meeting left
the schedule (skipped, moved, edited, cancelled) is marked so and never sent for, and is
scheduled again if the meeting comes back (a pause resumed, a meeting moved back)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from rituals.recurrence import between
from rituals.schedule import Schedule
from storage.database import insert_for
from storage.models import Occurrence, Ritual

SCHEDULED = "scheduled"
REMOVED = "removed"  # the meeting is no longer in the schedule (skipped, moved, edited)
RECURRENCE_ID_FORMAT = "%Y%m%dT%H%M%S"


async def ensure_occurrences(
    session: AsyncSession, ritual: Ritual, *, start: datetime, end: datetime
) -> list[Occurrence]:
    """The ritual's scheduled occurrences that start in [start, end), oldest first: rows
    created where missing, rows no longer in the schedule marked removed."""
    assert ritual.id is not None
    expected = (
        between(Schedule.from_json(ritual.schedule), start, end)
        if ritual.status == "active"
        else []
    )
    length = timedelta(minutes=ritual.duration_minutes)
    if expected:
        rows: list[dict[str, Any]] = [
            {
                "ritual_id": ritual.id,
                "starts_at": meeting.start,
                "ends_at": meeting.start + length,
                "recurrence_id": meeting.recurrence_id.strftime(RECURRENCE_ID_FORMAT),
                "status": SCHEDULED,
                "facilitator_assigned": False,
                "facilitator_confirmed": False,
            }
            for meeting in expected
        ]
        await session.exec(
            insert_for(session.get_bind().dialect.name, Occurrence)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["ritual_id", "starts_at"])
        )
    starts = [meeting.start for meeting in expected]
    in_window = (
        (col(Occurrence.ritual_id) == ritual.id)
        & (col(Occurrence.starts_at) >= start)
        & (col(Occurrence.starts_at) < end)
    )
    await session.exec(
        update(Occurrence)
        .where(
            in_window, col(Occurrence.status) == SCHEDULED, col(Occurrence.starts_at).not_in(starts)
        )
        .values(status=REMOVED)
    )
    if starts:  # a meeting back in the schedule (resumed, moved back) takes place again
        await session.exec(
            update(Occurrence)
            .where(
                in_window, col(Occurrence.status) == REMOVED, col(Occurrence.starts_at).in_(starts)
            )
            .values(status=SCHEDULED)
        )
    found = await session.exec(
        select(Occurrence)
        .where(in_window, col(Occurrence.status) == SCHEDULED)
        .order_by(col(Occurrence.starts_at))
        .execution_options(populate_existing=True)
    )
    return list(found.all())
