"""What the database holds about a person, for the data-rights tests: every value of every
table (reflected, so tables added later are scanned too) that mentions a string."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection

from storage.database import Database


@dataclass(frozen=True)
class Hit:
    table: str
    column: str
    row: dict[str, Any]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "ignore")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _scan(connection: Connection, needle: str) -> list[Hit]:
    metadata = MetaData()
    metadata.reflect(connection)
    hits = []
    for table in metadata.sorted_tables:
        for row in connection.execute(select(table)).mappings():
            for column, value in row.items():
                if needle in _as_text(value):
                    hits.append(Hit(table.name, column, dict(row)))
    return hits


async def mentions_of(database: Database, needle: str) -> list[Hit]:
    """Every (table, column, row) whose value contains `needle`, in any column of any type
    (blobs decoded, JSON dumped), on either database."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_scan, needle)


async def tables_scanned(database: Database) -> set[str]:
    def names(connection: Connection) -> set[str]:
        metadata = MetaData()
        metadata.reflect(connection)
        return set(metadata.tables)

    async with database.engine.connect() as connection:
        return await connection.run_sync(names)
