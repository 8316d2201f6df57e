"""Commands per second through the router, services and SQLite (a benchmark, not a test).

Runs a mix of read and write commands side by side in one process and prints the rates
and their ratios to `about` (the cheapest command that reads the database), because absolute
numbers on a shared 2-core machine are noisy: `python bench/commands.py [--seconds 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.app import running_core
from bot.events import CommandInvoked, Origin
from bot.settings import Settings

MIX = {
    "help": "help",
    "about": "about",
    "members": "members",
    "who": "who forecasting",
    "skills (write)": "skills Python, forecasting, SQL",
    "role (write)": "role <@u1|U1> core",
}


def origin(user: str) -> Origin:
    return Origin(
        platform="bench",
        workspace="W",
        channel="C",
        channel_name="ds",
        user=user,
        user_name=user.upper(),
    )


class Sink:
    """Takes the role notices the core posts on its own."""

    platform = "bench"

    async def send(self, reply: object) -> str:
        return "m"


async def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        async with running_core(settings) as core:
            router = core.router
            core.outbox.register(Sink())
            await router.handle(CommandInvoked(origin=origin("u0"), text='setup "Bench CoP"'))
            for i in range(1, 40):
                await router.handle(CommandInvoked(origin=origin(f"u{i}"), text="join"))
                await router.handle(CommandInvoked(origin=origin(f"u{i}"), text="skills SQL"))
            rates: dict[str, float] = {}
            latencies: dict[str, list[float]] = {}
            for name, text in MIX.items():
                toggle = ["role <@u1|U1> core", "role <@u1|U1> member"]
                count, samples = 0, []
                deadline = time.perf_counter() + seconds
                while time.perf_counter() < deadline:
                    line = toggle[count % 2] if name.startswith("role") else text
                    started = time.perf_counter()
                    replies = await router.handle(CommandInvoked(origin=origin("u0"), text=line))
                    samples.append(time.perf_counter() - started)
                    assert replies and replies[0].kind not in {"error", "oops"}, replies
                    count += 1
                rates[name] = count / sum(samples)
                latencies[name] = samples
    base = rates["about"]
    print(f"{'command':<16}{'cmd/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs about':>10}")
    for name, rate in rates.items():
        samples = sorted(latencies[name])
        p50 = statistics.median(samples) * 1000
        p99 = samples[int(len(samples) * 0.99) - 1] * 1000
        print(f"{name:<16}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}{rate / base:>10.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per command")
    asyncio.run(main(parser.parse_args().seconds))
