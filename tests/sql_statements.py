"""A test helper: the SQL statements a database is sent, on every engine it uses (writes,
reads, and SQLite's writer on the event loop), and the plan it chooses for one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text

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


async def query_plan(database: Database, statement: Statement) -> Any:
    """The plan the database chooses for `statement` once it has statistics: PostgreSQL's run
    (JSON, with the rows each node read), SQLite's EXPLAIN QUERY PLAN rows."""
    sql, parameters = statement
    async with database.engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        if database.backend == "postgresql":
            explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"
            return (await connection.exec_driver_sql(explain, parameters)).scalar_one()
        explain = f"EXPLAIN QUERY PLAN {sql}"
        return [tuple(row) for row in (await connection.exec_driver_sql(explain, parameters))]
