"""Several copbot processes starting at once on a new database migrate it one at a time."""

from __future__ import annotations

import asyncio
import logging
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from storage.database import Database
from tests.conftest import POSTGRES_URL, _postgres_schema
from tests.test_migrations import _differences

PROCESSES = 6
# Each process gets ready (imports done, engine built), says so, and upgrades once told to:
# the test tells all of them at once, so their migrations really overlap.
UPGRADE = """
import asyncio, sys
from storage.database import Database
database = Database(sys.argv[1], schema=sys.argv[2] or None)
print("ready", flush=True)
sys.stdin.readline()
asyncio.run(database.upgrade())
"""
ROOT = Path(__file__).resolve().parents[1]


def upgrade_at_once(url: str, schema: str | None) -> list[tuple[int, str]]:
    """Start `PROCESSES` upgrades of one database together; their exit codes and stderr."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, url, schema or ""],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        results.append((process.returncode, stderr))
    return results


async def check_schema(url: str, schema: str | None) -> None:
    database = Database(url, schema=schema)
    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await database.close()


async def test_sqlite_starts_at_once_on_a_new_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    results = await asyncio.to_thread(upgrade_at_once, url, None)
    assert [code for code, _ in results] == [0] * PROCESSES, results
    assert not any("Traceback" in stderr for _, stderr in results)
    await check_schema(url, None)


async def test_postgres_starts_at_once_on_a_new_schema(postgres_problem: str | None) -> None:
    if postgres_problem:
        pytest.skip(postgres_problem)
    schema = "copbot_m_" + secrets.token_hex(6)
    await _postgres_schema("create", schema)
    try:
        results = await asyncio.to_thread(upgrade_at_once, POSTGRES_URL, schema)
        assert [code for code, _ in results] == [0] * PROCESSES, results
        await check_schema(POSTGRES_URL, schema)
    finally:
        await _postgres_schema("drop", schema)


async def test_upgrading_says_nothing_below_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'quiet.db'}")
    try:
        await database.upgrade()
    finally:
        await database.close()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []
    assert logging.getLogger("alembic").level == logging.NOTSET  # as it was
