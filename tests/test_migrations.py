"""Alembic migrations match the models and go down and up again, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.database import Database, alembic_config
from storage.models import in_models


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": in_models}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_migrations_go_down_to_nothing_and_up_again(database: Database) -> None:
    config = alembic_config(database.url, schema=database.schema)
    await asyncio.to_thread(command.downgrade, config, "base")
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_tables) <= {"alembic_version"}
    await database.upgrade()
    async with database.engine.connect() as connection:
        assert {"communities", "members", "activity"} <= await connection.run_sync(_tables)


async def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}")
    try:
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await database.close()
