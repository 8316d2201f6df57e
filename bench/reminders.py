"""1,000 reminders due in the same second, in 1,000 channels of one Slack workspace.

Run: python bench/reminders.py [--reminders 1000] [--postgres-url URL] [--lead 60]

The fake Slack Web API (in this process) accepts 1 message per second per channel and 100 per
second in the workspace, and answers 429 with Retry-After beyond that, so 1,000 messages need
10 s at best. Real `python -m copbot serve` processes deliver them: first one process on
SQLite, then one and then two processes on one PostgreSQL database. For each run: every
reminder delivered exactly once (one message per channel, one per delivery id, every row
recorded `sent`), the 429s, when the first and last message were accepted after the due time,
and the last against the 10 s the limits allow (the target is at most 1.2x)."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from rituals.schedule import Schedule  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Community, Delivery, Ritual, Workspace  # noqa: E402
from tests.fakes.slack_api import FakeSlackApi  # noqa: E402

PER_CHANNEL = 1
PER_WORKSPACE = 100
TARGET = 1.2
DEFAULT_POSTGRES = os.environ.get(
    "COPBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Result:
    name: str
    reminders: int
    delivered: int
    duplicates: int
    recorded: int
    rate_limited: int
    planned_after: float
    first: float
    last: float

    @property
    def ideal(self) -> float:
        return self.reminders / PER_WORKSPACE

    @property
    def ratio(self) -> float:
        return self.last / self.ideal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def seed(database: Database, count: int, due: datetime) -> None:
    """`count` communities, each in its own channel with a ritual meeting an hour after `due`
    and a one-hour reminder: every reminder falls due at `due`."""
    start = (due + timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None)
    schedule = Schedule(start=start, zone="UTC").to_json()
    created = due - timedelta(days=1)
    async with database.session() as session:
        workspace = Workspace(platform="slack", external_id="T0001", created_at=created)
        session.add(workspace)
        await session.flush()
        assert workspace.id is not None
        communities = [
            Community(
                workspace_id=workspace.id,
                name=f"CoP {n}",
                name_key=f"cop {n}",
                channel_id=f"C{n:05d}",
                created_at=created,
            )
            for n in range(count)
        ]
        session.add_all(communities)
        await session.flush()
        session.add_all(
            Ritual(
                community_id=community.id,
                number=1,
                template="deep-dive",
                title="Deep dive",
                agenda="Frame the topic\nQuestions",
                location="https://meet.example.org/cop",
                schedule=schedule,
                reminders=[60],
                uid=f"bench-{community.id}",
                created_by="bench",
                created_at=created,
                updated_at=created,
            )
            for community in communities
            if community.id is not None
        )


async def reminder_rows(database: Database) -> tuple[int, int]:
    """How many reminder rows exist, and how many are recorded sent."""
    async with database.session() as session:
        planned = (
            await session.exec(
                select(func.count()).select_from(Delivery).where(Delivery.kind == "reminder:60")
            )
        ).one()
        sent = (
            await session.exec(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.kind == "reminder:60", col(Delivery.outcome) == "sent")
            )
        ).one()
    return int(planned), int(sent)


@asynccontextmanager
async def copbot(url: str, api: FakeSlackApi, log: Path) -> AsyncIterator[None]:
    port = free_port()
    env = {
        **os.environ,
        "COPBOT_DATABASE_URL": url,
        "COPBOT_HOST": "127.0.0.1",
        "COPBOT_PORT": str(port),
        "COPBOT_LOG_LEVEL": "WARNING",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": api.base_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "TEAMS_APP_ID"):
        env.pop(name, None)
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "copbot", "serve", env=env, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 120
            async with aiohttp.ClientSession() as session:
                while True:
                    assert process.returncode is None, log.read_text()[-2000:]
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                            if answer.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    assert time.monotonic() < deadline, "copbot did not come up"
                    await asyncio.sleep(0.2)
            yield
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)


async def run(
    name: str,
    url: str,
    processes: int,
    count: int,
    lead: float,
    logs: Path,
    *,
    limits: bool = True,
) -> Result:
    database = Database(url)
    await database.upgrade()
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
    await seed(database, count, due)
    try:
        async with FakeSlackApi(clock=time.time) as api, AsyncExitStack() as stack:
            if limits:
                api.rate_limit(
                    "chat.postMessage", per_channel=PER_CHANNEL, per_workspace=PER_WORKSPACE
                )
            for number in range(processes):
                log = logs / f"{name.replace(' ', '-')}-{number}.log"
                await stack.enter_async_context(copbot(url, api, log))
            while (await reminder_rows(database))[0] < count:
                await asyncio.sleep(0.2)
            planned_after = (datetime.now(UTC) - (due - timedelta(seconds=lead))).total_seconds()
            if datetime.now(UTC) >= due:
                print(f"  {name}: planning ended after the due time; raise --lead", flush=True)
            deadline = time.monotonic() + lead + 120
            while (await reminder_rows(database))[1] < count and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # anything sent twice would show now
        stamps: list[float] = []
        keys: list[str] = []
        per_channel = 0
        for n in range(count):
            messages = api.messages_in(f"C{n:05d}")
            per_channel += max(len(messages) - 1, 0)
            stamps += [float(m["ts"]) for m in messages]
            keys += [str(m["metadata"]["event_payload"]["delivery_id"]) for m in messages]
        recorded = (await reminder_rows(database))[1]
        per_second = [0] * (int(max(stamps, default=due.timestamp()) - due.timestamp()) + 1)
        for stamp in stamps:
            per_second[max(int(stamp - due.timestamp()), 0)] += 1
        print(f"  {name}: messages per second after the due time: {per_second}", flush=True)
    finally:
        await database.close()
    start = due.timestamp()
    return Result(
        name=name,
        reminders=count,
        delivered=len(set(keys)),
        duplicates=per_channel + len(keys) - len(set(keys)),
        recorded=recorded,
        rate_limited=api.rate_limited,
        planned_after=planned_after,
        first=min(stamps) - start if stamps else float("nan"),
        last=max(stamps) - start if stamps else float("nan"),
    )


@asynccontextmanager
async def postgres_database(url: str) -> AsyncIterator[str]:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = "copbot_bench_" + secrets.token_hex(4)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--lead", type=float, default=60.0, help="seconds to start and plan")
    parser.add_argument(
        "--runs",
        default="sqlite,postgres1,postgres2",
        help="which runs: sqlite, postgres1 (one process), postgres2 (two processes)",
    )
    parser.add_argument(
        "--no-limits", action="store_true", help="no rate limits: how fast copbot alone goes"
    )
    options = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as directory:
        logs = Path(directory)
        sqlite = f"sqlite+aiosqlite:///{logs / 'copbot.db'}"
        limits = not options.no_limits
        if "sqlite" in options.runs:
            results.append(
                await run(
                    "1 process, SQLite",
                    sqlite,
                    1,
                    options.reminders,
                    options.lead,
                    logs,
                    limits=limits,
                )
            )
        for processes in (1, 2):
            if f"postgres{processes}" in options.runs:
                async with postgres_database(options.postgres_url) as url:
                    name = f"{processes} process{'es' if processes > 1 else ''}, PostgreSQL"
                    results.append(
                        await run(
                            name,
                            url,
                            processes,
                            options.reminders,
                            options.lead,
                            logs,
                            limits=limits,
                        )
                    )
    ideal = options.reminders / PER_WORKSPACE
    print(
        f"\n{options.reminders} reminders due at once in {options.reminders} channels; limits "
        f"{PER_CHANNEL}/s per channel, {PER_WORKSPACE}/s per workspace: {ideal:.1f} s at best\n"
    )
    header = (
        f"{'run':<24}{'sent':>6}{'dupes':>7}{'recorded':>10}{'429s':>7}"
        f"{'planned':>9}{'first':>8}{'last':>8}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<24}{r.delivered:>6}{r.duplicates:>7}{r.recorded:>10}{r.rate_limited:>7}"
            f"{r.planned_after:>8.1f}s{r.first:>7.2f}s{r.last:>7.2f}s{r.ratio:>7.2f}x"
        )
    print(
        f"\nratio = last message accepted after the due time / {ideal:.1f} s; "
        f"target at most {TARGET}x. 'planned': seconds from seeding to every row planned."
    )
    ok = all(
        r.delivered == r.reminders and r.duplicates == 0 and r.recorded == r.reminders
        for r in results
    )
    print("every reminder delivered exactly once" if ok else "SOME REMINDER WAS LOST OR DOUBLED")


if __name__ == "__main__":
    asyncio.run(main())
