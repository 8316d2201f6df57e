"""What the database says about polls, for tests to check after driving an adapter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import select

from bot.app import Core
from bot.replies import MessageRef
from bot.services.polls import message_ref
from storage.models import Poll


async def latest_poll(core: Core) -> Poll:
    async with core.database.session() as session:
        poll = (await session.exec(select(Poll).order_by(Poll.id.desc()))).first()  # type: ignore[union-attr]
    assert poll is not None, "no poll was created"
    return poll


async def poll_ref(core: Core) -> MessageRef:
    """The ref of the newest poll's message."""
    ref = message_ref(await latest_poll(core))
    assert ref is not None, "the poll was not posted"
    return ref


async def counts(core: Core) -> tuple[tuple[int, ...], int]:
    """The newest poll's votes per option and how many people voted."""
    tally = await core.feedback.polls.tally(await latest_poll(core))
    return tally.counts, tally.voters


def _cells(connection: Connection) -> list[tuple[str, str, Any]]:
    found = []
    for table in inspect(connection).get_table_names():
        if table == "alembic_version":
            continue
        result = connection.execute(text(f'SELECT * FROM "{table}"'))
        columns = list(result.keys())
        for row in result:
            for column, value in zip(columns, row, strict=True):
                found.append((table, column, value))
    return found


async def cells_holding(core: Core, *needles: str) -> list[tuple[str, str]]:
    """(table, column) of every value in the whole database that contains one of `needles`
    (JSON columns included, as text)."""
    async with core.database.engine.connect() as connection:
        cells = await connection.run_sync(_cells)
    return sorted(
        {
            (table, column)
            for table, column, value in cells
            if value is not None and any(needle in str(value) for needle in needles)
        }
    )
