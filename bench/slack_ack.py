"""How fast copbot answers `/cop`, next to a bare Bolt app that only acks.

Run: python bench/slack_ack.py [--requests 500] [--rounds 3] [--concurrency 32] [--database-url URL]

Three processes: `copbot serve` as deployed (configured by environment variables, SQLite in a
temp dir or the EMPTY database given), a bare Bolt AsyncApp whose `/cop` listener only acks, and
this one, which runs the fake Slack Web API and Bot Connector they call and sends signed
requests at a fixed concurrency. Rounds alternate bare, copbot, bare, copbot... and the
figures pool every round: p50/p99 per command, the copbot/bare ratios, and Teams' `help`
(a personal message through /api/messages) next to Slack's `help` in the same rounds."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import (
    bare_bolt,
    concurrently,
    copbot_serve,
    p50,
    p99,
    post_activity,
    post_command,
    slash,
    teams_message,
)

MEMBERS = 25
_ACTIVITY_NUMBERS = itertools.count()
COMMANDS = ("help", "members")


async def _seed(port: int, response_url: str) -> None:
    """A community in C0001 with `MEMBERS` members and their skills, made by commands."""
    async with aiohttp.ClientSession() as session:
        for number in range(MEMBERS):
            user = f"U{number:04d}"
            text = 'setup "Data Science" domain="ML"' if number == 0 else "join"
            for line in (text, "skills Python, SQL, forecasting"):
                _, status = await post_command(
                    session, port, slash(line, user=user, response_url=response_url)
                )
                assert status == 200, (line, status)


async def _round(
    port: int, text: str, requests: int, concurrency: int, urls: tuple[str, str]
) -> tuple[list[float], int]:
    """`requests` of `text` (after a warm-up); `urls`: the response URL and the connector's."""
    response_url, connector_url = urls
    if text == "teams help":

        async def send(session: aiohttp.ClientSession, number: int) -> tuple[float, int]:
            # Each activity a new id, across warm-ups and rounds: a repeated id is a
            # redelivery, which copbot drops without answering.
            return await post_activity(
                session, port, teams_message("help", connector_url, next(_ACTIVITY_NUMBERS))
            )
    else:
        send = partial(_slash, port, text, response_url)
    await concurrently(min(100, requests), concurrency, send)  # warm up
    return await concurrently(requests, concurrency, send)


async def _slash(
    port: int, text: str, response_url: str, session: aiohttp.ClientSession, number: int
) -> Any:
    body = slash(text, user=f"U{number % MEMBERS:04d}", response_url=response_url)
    return await post_command(session, port, body)


async def _bench(args: argparse.Namespace, directory: str) -> None:
    from tests.fakes.bot_connector import FakeBotConnector
    from tests.fakes.slack_api import FakeSlackApi

    url = args.database_url or f"sqlite+aiosqlite:///{directory}/copbot.db"
    pooled: dict[tuple[str, str], list[float]] = {}
    failures: dict[tuple[str, str], int] = {}
    async with FakeSlackApi() as api, FakeBotConnector() as connector:
        with copbot_serve(url, api.base_url) as copbot, bare_bolt(api.base_url) as bare:
            urls = (api.response_url(), connector.service_url)
            await _seed(copbot, urls[0])
            for _ in range(args.rounds):
                for name, port in (("bare", bare), ("copbot", copbot)):
                    texts = COMMANDS + (("teams help",) if name == "copbot" else ())
                    for text in texts:
                        latencies, failed = await _round(
                            port, text, args.requests, args.concurrency, urls
                        )
                        pooled.setdefault((name, text), []).extend(latencies)
                        failures[(name, text)] = failures.get((name, text), 0) + failed
            answered = len(connector.sent_activities())
    print(
        f"{args.rounds} rounds of {args.requests} requests per row, {args.concurrency} "
        f"concurrent, loopback, {'PostgreSQL' if 'postgresql' in url else 'SQLite'}"
    )
    print(f"{'server':8} {'command':12} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for (name, text), latencies in pooled.items():
        print(
            f"{name:8} {text:12} {p50(latencies):8.1f} {p99(latencies):8.1f} "
            f"{failures[(name, text)]:6d}"
        )
    for text in COMMANDS:
        mine, bare_ = pooled[("copbot", text)], pooled[("bare", text)]
        print(
            f"copbot/bare for {text}: p50 x{p50(mine) / p50(bare_):.2f}, "
            f"p99 x{p99(mine) / p99(bare_):.2f}"
        )
    teams, slack = pooled[("copbot", "teams help")], pooled[("copbot", "help")]
    print(f"Teams help / Slack help: p50 x{p50(teams) / p50(slack):.2f}")
    # Every Teams activity must have been answered through the connector, or its time was
    # not a turn's (a dropped redelivery answers nothing).
    asked = next(_ACTIVITY_NUMBERS)
    print(f"Teams answers the fake connector received: {answered} of {asked}")
    if answered != asked:
        raise SystemExit("some Teams activities went unanswered: the figures do not hold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url", help="an EMPTY database for copbot (default: a temporary SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_bench(args, directory))


if __name__ == "__main__":
    main()
