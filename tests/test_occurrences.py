"""Occurrences are materialised from the schedule on both databases: created once, however
many processes ask at once, and marked removed when the schedule no longer has them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.clock import FixedClock
from bot.services.occurrences import REMOVED, ensure_occurrences
from rituals.recurrence import skip, upcoming
from rituals.schedule import parse_schedule
from storage.database import Database
from storage.models import Community, Occurrence, Ritual, Workspace

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def a_ritual(database: Database, phrase: str) -> Ritual:
    schedule = parse_schedule(phrase, default_zone="Europe/Berlin", now=NOW)
    async with database.session() as session:
        workspace = Workspace(platform="console", external_id="local", created_at=NOW)
        session.add(workspace)
        await session.flush()
        assert workspace.id is not None
        community = Community(
            workspace_id=workspace.id, name="DS", name_key="ds", channel_id="ds", created_at=NOW
        )
        session.add(community)
        await session.flush()
        assert community.id is not None
        ritual = Ritual(
            community_id=community.id,
            number=1,
            template="deep-dive",
            title="Deep dive",
            schedule=schedule.to_json(),
            uid="r1@copbot",
            created_by="alice",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(ritual)
    return ritual


async def test_occurrences_follow_the_schedule_across_dst(
    database: Database, clock: FixedClock
) -> None:
    ritual = await a_ritual(database, "every month on first tue at 15:00 Europe/Berlin")
    async with database.session() as session:
        rows = await ensure_occurrences(session, ritual, start=NOW, end=NOW + timedelta(days=190))
    assert [r.starts_at.astimezone(UTC).hour for r in rows] == [14, 13, 13, 13, 13, 13, 13]
    assert rows[0].ends_at - rows[0].starts_at == timedelta(minutes=60)


async def test_many_processes_materialise_each_occurrence_once(database: Database) -> None:
    ritual = await a_ritual(database, "every week on mon at 10:00")
    others = [Database(database.url, schema=database.schema) for _ in range(3)]

    async def materialise(db: Database) -> None:
        async with db.session() as session:
            await ensure_occurrences(session, ritual, start=NOW, end=NOW + timedelta(days=70))

    try:
        await asyncio.gather(*(materialise(db) for db in [database, *others]))
    finally:
        for db in others:
            await db.close()
    async with database.session() as session:
        rows = (await session.exec(select(Occurrence))).all()
    assert len(rows) == len({r.starts_at for r in rows}) == 11  # Mondays, Mar 2 to May 11


async def test_a_skipped_meeting_is_marked_removed_and_not_returned(database: Database) -> None:
    ritual = await a_ritual(database, "every week on mon at 10:00")
    window = {"start": NOW, "end": NOW + timedelta(days=21)}
    async with database.session() as session:
        before = await ensure_occurrences(session, ritual, **window)
    schedule = parse_schedule("every week on mon at 10:00", default_zone="Europe/Berlin", now=NOW)
    second = upcoming(schedule, now=NOW, count=2)[1]
    ritual.schedule = skip(schedule, second, now=NOW).to_json()
    async with database.session() as session:
        session.add(ritual)
        after = await ensure_occurrences(session, ritual, **window)
        removed = (await session.exec(select(Occurrence).where(Occurrence.status == REMOVED))).all()
    assert len(before) == 3 and len(after) == 2
    assert [r.starts_at for r in removed] == [second.start]


async def test_a_community_has_one_calendar_secret_however_many_ask(database: Database) -> None:
    from bot.services.calendars import calendar_secret

    ritual = await a_ritual(database, "every week on mon at 10:00")

    async def ask() -> str:
        async with database.session() as session:
            return await calendar_secret(session, ritual.community_id)

    secrets = await asyncio.gather(*(ask() for _ in range(5)))
    assert len(set(secrets)) == 1 and len(secrets[0]) >= 32
