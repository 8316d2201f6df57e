"""`copbot serve` as a real process: Slack and Teams on one server, /healthz, clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import sign, slash_command_body

SECRET = "serve-test-secret"
PAYLOADS = Path(__file__).parent / "payloads"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_up(url: str, process: asyncio.subprocess.Process) -> dict[str, object]:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, "copbot serve exited early"
            try:
                async with session.get(url) as response:
                    return dict(await response.json())
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
    raise TimeoutError("copbot serve did not come up")


async def test_serve_answers_slack_and_teams_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeSlackApi() as slack, FakeBotConnector() as connector:
        env = {
            **os.environ,
            "COPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}",
            "COPBOT_HOST": "127.0.0.1",
            "COPBOT_PORT": str(port),
            "COPBOT_LOG_LEVEL": "WARNING",
            "SLACK_BOT_TOKEN": "xoxb-serve",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.base_url,
            "COPBOT_TEAMS_ALLOW_UNAUTHENTICATED": "1",
        }
        for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "TEAMS_APP_ID"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "copbot",
            "serve",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            health = await wait_until_up(f"{base}/healthz", process)
            assert health["status"] == "ok" and health["database"] is True
            assert {"slack", "teams"} <= set(health["adapters"])  # type: ignore[arg-type]

            body = slash_command_body("help", response_url=slack.response_url("serve"))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **sign(SECRET, body, int(time.time())),
            }
            activity = json.loads((PAYLOADS / "teams" / "personal_message.json").read_text())
            activity["serviceUrl"] = connector.service_url
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    f"{base}/slack/events", data=body, headers=headers
                ) as answer:
                    assert answer.status == 200
                    shown = await answer.json()
                async with session.post(
                    f"{base}/slack/events",
                    data=body,
                    headers={**headers, "X-Slack-Signature": "v0=bad"},
                ) as bad:
                    assert bad.status == 401
                async with session.post(f"{base}/api/messages", json=activity) as teams:
                    assert teams.status in (200, 201)
            assert shown["response_type"] == "ephemeral" and "setup" in shown["text"]
            [card] = await connector.wait_for()
            content = card["attachments"][0]["content"]
            assert content["type"] == "AdaptiveCard" and "setup" in json.dumps(content)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()[-2000:]
        assert b"Traceback" not in stderr
