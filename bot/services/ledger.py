"""The event ledger: remembers platform event ids so a redelivered event is handled once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete

from bot.clock import Clock
from storage.database import Database
from storage.models import ProcessedEvent

# Slack re-sends for minutes and Teams for less; a week is far beyond either.
KEEP_FOR = timedelta(days=7)


class EventLedger:
    """Persists seen event ids; survives restarts, unlike an in-memory cache."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def first_time(self, platform: str, event_id: str) -> bool:
        """Record `event_id`; False when it had been recorded before. (A plain session: the
        insert alone takes SQLite's write lock; a write session's BEGIN IMMEDIATE and turn
        cost a burst of 5,000 reaction votes a fifth of its throughput, bench/poll_votes.py.)"""
        try:
            async with self._database.session() as session:
                session.add(
                    ProcessedEvent(
                        platform=platform, event_id=event_id, received_at=self._clock.now()
                    )
                )
        except IntegrityError:
            return False
        return True

    async def forget_old(self) -> int:
        """Drop ids older than `KEEP_FOR` (no platform redelivers that late); returns how many."""
        cutoff = self._clock.now() - KEEP_FOR
        async with self._database.session() as session:
            result = await session.exec(
                delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < cutoff)
            )
        return int(result.rowcount or 0)
