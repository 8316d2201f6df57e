"""How fast copbot acknowledges `/cop`, next to a bare Bolt app that only acks.

Run: python bench/slack_ack.py [--requests 2000] [--concurrency 32] [--database-url URL]

A server process runs copbot's real endpoint (SQLite in a temp dir, the fake Slack Web API)
and a bare Bolt AsyncApp on two loopback ports; this process sends signed slash commands
at a fixed concurrency and reports p50/p99 latency, throughput, and copbot/bare ratios."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
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

from tests.fakes.slack_signing import sign, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
DATABASE_ENV = "COPBOT_BENCH_DATABASE_URL"
MEMBERS = 25


async def _serve(directory: str) -> None:
    """The server side: copbot and bare Bolt, with their ports printed as one JSON line."""
    from aiohttp import web
    from pydantic import SecretStr
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import running_core
    from bot.events import CommandInvoked, Origin
    from bot.settings import Settings
    from copbot.app import web_app as build_web_app
    from tests.fakes.slack_api import FakeSlackApi

    async with FakeSlackApi() as api:
        settings = Settings(
            database_url=os.environ.get(DATABASE_ENV)
            or f"sqlite+aiosqlite:///{directory}/copbot.db",
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=api.base_url,
            log_level="WARNING",
        )
        async with running_core(settings) as core:
            for number in range(MEMBERS):
                origin = Origin(
                    platform="slack",
                    workspace="T0001",
                    channel="C0001",
                    channel_name="general",
                    user=f"U{number:04d}",
                    user_name=f"person{number}",
                )
                text = 'setup "Data Science" domain="ML"' if number == 0 else "join"
                await core.router.handle(CommandInvoked(origin=origin, text=text))
                await core.router.handle(CommandInvoked(origin=origin, text="skills Python, SQL"))

            bare = AsyncApp(
                signing_secret=SECRET,
                client=AsyncWebClient(token="xoxb-bench", base_url=api.base_url),
            )

            @bare.command("/cop")
            async def only_ack(ack: Any) -> None:
                await ack()

            async def bare_events(request: web.Request) -> web.Response:
                return await to_aiohttp_response(
                    await bare.async_dispatch(await to_bolt_request(request))
                )

            bare_app = web.Application()
            bare_app.router.add_post("/slack/events", bare_events)
            ports = {}
            runners = []
            for name, web_app in (("copbot", build_web_app(core)), ("bare", bare_app)):
                runner = web.AppRunner(web_app, access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                runners.append(runner)
                ports[name] = runner.addresses[0][1]
            gc.freeze()  # as `copbot serve` does once started
            print(json.dumps(ports), flush=True)
            try:
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            finally:
                for runner in runners:
                    await runner.cleanup()


async def _load(url: str, text: str, requests: int, concurrency: int) -> dict[str, float]:
    """Send `requests` signed `/cop <text>` at `concurrency`; latency in milliseconds."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(requests):
        queue.put_nowait(number)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                number = queue.get_nowait()
                body = slash_command_body(text, trigger_id=f"bench.{number}")
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    **sign(SECRET, body, int(time.time())),
                }
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rps": requests / elapsed,
        "failures": failures,
    }


async def _measure(ports: dict[str, int], requests: int, concurrency: int) -> None:
    results: dict[tuple[str, str], dict[str, float]] = {}
    for text in ("help", "members"):
        for name in ("bare", "copbot"):
            url = f"http://127.0.0.1:{ports[name]}/slack/events"
            await _load(url, text, min(200, requests), concurrency)  # warm up
            results[(name, text)] = await _load(url, text, requests, concurrency)
    print(f"{requests} signed /cop requests per row, {concurrency} concurrent, loopback")
    print(f"{'server':8} {'command':8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>6}")
    for (name, text), figures in results.items():
        print(
            f"{name:8} {text:8} {figures['p50']:8.1f} {figures['p99']:8.1f} "
            f"{figures['rps']:8.0f} {figures['failures']:6.0f}"
        )
    for text in ("help", "members"):
        mine, bare = results[("copbot", text)], results[("bare", text)]
        print(
            f"copbot/bare for {text}: p50 x{mine['p50'] / bare['p50']:.2f}, "
            f"p99 x{mine['p99'] / bare['p99']:.2f}, throughput x{mine['rps'] / bare['rps']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url",
        help="an EMPTY database to run copbot on (default: a temporary SQLite file)",
    )
    parser.add_argument("--serve", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if args.database_url:
            env[DATABASE_ENV] = args.database_url
        for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
            env.pop(name, None)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", directory],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            cwd=ROOT,
        )
        try:
            assert server.stdout is not None
            ports = json.loads(server.stdout.readline())
            asyncio.run(_measure(ports, args.requests, args.concurrency))
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
