"""SQLite statements on the event loop's own thread: aiosqlite's connection without its thread.

A bounded, indexed read from a SQLite file takes tens of microseconds. aiosqlite hands each
call to the connection's worker thread and back, two cross-thread wake-ups per statement; on a
small virtual machine a wake-up costs 0.3 to 0.6 ms (measured here), ten times the read. For
the hot path's reads (`Database.read()`), running the call at once on the loop's thread is the
faster and the simpler choice: in WAL mode a reader never waits for a writer.

A writer runs here too while the write lock is free: its `BEGIN IMMEDIATE` fails at once when
another process holds the lock, and only then does it wait, on aiosqlite's thread, so that the
wait never stops the event loop (`Database.session(write=True)`). Once it holds the lock, a
writer in WAL mode waits for nobody; committing writes no `fsync` (`synchronous=NORMAL`) except
in the checkpoint that comes every thousand pages or so."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite

# A reader waits for a lock only in rare moments (a checkpoint that truncates the WAL, the
# recovery after a crash); such a wait stops the event loop, so it is kept short.
READ_BUSY_TIMEOUT_SECONDS = 0.1

Call = tuple["asyncio.Future[Any] | None", Callable[[], Any]]


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its worker thread: each call runs when it is queued,
    and its future (if any) is settled before the caller awaits it."""

    def put_nowait(self, item: Call) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the calling (event loop) thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no worker thread to start


def inline_connections(path: Path, *, busy_timeout: float) -> Callable[[], InlineConnection]:
    """An `async_creator` for SQLAlchemy: connections to `path` on the event loop's thread,
    waiting at most `busy_timeout` seconds for a lock."""
    connector = partial(
        sqlite3.connect,
        str(path),
        timeout=busy_timeout,
        check_same_thread=False,  # closed by the pool, which may run where it is collected
    )
    return partial(InlineConnection, connector)
