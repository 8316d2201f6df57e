"""GET /healthz's latency with no kept posts next to 10,000, through `copbot serve`.

Run: python bench/healthz.py [--posts 10000] [--requests 200] [--database-url URL]

Two `copbot serve` processes as deployed, each on its own database: one without kept posts,
one with `--posts` posts kept for a retry (bulk-loaded into the outbox's table, waiting, their
next attempt an hour or two away so the upkeep leaves them be). GET /healthz goes one request
at a time, alternating between the two servers (which goes first alternates too), so that the
rest of the machine's load weighs on both alike; the first few warm up. Without a URL both
databases are temporary SQLite files; `--database-url` names an EMPTY database (for example
PostgreSQL), which gets the kept posts, and a database next to it (`<name>_no_posts`) is made
for the other server and dropped afterwards."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import ROOT, copbot_serve, p50, p99

sys.path.insert(0, str(ROOT))

from adapters.server import PENDING_COUNTED_UP_TO
from storage.database import Database
from tests.bulk_kept_posts import keep
from tests.fakes.slack_api import FakeSlackApi

WARM_UP = 10


async def seed(url: str, posts: int) -> None:
    """The schema at `url` migrated, with `posts` kept posts inserted in bulk."""
    database = Database(url)
    try:
        await database.upgrade()
        await keep(database, posts, datetime.now(UTC))
        async with database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))  # the statistics a database in use has
    finally:
        await database.close()


async def postgres_sibling(url: str, name: str, *, create: bool) -> str:
    """The URL of database `name` on the server of `url`, (re)made empty or dropped."""
    import asyncpg

    base = make_url(url)
    admin = await asyncpg.connect(
        base.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return base.set(database=name).render_as_string(hide_password=False)


async def _healthz(session: aiohttp.ClientSession, port: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
        body: dict[str, Any] = await response.json()
        took = (time.perf_counter() - started) * 1000
    assert response.status == 200, (response.status, body)
    return took, body


async def measure(ports: dict[int, int], requests: int) -> dict[int, list[float]]:
    """`requests` GET /healthz per server, one at a time, alternating servers."""
    figures: dict[int, list[float]] = {posts: [] for posts in ports}
    async with aiohttp.ClientSession() as session:
        for posts, port in ports.items():
            _, body = await _healthz(session, port)
            assert body["pending_posts"] == min(posts, PENDING_COUNTED_UP_TO), (posts, body)
        servers = list(ports.items())
        for number in range(WARM_UP + requests):
            for posts, port in servers if number % 2 else servers[::-1]:
                took, _ = await _healthz(session, port)
                if number >= WARM_UP:
                    figures[posts].append(took)
    return figures


async def _bench(args: argparse.Namespace, directory: str) -> None:
    sibling = None
    if args.database_url:
        sibling = f"{make_url(args.database_url).database}_no_posts"
        urls = {0: await postgres_sibling(args.database_url, sibling, create=True)}
        urls[args.posts] = args.database_url
    else:
        urls = {0: f"sqlite+aiosqlite:///{directory}/no_posts.db"}
        urls[args.posts] = f"sqlite+aiosqlite:///{directory}/kept_posts.db"
    try:
        started = time.perf_counter()
        for posts, url in urls.items():
            await seed(url, posts)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        async with FakeSlackApi() as api:
            with (
                copbot_serve(urls[0], api.base_url, teams=False) as empty,
                copbot_serve(urls[args.posts], api.base_url, teams=False) as loaded,
            ):
                figures = await measure({0: empty, args.posts: loaded}, args.requests)
    finally:
        if args.database_url and sibling:
            await postgres_sibling(args.database_url, sibling, create=False)

    kind = "PostgreSQL" if "postgresql" in urls[0] else "SQLite"
    none, many = figures[0], figures[args.posts]
    print(
        f"\n{kind}; GET /healthz, {args.requests} requests per server, "
        "one at a time, alternating (ms)"
    )
    print(f"{'kept posts':>12} {'p50':>8} {'p99':>8}")
    for posts, latencies in figures.items():
        print(f"{posts:>12,} {p50(latencies):8.2f} {p99(latencies):8.2f}")
    print(
        f"{args.posts:,} vs 0 kept posts: p50 {p50(many) / p50(none):.2f}x, "
        f"p99 {p99(many) / p99(none):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="an EMPTY database (default: temporary SQLite)")
    args = parser.parse_args()
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_bench(args, directory))


if __name__ == "__main__":
    main()
