"""The event ledger: remembers platform event ids so a redelivered event is handled once."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from sqlmodel import col, delete

from bot.clock import Clock
from storage.database import Database, insert_for
from storage.models import ProcessedEvent

# Slack re-sends for minutes and Teams for less; a week is far beyond either.
KEEP_FOR = timedelta(days=7)


@cache
def _record(backend: str) -> Any:
    """The ledger's INSERT on `backend`, built once: a Core statement on the table (the
    ORM's bulk-insert path cost as much as the database's work), its values bound per call."""
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    return insert_for(backend, table).on_conflict_do_nothing(
        index_elements=["platform", "event_id"]
    )


class EventLedger:
    """Persists seen event ids; survives restarts, unlike an in-memory cache."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def first_time(self, platform: str, event_id: str) -> bool:
        """Record `event_id`; False when it had been recorded before.

        One `INSERT ... ON CONFLICT DO NOTHING` in a write session: on a SQLite file that
        runs on the event loop's thread while no other process writes (a plain session's
        insert waited on aiosqlite's thread, in SQLite's busy handler, and every Teams
        activity and Slack event took a turn there); a redelivery raises nothing."""
        values = {"platform": platform, "event_id": event_id, "received_at": self._clock.now()}
        async with self._database.session(write=True) as session:
            result = await session.exec(_record(self._database.backend), params=values)
        return bool(result.rowcount)

    async def forget_old(self) -> int:
        """Drop ids older than `KEEP_FOR` (no platform redelivers that late); returns how many."""
        cutoff = self._clock.now() - KEEP_FOR
        async with self._database.session() as session:
            result = await session.exec(
                delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < cutoff)
            )
        return int(result.rowcount or 0)
