"""The processes the benchmarks measure, each started as it is deployed: `copbot serve` (the
installed command, configured by environment variables) and a bare Bolt app that only acks;
plus the signed requests and latency figures they share."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_signing import sign, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
PAYLOADS = ROOT / "tests" / "payloads"
READY_TIMEOUT = 120.0
_PERSONAL_MESSAGE = (PAYLOADS / "teams" / "personal_message.json").read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start listening")


# The process serving each port this module started, while it runs.
_SERVING: dict[int, int] = {}


def cpu_seconds(port: int) -> float:
    """The CPU time (user and system, all threads) the process serving `port` has used."""
    fields = Path(f"/proc/{_SERVING[port]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _process(
    command: Sequence[str], env: dict[str, str], port: int, cwd: Path = ROOT
) -> Iterator[int]:
    process = subprocess.Popen(command, env=env, cwd=cwd)
    _SERVING[port] = process.pid
    try:
        _wait_until_listening(port, process)
        yield port
    finally:
        del _SERVING[port]
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def copbot_serve(
    database_url: str, slack_api_url: str, *, teams: bool = True, code: Path = ROOT
) -> Iterator[int]:
    """`copbot serve` in its own process, with its real settings; yields its port. `code`:
    the checkout whose copbot runs (another one, say an older commit's, for a comparison)."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "TEAMS_", "COPBOT_"))
    }
    env.update(
        COPBOT_DATABASE_URL=database_url,
        COPBOT_PORT=str(port),
        COPBOT_LOG_LEVEL="WARNING",
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack_api_url,
        NO_PROXY="127.0.0.1,localhost",
    )
    if teams:
        env["COPBOT_TEAMS_ALLOW_UNAUTHENTICATED"] = "true"
    if code != ROOT:
        env["PYTHONPATH"] = str(code)
    command = [str(Path(sys.executable).with_name("copbot")), "serve"]
    with _process(command, env, port, cwd=code) as ready:
        yield ready


@contextmanager
def bare_bolt(slack_api_url: str) -> Iterator[int]:
    """A bare Bolt AsyncApp whose `/cop` listener only acks, in its own process."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), str(port), slack_api_url]
    with _process(command, env, port) as ready:
        yield ready


def slash(
    text: str,
    *,
    response_url: str,
    user: str = "U0ALICE",
    channel: str = "C0001",
    number: int = 0,
    team: str = "T0001",
) -> bytes:
    return slash_command_body(
        text,
        team_id=team,
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        channel_name=channel.lower(),
        trigger_id=f"bench.{number}",
        response_url=response_url,  # the fake Slack API's: answers after the ack stay on loopback
    )


async def post_command(session: aiohttp.ClientSession, port: int, body: bytes) -> tuple[float, int]:
    """One signed slash command; milliseconds taken and the status."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign(SECRET, body, int(time.time())),
    }
    started = time.perf_counter()
    async with session.post(
        f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
    ) as response:
        await response.read()
        return (time.perf_counter() - started) * 1000, response.status


def teams_message(text: str, service_url: str, number: int) -> dict[str, Any]:
    """A personal-chat message to copbot as Teams posts it, replies to go to `service_url`."""
    data: dict[str, Any] = json.loads(_PERSONAL_MESSAGE)
    data.update(serviceUrl=service_url, id=str(1_700_000_000_000 + number), text=text)
    return data


async def post_activity(
    session: aiohttp.ClientSession, port: int, activity: dict[str, Any]
) -> tuple[float, int]:
    started = time.perf_counter()
    async with session.post(f"http://127.0.0.1:{port}/api/messages", json=activity) as response:
        await response.read()
        return (time.perf_counter() - started) * 1000, response.status


async def concurrently(count: int, concurrency: int, send: Any) -> tuple[list[float], int]:
    """`send(session, number)` `count` times, `concurrency` at once; latencies and failures."""
    latencies: list[float] = []
    failures = 0
    numbers = iter(range(count))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal failures
            for number in numbers:
                took, status = await send(session, number)
                latencies.append(took)
                failures += not 200 <= status < 300

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failures


def p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
