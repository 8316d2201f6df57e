"""A test helper: the SQL statements a database is sent, on every engine it uses (writes,
reads, and SQLite's writer on the event loop)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from storage.database import Database

Statement = tuple[str, Any]


@contextmanager
def recording(database: Database) -> Iterator[list[Statement]]:
    """The statements (and their parameters) the database is sent inside the block."""
    statements: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    engines = {engine.sync_engine for engine in database.engines}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
