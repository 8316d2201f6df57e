"""This checkout's copbot next to another checkout's (an older commit, say), served at once.

Run: git worktree add /tmp/before <commit>
     python bench/side_by_side.py --baseline /tmp/before [--rounds 6] [--database-url-base URL]

Both run `copbot serve` as deployed, each on its own database, seeded alike (a community of 25
with skills). Short rounds of one command (300 requests, 32 concurrent) alternate between the
two, so both see the same machine from minute to minute, which on a shared 2-core machine
varies by more than most changes do. For `help`, `members` and Teams' `help`, and for 200
simultaneous joins: each server's own CPU time per request (from /proc, all its threads) and
its p50 (for the joins, the slowest), with the ratios of this checkout to the baseline."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import ROOT, copbot_serve, cpu_seconds, post_command, slash
from slack_ack import _round, _seed

COMMANDS = ("help", "members", "teams help")
JOINS = 200


async def _joins(port: int, response_url: str, burst: int) -> float:
    """`JOINS` new people join at once; the slowest answer's milliseconds."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=JOINS)) as session:
        bodies = [
            slash("join", user=f"UJ{burst:03d}{n:04d}", response_url=response_url)
            for n in range(JOINS)
        ]
        answers = await asyncio.gather(*(post_command(session, port, b) for b in bodies))
    assert all(status == 200 for _, status in answers), "a join was not answered 200"
    return max(took for took, _ in answers)


async def _bench(args: argparse.Namespace, directory: str) -> None:
    from tests.fakes.bot_connector import FakeBotConnector
    from tests.fakes.slack_api import FakeSlackApi

    checkouts = {"baseline": Path(args.baseline).resolve(), "this": ROOT}
    cpu: dict[str, dict[str, list[float]]] = {}
    took: dict[str, dict[str, list[float]]] = {}
    async with FakeSlackApi() as api, FakeBotConnector() as connector:
        urls = (api.response_url(), connector.service_url)
        with ExitStack() as stack:
            ports = {}
            for name, code in checkouts.items():
                database = (
                    f"{args.database_url_base}_{name}"
                    if args.database_url_base
                    else f"sqlite+aiosqlite:///{directory}/{name}.db"
                )
                ports[name] = stack.enter_context(copbot_serve(database, api.base_url, code=code))
                await _seed(ports[name], urls[0])
            for text in COMMANDS:
                for port in ports.values():
                    await _round(port, text, 200, 32, urls)  # warm up
                for _ in range(args.rounds):
                    for name, port in ports.items():
                        before = cpu_seconds(port)
                        latencies, failed = await _round(port, text, 300, 32, urls)
                        if failed:
                            raise SystemExit(f"{failed} {text} requests failed on {name}")
                        used = (cpu_seconds(port) - before) * 1000 / len(latencies)
                        cpu.setdefault(text, {}).setdefault(name, []).append(used)
                        took.setdefault(text, {}).setdefault(name, []).append(
                            statistics.median(latencies)
                        )
            label = f"{JOINS} joins at once"
            for burst in range(args.rounds // 2 + 1):
                for name, port in ports.items():
                    before = cpu_seconds(port)
                    slowest = await _joins(port, urls[0], burst)
                    used = (cpu_seconds(port) - before) * 1000 / JOINS
                    cpu.setdefault(label, {}).setdefault(name, []).append(used)
                    took.setdefault(label, {}).setdefault(name, []).append(slowest)
    kind = "PostgreSQL" if args.database_url_base else "SQLite"
    print(f"{kind}; this checkout vs {args.baseline}, medians of {args.rounds} rounds each")
    print(f"{'':18} {'CPU ms per request':>34}   {'p50 ms (joins: the slowest)':>34}")
    for row in cpu:
        a, b = (statistics.median(cpu[row][n]) for n in ("baseline", "this"))
        c, d = (statistics.median(took[row][n]) for n in ("baseline", "this"))
        print(
            f"{row:18} before {a:6.2f} after {b:6.2f} x{b / a:.2f}   "
            f"before {c:7.1f} after {d:7.1f} x{d / c:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--baseline", required=True, help="another checkout of copbot")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--database-url-base",
        help="a PostgreSQL URL; `_baseline` and `_this` are appended: two EMPTY databases",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_bench(args, directory))


if __name__ == "__main__":
    main()
