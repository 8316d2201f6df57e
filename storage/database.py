"""The async database: engine set-up for SQLite and PostgreSQL, sessions and migrations."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.inline_sqlite import READ_BUSY_TIMEOUT_SECONDS, inline_connections

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_POOL_SIZE = 5


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # First, so that switching a new file to WAL waits for a concurrent process to do the same;
    # long enough that a burst of writes (votes, joins) queues for the writer instead of failing.
    cursor.execute("PRAGMA busy_timeout=30000")
    _enable_wal_pragmas(cursor)
    cursor.close()


def _enable_inline_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """An inline connection keeps the short busy timeout it was opened with."""
    cursor = dbapi_connection.cursor()
    _enable_wal_pragmas(cursor)
    cursor.close()


def _enable_wal_pragmas(cursor: Any) -> None:
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")


def make_engine(
    url: str, *, schema: str | None = None, reads: bool = False, inline: bool = False
) -> AsyncEngine:
    """An engine for `url`; `schema` (PostgreSQL only) becomes the search path.

    `reads`: an engine for reads outside any transaction (autocommit: no BEGIN and COMMIT,
    nothing to roll back when a connection goes back to the pool, no ping before each use;
    a connection that broke is dropped by the pool after the one statement that met it).
    On a SQLite file it runs on the event loop's thread (see storage.inline_sqlite).

    `inline` (SQLite files): a writer on the event loop's thread that never waits for the
    write lock: `BEGIN IMMEDIATE` fails at once while another process holds it."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if reads:
        kwargs.update(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    if parsed.get_backend_name() == "sqlite":
        database_file = sqlite_file(url)
        if database_file is not None:
            database_file.parent.mkdir(parents=True, exist_ok=True)
            # A fixed pool: overflow connections would be opened (a thread and PRAGMAs each)
            # and closed again under load, which made concurrent requests several times slower.
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=0)
            if reads or inline:
                wait = READ_BUSY_TIMEOUT_SECONDS if reads else 0.0
                kwargs["async_creator"] = inline_connections(database_file, busy_timeout=wait)
        engine = create_async_engine(url, **kwargs)
        on_loop = "async_creator" in kwargs
        pragmas = _enable_inline_pragmas if on_loop else _enable_sqlite_pragmas
        event.listen(engine.sync_engine, "connect", pragmas)
        return engine
    if schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    return create_async_engine(url, pool_pre_ping=not reads, **kwargs)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite `url` (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return Path(database).expanduser()


def insert_for(backend: str, table: Any) -> Any:
    """An INSERT into `table` that can say `ON CONFLICT ...` on `backend` ("postgresql" or
    "sqlite", the two databases copbot runs on)."""
    dialect = postgresql if backend == "postgresql" else sqlite
    return dialect.insert(table)  # type: ignore[attr-defined]


def migration_lock_key(schema: str | None) -> int:
    """The PostgreSQL advisory lock that serialises migrations of one schema."""
    digest = hashlib.sha256(f"copbot migrations {schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if need be) across processes."""
    if path is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic says INFO for every step; at each start that is noise, so only warnings show."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _upgrade(config: Config, lock_file: Path | None) -> None:
    with _file_lock(lock_file), _quiet_alembic():
        command.upgrade(config, "head")


def alembic_config(url: str, *, schema: str | None = None) -> Config:
    """Alembic's configuration for copbot's migrations against `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if schema:
        config.set_main_option("copbot.schema", schema)
    return config


async def _begin_immediate(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[AsyncExitStack, AsyncSession]:
    """A session inside a transaction begun with `BEGIN IMMEDIATE`; the exit stack commits
    or rolls it back."""
    stack = AsyncExitStack()
    try:
        session = await stack.enter_async_context(sessions())
        await stack.enter_async_context(session.begin())
        # pysqlite begins a transaction only before a write; one begun here is kept.
        connection = await session.connection()
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException as error:
        await stack.__aexit__(type(error), error, error.__traceback__)
        raise
    return stack, session


class Database:
    """copbot's database: one engine, sessions that commit or roll back as a unit."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        self.backend = make_url(url).get_backend_name()
        self.engine = make_engine(url, schema=schema)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._writers: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        # In-memory SQLite is one database per connection: its reads use the one engine.
        shared = self.backend != "sqlite" or sqlite_file(url) is not None
        self.read_engine = make_engine(url, schema=schema, reads=True) if shared else self.engine
        self._reads = async_sessionmaker(
            self.read_engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        # A SQLite file's write transactions first try the writer on the event loop's thread.
        self.inline_engine = make_engine(url, inline=True) if sqlite_file(url) else None
        self._inline_writes = (
            async_sessionmaker(self.inline_engine, class_=AsyncSession, expire_on_commit=False)
            if self.inline_engine is not None
            else None
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, on the hot path: each statement sees what is committed,
        without a transaction's BEGIN and COMMIT (a read that must agree with a later write
        belongs in `session(write=True)`)."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        `write=True` for a transaction that checks what it reads before writing (the last
        steward, one community per channel). On SQLite it starts with `BEGIN IMMEDIATE`,
        taking the write lock before the first read, so such transactions run one after the
        other; on PostgreSQL the service locks the rows it checks (`SELECT ... FOR UPDATE`)."""
        if not (write and self.backend == "sqlite"):
            async with self._sessions() as session, session.begin():
                yield session
            return
        # This process's writers take turns here, woken as soon as the one before commits:
        # waiting in SQLite's busy handler instead, each slept up to 100 ms between tries, and
        # a burst of writes (200 people joining at once) took seconds.
        async with self._write_turn():
            # None: another process writes, so this one waits, on aiosqlite's thread.
            transaction = await self._begin_on_loop()
            stack, session = transaction or await _begin_immediate(self._sessions)
            async with stack:
                yield session

    async def _begin_on_loop(self) -> tuple[AsyncExitStack, AsyncSession] | None:
        """A write transaction on the event loop's thread; None while another process holds
        SQLite's write lock (or for in-memory SQLite, which has no such writer)."""
        if self._inline_writes is None:
            return None
        try:
            return await _begin_immediate(self._inline_writes)
        except OperationalError as error:
            if "locked" in str(error.orig):
                return None
            raise

    def _write_turn(self) -> asyncio.Lock:
        """The lock this process's SQLite write transactions take in turn (one per event
        loop: tests run several)."""
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers[0] is not loop:
            self._writers = (loop, asyncio.Lock())
        return self._writers[1]

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (Alembic runs in a worker thread).

        Processes starting at once migrate one at a time: on PostgreSQL under an advisory
        lock per schema, on SQLite under a lock on the file `<database>.migrate.lock`."""
        config = alembic_config(self.url, schema=self.schema)
        database_file = sqlite_file(self.url)
        if self.backend != "postgresql":
            lock_file = (
                database_file.with_name(database_file.name + ".migrate.lock")
                if database_file
                else None
            )
            await asyncio.to_thread(_upgrade, config, lock_file)
            return
        key = migration_lock_key(self.schema)
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                await asyncio.to_thread(_upgrade, config, None)
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine this database sends statements on."""
        found = (self.engine, self.read_engine, self.inline_engine)
        return tuple(dict.fromkeys(e for e in found if e is not None))

    async def close(self) -> None:
        if self.inline_engine is not None:
            await self.inline_engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        await self.engine.dispose()
