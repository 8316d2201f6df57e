"""The event ledger: remembers platform event ids so a redelivered event is handled once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from storage.database import Database
from storage.models import ProcessedEvent


class EventLedger:
    """Persists seen event ids; survives restarts, unlike an in-memory cache."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def first_time(self, platform: str, event_id: str) -> bool:
        """Record `event_id`; False when it had been recorded before."""
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
