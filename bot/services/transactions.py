"""Transactions that lose a race are run again: a unique key taken meanwhile (two stewards
numbering a ritual at once) or, on SQLite, a write refused because another one got in first."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 12  # more than the writers likely to race for one thing at once
BACKOFF = 0.005  # seconds, times the attempt, jittered: racers come back at different times


def _lost_race(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True
    # SQLite answers a write that raced another with SQLITE_BUSY ("database is locked").
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


async def in_transaction(database: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in one transaction, run afresh (up to `ATTEMPTS` times) when it lost a race."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with database.session() as session:
                return await work(session)
        except (IntegrityError, OperationalError) as error:
            if attempt == ATTEMPTS or not _lost_race(error):
                raise
            log.info("transaction lost a race (attempt %s), running it again", attempt)
            await asyncio.sleep(random.uniform(0, BACKOFF * attempt))
    raise AssertionError("unreachable")
