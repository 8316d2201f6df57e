"""Shared fixtures: a database per test on SQLite and on the real PostgreSQL, and the core."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import Core, running_core
from bot.clock import FixedClock
from bot.settings import Settings
from storage.database import Database
from tests.console_bot import ConsoleBot
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, slack_client_side

POSTGRES_URL = os.environ.get(
    "COPBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("COPBOT_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgres")
_legs: dict[str, dict[str, int]] = {b: {"passed": 0, "failed": 0, "skipped": 0} for b in BACKENDS}


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_problem() -> str | None:
    import asyncpg

    try:
        connection = await asyncio.wait_for(asyncpg.connect(_asyncpg_dsn(POSTGRES_URL)), 5)
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(exc).__name__}: {exc})"
    await connection.close()
    return None


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return asyncio.run(_postgres_problem())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, postgres_problem: str | None) -> str:
    if request.param == "postgres" and postgres_problem:
        if REQUIRE_POSTGRES:
            pytest.fail(postgres_problem + " and COPBOT_REQUIRE_POSTGRES=1")
        pytest.skip(postgres_problem)
    return str(request.param)


async def _postgres_schema(action: str, schema: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        statement = "CREATE SCHEMA" if action == "create" else "DROP SCHEMA IF EXISTS"
        suffix = "" if action == "create" else " CASCADE"
        await connection.execute(f'{statement} "{schema}"{suffix}')
    finally:
        await connection.close()


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated database of either kind, private to this test."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}")
        await db.upgrade()
        yield db
        await db.close()
        return
    schema = "copbot_t_" + secrets.token_hex(6)
    await _postgres_schema("create", schema)
    db = Database(POSTGRES_URL, schema=schema)
    try:
        await db.upgrade()
        yield db
    finally:
        await db.close()
        await _postgres_schema("drop", schema)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    # The console's exports go to the test's own directory, never the working directory.
    return Settings(database_url=database.url, export_dir=str(tmp_path / "exports"))


@pytest.fixture
async def core(settings: Settings, database: Database, clock: FixedClock) -> AsyncIterator[Core]:
    async with running_core(settings, database=database, clock=clock, upgrade=False) as built:
        yield built


@pytest.fixture
def bot(core: Core) -> ConsoleBot:
    return ConsoleBot(core)


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    """A fake Slack Web API on 127.0.0.1."""
    async with FakeSlackApi() as fake:
        yield fake


@pytest.fixture
async def slack(core: Core, api: FakeSlackApi) -> AsyncIterator[SlackClientSide]:
    """copbot's real Slack endpoint over `core`, talking to `api`, with a signing client."""
    async with slack_client_side(core, api) as client_side:
        yield client_side


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    yield


_LEG = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgres)(?:-[^\]]*)?\]")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count outcomes per database leg, so the summary shows both legs ran."""
    match = _LEG.search(report.nodeid)
    if match and (report.when == "call" or (report.when == "setup" and not report.passed)):
        _legs[match.group(1)][report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = ", ".join(
        f"{leg}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"
        for leg, c in _legs.items()
    )
    terminalreporter.write_line(f"database legs -> {line}")
