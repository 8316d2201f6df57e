"""Rituals at scale: 10,000 communities with three rituals each, next to 10 communities.

Run: python bench/rituals_scale.py [--communities 10000] [--requests 300]
                                    [--database-url postgresql+asyncpg://user@host/db]

Both databases are filled with bulk inserts (communities, five members each, three rituals
each, their meetings for the next two months with facilitators). For each size it reports
how long `copbot serve` takes from start to a 200 on /healthz, the server's resident memory
then, and the latency of `ritual next 5` (and `ritual list`, and `rotation #1`, which plans
facilitators and writes) through the router for random communities; then the large/small
ratios. One run; absolute numbers on a shared machine are
noisy, ratios less so. With --database-url (PostgreSQL), two databases are created next to
the one named (copbot_bench_small, copbot_bench_large) and dropped afterwards."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import running_core  # noqa: E402
from bot.events import CommandInvoked, Origin  # noqa: E402
from bot.settings import Settings  # noqa: E402
from rituals.catalog import find_template  # noqa: E402
from rituals.recurrence import between  # noqa: E402
from rituals.schedule import parse_schedule  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Community, Member, Occurrence, Ritual, Workspace  # noqa: E402

TEMPLATES = ("deep-dive", "show-and-tell", "office-hours")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
MEMBERS = 5
WINDOW = timedelta(days=62)
CHUNK = 2000
SMALL = 10


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def load(database: Database, communities: int, now: datetime) -> None:
    """The schema, then every row in bulk (ids given, so rows can point at each other)."""
    await database.upgrade()
    schedules = {
        (key, zone): parse_schedule(find_template(key).cadence, default_zone=zone, now=now)
        for key in TEMPLATES
        for zone in ZONES
    }
    meetings = {k: between(s, now, now + WINDOW) for k, s in schedules.items()}
    tables: dict[Any, list[dict[str, Any]]] = {
        Workspace: [{"id": 1, "platform": "console", "external_id": "local", "created_at": now}],
        Community: [],
        Member: [],
        Ritual: [],
        Occurrence: [],
    }
    for c in range(communities):
        zone = ZONES[c % len(ZONES)]
        tables[Community].append(
            {
                "id": c + 1,
                "workspace_id": 1,
                "name": f"Community {c}",
                "name_key": f"community {c}",
                "kind": "cop",
                "domain": "",
                "mission": "",
                "channel_id": f"c{c:05d}",
                "channel_name": f"c{c:05d}",
                "timezone": zone,
                "created_at": now,
            }
        )
        people = [f"u{c}-{k}" for k in range(MEMBERS)]
        for k, person in enumerate(people):
            tables[Member].append(
                {
                    "community_id": c + 1,
                    "user_id": person,
                    "display_name": person,
                    "role": ("steward", "core")[k] if k < 2 else "member",
                    "active": True,
                    "joined_at": now,
                }
            )
        for n, key in enumerate(TEMPLATES):
            ritual_id = c * len(TEMPLATES) + n + 1
            template = find_template(key)
            tables[Ritual].append(
                {
                    "id": ritual_id,
                    "community_id": c + 1,
                    "number": n + 1,
                    "template": key,
                    "title": template.title,
                    "agenda": "\n".join(template.agenda),
                    "location": "",
                    "schedule": schedules[key, zone].to_json(),
                    "duration_minutes": int(template.duration.total_seconds() // 60),
                    "reminders": [1440, 60],
                    "rotate": template.rotates_facilitator,
                    "pulse": True,
                    "status": "active",
                    "uid": f"bench-{c}-{n}@copbot",
                    "sequence": 0,
                    "created_by": people[0],
                    "created_at": now,
                    "updated_at": now,
                    "past_series": [],
                }
            )
            for i, meeting in enumerate(meetings[key, zone]):
                tables[Occurrence].append(
                    {
                        "ritual_id": ritual_id,
                        "starts_at": meeting.start,
                        "ends_at": meeting.start + template.duration,
                        "recurrence_id": f"{meeting.recurrence_id:%Y%m%dT%H%M%S}",
                        "status": "scheduled",
                        "facilitator_id": people[i % 2] if template.rotates_facilitator else None,
                        "facilitator_assigned": False,
                        "facilitator_confirmed": False,
                    }
                )
    async with database.engine.begin() as connection:
        for table, rows in tables.items():
            for part in chunks(rows):
                await connection.execute(insert(table), part)
        if database.backend == "postgresql":  # ids were given: move the sequences past them
            for name in ("workspaces", "communities", "members", "rituals", "occurrences"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def start_up(url: str) -> tuple[float, int]:
    """Seconds from starting `copbot serve` to a 200 on /healthz, and its RSS then (KiB):
    the better of two starts, so a cold file cache does not count against one size."""
    first, second = await _start_once(url), await _start_once(url)
    return min(first, second)


async def _start_once(url: str) -> tuple[float, int]:
    port = free_port()
    environment = {
        **os.environ,
        "COPBOT_DATABASE_URL": url,
        "COPBOT_PORT": str(port),
        "COPBOT_LOG_LEVEL": "WARNING",
        "NO_PROXY": "127.0.0.1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "TEAMS_APP_ID"):
        environment.pop(name, None)
    began = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "copbot", "serve"], cwd=ROOT, env=environment)
    try:
        async with aiohttp.ClientSession() as http:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"copbot serve exited with {server.returncode}")
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.02)
        ready = time.perf_counter() - began
        return ready, resident_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


async def latencies(url: str, communities: int, requests: int, command: str) -> list[float]:
    """Seconds per `command` through the router, each in a random community."""
    rng = random.Random(11)
    settings = Settings(database_url=url, log_level="WARNING")
    timings = []
    async with running_core(settings, upgrade=False) as core:
        for index in range(requests + 20):
            c = rng.randrange(communities)
            origin = Origin(
                platform="console",
                workspace="local",
                channel=f"c{c:05d}",
                channel_name=f"c{c:05d}",
                user=f"u{c}-{index % MEMBERS}",
            )
            began = time.perf_counter()
            [answer] = await core.router.handle(CommandInvoked(origin=origin, text=command))
            if index >= 20:  # the first ones warm caches up
                timings.append(time.perf_counter() - began)
            assert answer.kind != "error" and answer.kind != "oops", answer.data
    return timings


@dataclass
class Figures:
    size: int
    load: float
    ready: float
    rss_mib: float
    next_p50: float
    next_p95: float
    list_p50: float
    rotation_p50: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(url: str, size: int, requests: int, now: datetime) -> Figures:
    database = Database(url)
    began = time.perf_counter()
    try:
        await load(database, size, now)
    finally:
        await database.close()
    loaded = time.perf_counter() - began
    ready, rss = await start_up(url)
    nexts = await latencies(url, size, requests, "ritual next 5")
    lists = await latencies(url, size, requests, "ritual list")
    plans = await latencies(url, size, requests, "rotation #1")
    return Figures(
        size=size,
        load=loaded,
        ready=ready,
        rss_mib=rss / 1024,
        next_p50=statistics.median(nexts) * 1000,
        next_p95=percentile(nexts, 0.95) * 1000,
        list_p50=statistics.median(lists) * 1000,
        rotation_p50=statistics.median(plans) * 1000,
    )


async def postgres_databases(url: str, names: list[str], *, create: bool) -> list[str]:
    import asyncpg

    base = make_url(url)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            if create:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return [base.set(database=name).render_as_string(hide_password=False) for name in names]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use")
    args = parser.parse_args()
    now = datetime.now(UTC)
    names = ["copbot_bench_small", "copbot_bench_large"]
    with tempfile.TemporaryDirectory() as directory:
        if args.database_url:
            urls = await postgres_databases(args.database_url, names, create=True)
        else:
            urls = [f"sqlite+aiosqlite:///{directory}/{name}.db" for name in names]
        try:
            small = await measure(urls[0], SMALL, args.requests, now)
            large = await measure(urls[1], args.communities, args.requests, now)
        finally:
            if args.database_url:
                await postgres_databases(args.database_url, names, create=False)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"rituals at scale on {backend}: {args.requests} requests per command, one run")
    print(f"{'':28}{SMALL:>12,}{large.size:>12,}{'ratio':>10}")
    rows = [
        ("bulk load (s)", small.load, large.load),
        ("serve to /healthz (s)", small.ready, large.ready),
        ("server RSS at ready (MiB)", small.rss_mib, large.rss_mib),
        ("ritual next 5 p50 (ms)", small.next_p50, large.next_p50),
        ("ritual next 5 p95 (ms)", small.next_p95, large.next_p95),
        ("ritual list p50 (ms)", small.list_p50, large.list_p50),
        ("rotation #1 p50 (ms, plans)", small.rotation_p50, large.rotation_p50),
    ]
    for label, a, b in rows:
        print(f"{label:28}{a:>12.2f}{b:>12.2f}{b / a:>10.2f}")


if __name__ == "__main__":
    asyncio.run(main())
