"""A throwaway database for a benchmark: a temporary SQLite file, or a schema of its own in the
PostgreSQL database at a URL (dropped afterwards)."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import Database


@asynccontextmanager
async def scratch_database(database_url: str | None) -> AsyncIterator[Database]:
    """A new, empty database: SQLite in a temporary folder without a URL, else a new schema."""
    if database_url is None:
        with tempfile.TemporaryDirectory() as folder:
            database = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            try:
                yield database
            finally:
                await database.close()
        return
    schema = "copbot_bench_" + secrets.token_hex(4)
    admin = create_async_engine(database_url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(database_url, schema=schema)
    try:
        yield database
    finally:
        await database.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
