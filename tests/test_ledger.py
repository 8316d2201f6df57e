"""The event ledger records each platform event id once, however many deliveries race."""

from __future__ import annotations

import asyncio

from bot.clock import FixedClock
from bot.services.ledger import EventLedger
from storage.database import Database


async def test_an_id_is_first_once_per_platform(database: Database, clock: FixedClock) -> None:
    ledger = EventLedger(database, clock)
    assert await ledger.first_time("teams", "1700000000001")
    assert not await ledger.first_time("teams", "1700000000001")
    assert await ledger.first_time("slack", "1700000000001")  # another platform's id space


async def test_racing_deliveries_from_two_processes_are_first_once(
    database: Database, clock: FixedClock
) -> None:
    """Twenty deliveries of one event at once, split between two processes' databases on the
    same data (a retry reaching the other replica): exactly one is the first."""
    other = Database(database.url, schema=database.schema)
    try:
        ledgers = (EventLedger(database, clock), EventLedger(other, clock))
        firsts = await asyncio.gather(
            *(ledgers[n % 2].first_time("slack", "Ev0RACE") for n in range(20))
        )
    finally:
        await other.close()
    assert sorted(firsts) == [False] * 19 + [True]
