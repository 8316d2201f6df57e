"""Each command's latency in a workspace of 100 communities next to one of 10,000, through
`copbot serve`.

Run: python bench/scale.py [--large 10000] [--samples 40] [--database-url URL]

Two workspaces are bulk-loaded into the database `copbot serve` runs on (a temporary SQLite
file, or the EMPTY database given): one with 100 communities, one with 10,000 (10 members with
3 skills each; one of its communities has 5,000 members). Signed slash commands go one at a
time, alternating between the two workspaces, so that the rest of the machine's load weighs on
both alike: `who` across the workspace (from a channel without a community), `communities`,
and `about`, `members`, `join` and `help` in a community (the 5,000-member one in the large
workspace). Then `help`'s p99 while four clients keep sending the heavy workspace-wide commands,
in rounds alternating the workspaces; last, 200 people send `/cop join` into one community at
the same moment: every join must succeed."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import ROOT, copbot_serve, p50, p99, post_command, slash

sys.path.insert(0, str(ROOT))

from tests.bulk_communities import seed, workspace_id

LOBBY = "CLOBBY"  # a channel without a community
HEAVY = ("who python", "communities")
JOINS = 200
ROUNDS = 3


class Workspace:
    """One of the two workspaces: its team id and the community commands are sent in."""

    def __init__(self, label: str, team: str, channel: str, response_url: str) -> None:
        self.label, self.team, self.channel = label, team, channel
        self.response_url = response_url

    def body(self, text: str, *, where: str | None = None, user: str = "U00001") -> bytes:
        return slash(
            text,
            user=user,
            channel=where or self.channel,
            team=self.team,
            response_url=self.response_url,
        )


async def _timed(session: aiohttp.ClientSession, port: int, body: bytes) -> float:
    took, status = await post_command(session, port, body)
    assert status == 200, status
    return took


async def _commands(
    port: int, workspaces: list[Workspace], samples: int
) -> dict[str, dict[str, list[float]]]:
    """Each command `samples` times per workspace, one at a time, the workspaces alternating."""
    lines = {
        "who (workspace)": ("who python", LOBBY),
        "communities": ("communities", LOBBY),
        "about": ("about", None),
        "members": ("members", None),
        "help": ("help", None),
        "join": ("join", None),
    }
    figures: dict[str, dict[str, list[float]]] = {w.label: {} for w in workspaces}
    async with aiohttp.ClientSession() as session:
        for name, (text, where) in lines.items():
            for number in range(samples + 3):
                for workspace in workspaces:
                    user = f"UJ{number:04d}" if text == "join" else "U00001"
                    took = await _timed(session, port, workspace.body(text, where=where, user=user))
                    if number >= 3:  # the first few warm up
                        figures[workspace.label].setdefault(name, []).append(took)
    return figures


async def _help_under_load(port: int, workspace: Workspace, samples: int) -> list[float]:
    """`help`'s latency while four clients keep sending the heavy workspace-wide commands."""
    done = asyncio.Event()

    async def heavy(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            while not done.is_set():
                await _timed(session, port, workspace.body(HEAVY[number % 2], where=LOBBY))

    loaders = [asyncio.create_task(heavy(n)) for n in range(4)]
    await asyncio.sleep(0.3)
    try:
        async with aiohttp.ClientSession() as session:
            return [await _timed(session, port, workspace.body("help")) for _ in range(samples)]
    finally:
        done.set()
        await asyncio.gather(*loaders)


async def _simultaneous_joins(
    port: int, workspace: Workspace, channel: str
) -> tuple[list[float], int]:
    """`JOINS` people join one community at the same moment; latencies and failures."""
    connector = aiohttp.TCPConnector(limit=JOINS)
    async with aiohttp.ClientSession(connector=connector) as session:
        bodies = [workspace.body("join", where=channel, user=f"UZ{n:04d}") for n in range(JOINS)]
        results = await asyncio.gather(*(post_command(session, port, b) for b in bodies))
    return [took for took, _ in results], sum(status != 200 for _, status in results)


async def _analyze(database: Any) -> None:
    from sqlalchemy import text

    async with database.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))


async def _members(database: Any, workspace: int, channel: str) -> int:
    from sqlalchemy import func, select
    from sqlmodel import col

    from storage.models import Community, Member

    query = (
        select(func.count())
        .select_from(Member)
        .join(Community, col(Community.id) == Member.community_id)
        .where(
            col(Community.workspace_id) == workspace,
            col(Community.channel_id) == channel,
            col(Member.active),
        )
    )
    async with database.engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def _bench(args: argparse.Namespace, directory: str) -> None:
    from storage.database import Database
    from tests.fakes.slack_api import FakeSlackApi

    url = args.database_url or f"sqlite+aiosqlite:///{directory}/copbot.db"
    database = Database(url)
    await database.upgrade()
    async with FakeSlackApi() as api:
        small = Workspace("100", "TSMALL", "small-0", api.response_url())
        large = Workspace(f"{args.large:,}", "TLARGE", "big-0", api.response_url())
        started = time.perf_counter()
        small_id = await workspace_id(database, "slack", small.team)
        large_id = await workspace_id(database, "slack", large.team)
        await seed(database, small_id, 100, prefix="small")
        await seed(database, large_id, 1, members=5000, prefix="big")
        await seed(database, large_id, args.large - 1, prefix="large")
        await _analyze(database)  # the statistics a database in use has
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)

        under_load: dict[str, list[float]] = {small.label: [], large.label: []}
        with copbot_serve(url, api.base_url, teams=False) as port:
            figures = await _commands(port, [small, large], args.samples)
            for _ in range(ROUNDS):
                for workspace in (small, large):
                    under_load[workspace.label] += await _help_under_load(
                        port, workspace, args.samples
                    )
            joins, failed = await _simultaneous_joins(port, large, "large-1")
            await asyncio.sleep(3)  # answers that missed the ack's deadline finish meanwhile
            joined = await _members(database, large_id, "large-1") - 10
    await database.close()

    kind = "PostgreSQL" if "postgresql" in url else "SQLite"
    print(f"\n{kind}; {args.samples} requests per command and workspace, alternating (ms)")
    print(f"{'command':18} {small.label + ' p50':>10} {large.label + ' p50':>12} {'ratio':>7}")
    for name, latencies in figures[small.label].items():
        a, b = p50(latencies), p50(figures[large.label][name])
        print(f"{name:18} {a:10.1f} {b:12.1f} {b / a:7.2f}x")
    for label, latencies in under_load.items():
        print(
            f"help while 4 heavy commands run, {label} communities: "
            f"p50 {p50(latencies):.1f} ms, p99 {p99(latencies):.1f} ms"
        )
    print(
        f"{JOINS} simultaneous joins into one community: slowest {max(joins):.0f} ms, "
        f"p50 {p50(joins):.0f} ms, {failed} not answered 200, {joined} joined"
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
