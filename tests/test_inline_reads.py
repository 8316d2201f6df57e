"""`Database.read()` on a SQLite file runs its statements on the event loop's thread, sees
what writers committed, and keeps working after a failed statement."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.database import Database
from storage.inline_sqlite import InlineConnection


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/copbot.db")
    await database.upgrade()
    yield database  # type: ignore[misc]
    await database.close()


async def _thread_of_statement(database: Database) -> int:
    """The thread a read's statement ran on, reported by a SQL function."""
    seen: list[int] = []
    async with database.read() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, InlineConnection)
        await driver.create_function("whose_thread", 0, lambda: seen.append(threading.get_ident()))
        await session.exec(text("SELECT whose_thread()"))
    return seen[0]


async def test_reads_run_on_the_loop_thread(sqlite_database: Database) -> None:
    assert await _thread_of_statement(sqlite_database) == threading.get_ident()


async def _write_thread(database: Database) -> int:
    """The thread a write transaction's statement ran on."""
    seen: list[int] = []
    async with database.session(write=True) as session:
        raw = await (await session.connection()).get_raw_connection()
        await raw.driver_connection.create_function(
            "whose_thread", 0, lambda: seen.append(threading.get_ident())
        )
        await session.exec(text("SELECT whose_thread()"))
        await session.exec(text("UPDATE workspaces SET name = 'written'"))
    return seen[0]


async def test_writes_run_on_the_loop_while_the_lock_is_free(sqlite_database: Database) -> None:
    assert await _write_thread(sqlite_database) == threading.get_ident()


async def test_a_writer_waits_off_the_loop_while_another_process_writes(
    sqlite_database: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "copbot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    writer = asyncio.create_task(_write_thread(sqlite_database))
    await asyncio.sleep(0.3)
    assert not writer.done() and ticks >= 10  # it waits, and the loop goes on meanwhile
    other.execute("COMMIT")
    assert await writer != threading.get_ident()
    ticker.cancel()
    other.close()
    async with sqlite_database.read() as session:
        names = (await session.exec(text("SELECT count(*) FROM workspaces"))).one()
    assert names == (0,)


async def test_reads_see_committed_writes_and_survive_errors(sqlite_database: Database) -> None:
    async with sqlite_database.session() as session:
        await session.exec(
            text(
                "INSERT INTO workspaces (platform, external_id, created_at)"
                " VALUES ('slack', 'T1', '2026-01-01')"
            )
        )
    for _ in range(3):  # the pool's connections stay usable after a failed statement
        async with sqlite_database.read() as session:
            with pytest.raises(OperationalError):
                await session.exec(text("SELECT * FROM no_such_table"))
        async with sqlite_database.read() as session:
            found = await session.exec(text("SELECT external_id FROM workspaces"))
            assert found.scalars().all() == ["T1"]
