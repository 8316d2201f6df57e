"""Reaction votes through Slack's HTTP endpoint: exact tallies, and events per second next to a
bare Bolt app that only acks.

Run: python bench/poll_votes.py [--votes 5000] [--concurrency 50] [--rounds 2] [--database-url URL]

Three processes: this one signs and sends `reaction_added` events; one runs copbot as
`copbot serve` does (the composition root, its scheduler with live counts, SQLite in a temp
dir, the fake Slack Web API); one runs a bare Bolt AsyncApp whose listener only acks. Rounds
alternate bare, copbot, bare, copbot... Each copbot round posts a fresh poll (a signed
`/cop poll`) and sends one vote from each of `--votes` people; copbot acks events at once
and counts them after the ack, so two rates are reported for it: acks per second, and votes
per second until the database's tally holds every vote (and then it must be exact)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_signing import event_body, sign, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
DATABASE_ENV = "COPBOT_BENCH_DATABASE_URL"
OPTIONS = ("one", "two", "three", "four")
SETTLE_TIMEOUT = 600.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _serve_copbot(directory: str) -> None:
    """copbot as `copbot serve` runs it, on a port printed as one JSON line."""
    from pydantic import SecretStr

    from bot.settings import Settings
    from copbot.app import running
    from tests.fakes.slack_api import FakeSlackApi

    async with FakeSlackApi() as api:
        url = os.environ.get(DATABASE_ENV) or f"sqlite+aiosqlite:///{directory}/copbot.db"
        settings = Settings(
            database_url=url,
            port=_free_port(),
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=api.base_url,
            log_level="WARNING",
        )
        async with running(settings, serve=True):
            gc.freeze()  # as `copbot serve` does once started
            print(json.dumps({"port": settings.port, "database": url}), flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def _serve_bare() -> None:
    """A bare Bolt app that acks reaction events and does nothing else."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from tests.fakes.slack_api import FakeSlackApi

    async with FakeSlackApi() as api:
        bare = AsyncApp(
            signing_secret=SECRET,
            client=AsyncWebClient(token="xoxb-bench", base_url=api.base_url),
        )

        @bare.event("reaction_added")
        async def only_ack(ack: Any) -> None:
            await ack()

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await bare.async_dispatch(await to_bolt_request(request))
            )

        app = web.Application()
        app.router.add_post("/slack/events", events)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        gc.freeze()
        print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
        try:
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        finally:
            await runner.cleanup()


def _reaction(round_id: str, number: int, ts: str) -> bytes:
    event = {
        "type": "reaction_added",
        "user": f"U{number:06d}",
        "reaction": OPTIONS[number % len(OPTIONS)],
        "item_user": "UBOT",
        "item": {"type": "message", "channel": "C0001", "ts": ts},
        "event_ts": f"{1_700_000_000 + number}.000100",
    }
    return event_body(event, event_id=f"Ev{round_id}x{number}", event_time=1_700_000_000)


async def _send(
    session: aiohttp.ClientSession, url: str, bodies: list[bytes], concurrency: int
) -> tuple[float, int]:
    """Post every body at `concurrency`; seconds taken and how many were not acked 200."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            body = queue.get_nowait()
            headers = {"Content-Type": "application/json", **sign(SECRET, body, int(time.time()))}
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                failures += response.status != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, failures


class CopbotSide:
    """Drives the copbot server: posts polls, reads tallies from its database."""

    def __init__(self, session: aiohttp.ClientSession, port: int, database_url: str) -> None:
        from bot.clock import SystemClock
        from bot.services.anonymity import VoterKeys
        from bot.services.polls import PollService
        from storage.database import Database

        self.url = f"http://127.0.0.1:{port}/slack/events"
        self._session = session
        self._database = Database(database_url)
        self.polls = PollService(self._database, SystemClock(), VoterKeys(self._database))
        self._polls_made = 0

    async def command(self, text: str) -> None:
        body = slash_command_body(text)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **sign(SECRET, body, int(time.time())),
        }
        async with self._session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status

    async def new_poll(self) -> tuple[Any, str]:
        from sqlmodel import select

        from bot.services.polls import message_ref
        from storage.models import Poll

        self._polls_made += 1
        await self.command(f'poll "Round {self._polls_made}?" "A" "B" "C" "D"')
        async with self._database.session() as session:
            poll = (await session.exec(select(Poll).where(Poll.number == self._polls_made))).one()
        ref = message_ref(poll)
        assert ref is not None, "the poll was not posted"
        return poll, ref.message_id

    async def settle(self, poll: Any, voters: int) -> Any:
        """Wait until `voters` votes are in (a cheap count, so that watching costs the server
        little), then the exact tally."""
        from sqlalchemy import func
        from sqlmodel import col, select

        from storage.models import PollVote

        query = select(func.count()).where(PollVote.poll_id == poll.id, col(PollVote.chosen))
        deadline = time.perf_counter() + SETTLE_TIMEOUT
        while time.perf_counter() < deadline:
            async with self._database.session() as session:
                if int((await session.exec(query)).one()) >= voters:
                    break
            await asyncio.sleep(0.1)
        return await self.polls.tally(poll)

    async def close(self) -> None:
        await self._database.close()


async def _measure(ports: dict[str, Any], votes: int, concurrency: int, rounds: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        copbot = CopbotSide(session, ports["copbot"]["port"], ports["copbot"]["database"])
        bare_url = f"http://127.0.0.1:{ports['bare']['port']}/slack/events"
        await copbot.command('setup "Bench" domain="Polls"')
        # Warm up both (imports, connections, Bolt's auth.test) on a throwaway poll.
        poll, ts = await copbot.new_poll()
        warm = [_reaction("w", n, ts) for n in range(200)]
        await _send(session, bare_url, warm, concurrency)
        await _send(session, copbot.url, warm, concurrency)
        await copbot.settle(poll, 200)

        rows: list[dict[str, Any]] = []
        expected = tuple(len(range(i, votes, len(OPTIONS))) for i in range(len(OPTIONS)))
        for number in range(1, rounds + 1):
            bodies = [_reaction(f"b{number}", n, "1700000000.000100") for n in range(votes)]
            seconds, failures = await _send(session, bare_url, bodies, concurrency)
            rows.append({"server": "bare", "acks": votes / seconds, "failures": failures})

            poll, ts = await copbot.new_poll()
            bodies = [_reaction(f"c{number}", n, ts) for n in range(votes)]
            started = time.perf_counter()
            acked, failures = await _send(session, copbot.url, bodies, concurrency)
            tally = await copbot.settle(poll, votes)
            counted = time.perf_counter() - started
            exact = tally.counts == expected and tally.voters == votes
            rows.append(
                {
                    "server": "copbot",
                    "acks": votes / acked,
                    "votes": votes / counted,
                    "failures": failures,
                    "exact": exact,
                    "tally": tally.counts,
                }
            )
        await copbot.close()

    print(f"{votes} signed reaction_added events per round, {concurrency} concurrent, loopback")
    print(f"{'round':>5} {'server':8} {'acks/s':>8} {'votes/s':>8} {'errors':>6}  tally")
    for index, row in enumerate(rows):
        votes_per_second = f"{row['votes']:8.0f}" if "votes" in row else f"{'-':>8}"
        tally = f"{row['tally']} {'exact' if row['exact'] else 'WRONG'}" if "tally" in row else ""
        print(
            f"{index // 2 + 1:>5} {row['server']:8} {row['acks']:8.0f} {votes_per_second} "
            f"{row['failures']:6d}  {tally}"
        )
    bare_acks = statistics.median(r["acks"] for r in rows if r["server"] == "bare")
    mine = [r for r in rows if r["server"] == "copbot"]
    acks = statistics.median(r["acks"] for r in mine)
    counted = statistics.median(r["votes"] for r in mine)
    print(f"median: bare {bare_acks:.0f} acks/s; copbot {acks:.0f} acks/s, {counted:.0f} votes/s")
    print(
        f"copbot/bare: acks x{acks / bare_acks:.2f}, counted votes x{counted / bare_acks:.2f}; "
        f"tallies {'exact' if all(r['exact'] for r in mine) else 'NOT EXACT'} in every round"
    )


def _start(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--database-url",
        help="an EMPTY database to run copbot on (default: a temporary SQLite file)",
    )
    parser.add_argument("--serve", choices=("copbot", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "copbot":
        asyncio.run(_serve_copbot(args.directory))
        return
    if args.serve == "bare":
        asyncio.run(_serve_bare())
        return
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost"}
        if args.database_url:
            env[DATABASE_ENV] = args.database_url
        for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "TEAMS_APP_ID"):
            env.pop(name, None)
        servers = []
        try:
            copbot, copbot_port = _start("--serve", "copbot", "--directory", directory, env=env)
            servers.append(copbot)
            bare, bare_port = _start("--serve", "bare", env=env)
            servers.append(bare)
            ports = {"copbot": copbot_port, "bare": bare_port}
            asyncio.run(_measure(ports, args.votes, args.concurrency, args.rounds))
        finally:
            for server in servers:
                assert server.stdin is not None
                server.stdin.close()
                server.wait(timeout=60)


if __name__ == "__main__":
    main()
