"""Each command's latency at 100 and at 10,000 communities, through `copbot serve`.

Run: python bench/scale.py [--large 10000] [--samples 40] [--database-url URL]

The communities (10 members with 3 skills each) are bulk-loaded into the database `copbot
serve` runs on (a temporary SQLite file, or the EMPTY database given), 100 first, then the rest.
At each size, signed slash commands are sent one at a time and timed: `who` across the
workspace (from a channel without a community), `communities`, and `about`, `members`, `join`
and `help` in a community, which at the large size has 5,000 members; then `help` again, its
p99, while four clients keep sending the heavy workspace-wide commands. Last, 200 people send
`/cop join` into one community at the same moment: every join must succeed."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import ROOT, copbot_serve, p50, p99, post_command, slash

sys.path.insert(0, str(ROOT))

from tests.bulk_communities import seed, workspace_id

TEAM = "T0001"
LOBBY = "CLOBBY"  # a channel without a community
HEAVY = ("who python", "communities")
JOINS = 200


async def _timed(session: aiohttp.ClientSession, port: int, body: bytes) -> float:
    took, status = await post_command(session, port, body)
    assert status == 200, status
    return took


async def _commands(port: int, channel: str, samples: int, stage: str) -> dict[str, list[float]]:
    """Each command `samples` times, one at a time (after a few to warm up)."""
    lines = {
        "who (workspace)": ("who python", LOBBY),
        "communities": ("communities", LOBBY),
        "about": ("about", channel),
        "members": ("members", channel),
        "help": ("help", channel),
    }
    figures: dict[str, list[float]] = {}
    async with aiohttp.ClientSession() as session:
        for name, (text, where) in lines.items():
            for _ in range(3):
                await _timed(session, port, slash(text, channel=where))
            figures[name] = [
                await _timed(session, port, slash(text, channel=where)) for _ in range(samples)
            ]
        figures["join"] = [
            await _timed(session, port, slash("join", user=f"UJ{stage}{n:04d}", channel=channel))
            for n in range(samples)
        ]
    return figures


async def _help_under_load(port: int, channel: str, samples: int) -> list[float]:
    """`help`'s latency while four clients keep sending the heavy workspace-wide commands."""
    done = asyncio.Event()

    async def heavy(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            while not done.is_set():
                await _timed(session, port, slash(HEAVY[number % 2], channel=LOBBY))

    loaders = [asyncio.create_task(heavy(n)) for n in range(4)]
    await asyncio.sleep(0.5)
    try:
        async with aiohttp.ClientSession() as session:
            return [
                await _timed(session, port, slash("help", channel=channel)) for _ in range(samples)
            ]
    finally:
        done.set()
        await asyncio.gather(*loaders)


async def _simultaneous_joins(port: int, channel: str) -> tuple[list[float], int]:
    """`JOINS` people join one community at the same moment; latencies and failures."""
    connector = aiohttp.TCPConnector(limit=JOINS)
    async with aiohttp.ClientSession(connector=connector) as session:
        bodies = [slash("join", user=f"UZ{n:04d}", channel=channel) for n in range(JOINS)]
        results = await asyncio.gather(*(post_command(session, port, b) for b in bodies))
    return [took for took, _ in results], sum(status != 200 for _, status in results)


async def _analyze(database: object) -> None:
    from sqlalchemy import text

    async with database.engine.connect() as connection:  # type: ignore[attr-defined]
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))


async def _members(database: object, channel: str) -> int:
    from sqlalchemy import func, select

    from storage.models import Community, Member

    query = (
        select(func.count())
        .select_from(Member)
        .join(Community, Community.id == Member.community_id)  # type: ignore[arg-type]
        .where(Community.channel_id == channel, Member.active)  # type: ignore[arg-type]
    )
    async with database.read() as session:  # type: ignore[attr-defined]
        return int((await session.execute(query)).scalar_one())


async def _bench(args: argparse.Namespace, directory: str) -> None:
    from storage.database import Database
    from tests.fakes.slack_api import FakeSlackApi

    url = args.database_url or f"sqlite+aiosqlite:///{directory}/copbot.db"
    database = Database(url)
    await database.upgrade()
    workspace = await workspace_id(database, "slack", TEAM)
    sizes: dict[str, dict[str, list[float]]] = {}
    under_load: dict[str, list[float]] = {}
    async with FakeSlackApi() as api:
        with copbot_serve(url, api.base_url, teams=False) as port:
            started = time.perf_counter()
            await seed(database, workspace, 100, prefix="small")
            await _analyze(database)
            print(f"seeded 100 communities in {time.perf_counter() - started:.1f} s", flush=True)
            sizes["100"] = await _commands(port, "small-0", args.samples, "s")
            under_load["100"] = await _help_under_load(port, "small-0", args.samples * 3)
            started = time.perf_counter()
            await seed(database, workspace, 1, members=5000, prefix="big")
            await seed(database, workspace, args.large - 101, prefix="large")
            await _analyze(database)  # the statistics a database in use has
            took = time.perf_counter() - started
            print(f"seeded {args.large} communities in {took:.1f} s", flush=True)
            large = f"{args.large:,}"
            sizes[large] = await _commands(port, "big-0", args.samples, "l")
            under_load[large] = await _help_under_load(port, "big-0", args.samples * 3)
            joins, failed = await _simultaneous_joins(port, "small-1")
            joined = await _members(database, "small-1")
    await database.close()

    kind = "PostgreSQL" if "postgresql" in url else "SQLite"
    print(f"\n{kind}; {args.samples} sequential requests per command and size (ms)")
    small_key, large_key = list(sizes)
    print(f"{'command':18} {small_key + ' p50':>10} {large_key + ' p50':>12} {'ratio':>7}")
    for name in sizes[small_key]:
        a, b = p50(sizes[small_key][name]), p50(sizes[large_key][name])
        print(f"{name:18} {a:10.1f} {b:12.1f} {b / a:7.2f}x")
    for key, latencies in under_load.items():
        print(
            f"help while 4 heavy commands run, {key} communities: "
            f"p50 {p50(latencies):.1f} ms, p99 {p99(latencies):.1f} ms"
        )
    print(
        f"{JOINS} simultaneous joins into one community: slowest {max(joins):.0f} ms, "
        f"p50 {p50(joins):.0f} ms, {failed} failed, {joined - 10} new members"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--database-url", help="an EMPTY database (default: temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_bench(args, directory))


if __name__ == "__main__":
    main()
