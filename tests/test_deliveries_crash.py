"""Real `python -m copbot serve` processes against the fake Slack Web API: killed with SIGKILL
around a due reminder and started again, the reminder is posted exactly once (also when the
process died after Slack posted it but before copbot recorded it: the metadata lookup finds
it); two processes on one PostgreSQL database post every reminder exactly once."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import col

from storage.database import Database
from storage.models import Delivery
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, _asyncpg_dsn
from tests.fakes.slack_api import FakeSlackApi
from tests.ritual_rows import a_community, a_ritual, deliveries, first_rows, in_minutes
from tests.test_serve import free_port, wait_until_up

SECRET = "crash-test-secret"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the processes bring their own database


async def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


class Copbot:
    """One `copbot serve` process, its log in a file."""

    def __init__(self, process: asyncio.subprocess.Process, log: IO[bytes], path: Path) -> None:
        self.process = process
        self._log = log
        self.path = path

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 30)
        self._log.close()

    def log(self) -> str:
        return self.path.read_text(errors="replace")


@asynccontextmanager
async def copbot(tmp_path: Path, database_url: str, api: FakeSlackApi) -> AsyncIterator[Copbot]:
    port = free_port()
    env = {
        **os.environ,
        "COPBOT_DATABASE_URL": database_url,
        "COPBOT_HOST": "127.0.0.1",
        "COPBOT_PORT": str(port),
        "COPBOT_LOG_LEVEL": "INFO",
        "SLACK_BOT_TOKEN": "xoxb-crash",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.base_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "TEAMS_APP_ID"):
        env.pop(name, None)
    path = tmp_path / f"copbot-{port}.log"
    log = path.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copbot", "serve", env=env, stdout=log, stderr=log
    )
    running = Copbot(process, log, path)
    try:
        await wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield running
    finally:
        await running.stop()


async def planned(database: Database) -> bool:
    return "reminder:1" in await first_rows(database)


async def recorded(database: Database) -> Delivery | None:
    row = (await first_rows(database)).get("reminder:1")
    return row if row is not None and row.sent_at is not None else None


async def test_killed_before_the_reminder_was_due_it_goes_out_once_after_a_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}"
    database = Database(url)
    await database.upgrade()
    now = datetime.now(UTC)
    community = await a_community(
        database, platform="slack", workspace="T0001", channel="C0001", now=now
    )
    await a_ritual(database, community, now=now, reminders=[1], **in_minutes(now, 1 + 20 / 60))
    due = now + timedelta(seconds=20)
    try:
        async with FakeSlackApi(clock=time.time) as api:
            async with copbot(tmp_path, url, api) as first:
                await until(lambda: planned(database))
                first.kill()
                await first.process.wait()
            assert api.calls_to("chat.postMessage") == []
            await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds() + 1, 0))
            async with copbot(tmp_path, url, api) as second:
                row = await until(lambda: recorded(database))
                assert row.outcome == "sent", second.log()
            [posted] = api.calls_to("chat.postMessage")
            assert posted.args["metadata"]["event_payload"] == {"delivery_id": str(row.id)}
            assert row.sent_at is not None and row.sent_at > due  # late, but once
    finally:
        await database.close()


async def test_killed_after_slack_posted_but_before_the_record_it_is_found_not_resent(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}"
    database = Database(url)
    await database.upgrade()
    now = datetime.now(UTC)
    community = await a_community(
        database, platform="slack", workspace="T0001", channel="C0001", now=now
    )
    await a_ritual(database, community, now=now, reminders=[1], **in_minutes(now, 1 + 8 / 60))
    try:
        async with FakeSlackApi(clock=time.time) as api:
            hold = api.hold("chat.postMessage")
            async with copbot(tmp_path, url, api) as first:
                await asyncio.wait_for(hold.held.wait(), 60)
                first.kill()  # Slack has the message; copbot never heard back
                await first.process.wait()
            hold.release.set()
            [stored] = api.messages_in("C0001")
            row = (await first_rows(database))["reminder:1"]
            assert row.sent_at is None and row.claimed_at is not None
            # Time passes: the dead process's lease runs out.
            async with database.session() as session:
                await session.exec(
                    update(Delivery)
                    .where(col(Delivery.id) == row.id)
                    .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
                )
            async with copbot(tmp_path, url, api) as second:
                row = await until(lambda: recorded(database))
                log = second.log()
            assert row.outcome == "sent", log
            assert len(api.calls_to("chat.postMessage")) == 1
            [lookup] = api.calls_to("conversations.history")
            assert lookup.args["channel"] == "C0001"
            assert row.message is not None and row.message["message_id"] == stored["ts"]
            assert "was out already; recorded, not sent again" in log
    finally:
        await database.close()


@pytest.fixture
async def postgres_database(postgres_problem: str | None) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (not a schema: separate processes connect to it)."""
    if postgres_problem:
        if REQUIRE_POSTGRES:
            pytest.fail(postgres_problem + " and COPBOT_REQUIRE_POSTGRES=1")
        pytest.skip(postgres_problem)
    import asyncpg

    name = "copbot_t_" + secrets.token_hex(6)
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_two_processes_on_one_postgresql_post_every_reminder_once(
    tmp_path: Path, postgres_database: str
) -> None:
    database = Database(postgres_database)
    await database.upgrade()
    now = datetime.now(UTC)
    channels = [f"C{n:04d}" for n in range(30)]
    for channel in channels:
        community = await a_community(
            database, platform="slack", workspace="T0001", channel=channel, name=channel, now=now
        )
        await a_ritual(database, community, now=now, reminders=[1], **in_minutes(now, 1 + 25 / 60))
    try:
        async with (
            FakeSlackApi(clock=time.time) as api,
            copbot(tmp_path, postgres_database, api) as one,
            copbot(tmp_path, postgres_database, api) as two,
        ):

            async def all_recorded() -> bool:
                rows = [d for d in await deliveries(database) if d.kind == "reminder:1"]
                return len(rows) == 30 and all(d.sent_at is not None for d in rows)

            await until(all_recorded, timeout=90)
            logs = one.log() + two.log()
        rows = [d for d in await deliveries(database) if d.kind == "reminder:1"]
        assert {d.outcome for d in rows} == {"sent"}, logs
        posts = api.calls_to("chat.postMessage")
        assert len(posts) == 30
        keys = [p.args["metadata"]["event_payload"]["delivery_id"] for p in posts]
        assert sorted(keys) == sorted(str(d.id) for d in rows)
        assert sorted(p.args["channel"] for p in posts) == channels
    finally:
        await database.close()
