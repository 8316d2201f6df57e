"""Optional end-to-end check: copbot behind the Microsoft 365 Agents Playground, driven headless.

Not part of `make test`: it needs Node and `npm install -g @microsoft/m365agentsplayground`
(or PLAYGROUND_BIN=/path/to/agentsplayground). It starts `copbot serve` on a throwaway SQLite
database without Teams credentials, starts the playground against it, sends commands as the
playground's user through the playground's own (undocumented) web-client endpoints, and checks
that copbot answers each with an Adaptive Card. Exit status 0 means every step passed.

    python scripts/playground_e2e.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
BOT_PORT = int(os.environ.get("COPBOT_E2E_PORT", "3978"))
PLAYGROUND = "http://127.0.0.1:56150"
CARD = "application/vnd.microsoft.card.adaptive"
STEPS = (
    ("help", "copbot keeps your community of practice alive"),
    ("who python", "Nobody has listed"),
    ("setup", "Run \\`setup\\` in the channel"),
    ("membrs", "Did you mean **members**?"),
)


def card_text(message: dict[str, Any]) -> str:
    texts: list[str] = []
    for attachment in message.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            content = attachment["content"]
            if isinstance(content, str):
                content = json.loads(content)
            texts.extend(b.get("text", "") for b in content.get("body", []))
    return "\n".join(texts)


async def wait_for(session: aiohttp.ClientSession, url: str, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            async with session.get(url) as response:
                if response.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{url} did not come up in {seconds:.0f}s")
        await asyncio.sleep(0.5)


async def drive() -> list[str]:
    """Send every step's command and collect problems (an empty list means success)."""
    problems: list[str] = []
    async with aiohttp.ClientSession() as session:
        await wait_for(session, f"http://127.0.0.1:{BOT_PORT}/healthz")
        await wait_for(session, f"{PLAYGROUND}/_internal/v1/config")
        async with session.get(f"{PLAYGROUND}/_internal/v1/config") as response:
            config = (await response.json())["config"]
        chat = config["personalChat"]["id"]
        user = config["currentUser"]["id"]
        bot = config["bot"]["id"]
        stream = f"{PLAYGROUND.replace('http', 'ws')}/_ws_conversation/v1/conversations/stream"
        async with session.ws_connect(stream) as socket:
            for command, expected in STEPS:
                await session.post(
                    f"{PLAYGROUND}/_conversation/v1/conversations/{chat}/messages",
                    json={"from": {"id": user}, "text": command, "textFormat": "plain"},
                )
                try:
                    text = await asyncio.wait_for(_bot_card(socket, bot), 20)
                except TimeoutError:
                    problems.append(f"{command!r}: no card from copbot within 20s")
                    continue
                status = "ok" if expected in text else "MISMATCH"
                print(f"{status:8} {command!r} -> {text.splitlines()[0] if text else '(empty)'}")
                if status != "ok":
                    problems.append(f"{command!r}: expected {expected!r} in {text!r}")
    return problems


async def _bot_card(socket: aiohttp.ClientWebSocketResponse, bot: str) -> str:
    async for frame in socket:
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        data = json.loads(frame.data)
        message = data.get("message") or {}
        if data.get("action") == "createMessage" and (message.get("from") or {}).get("id") == bot:
            return card_text(message)
    raise TimeoutError("the playground closed its stream")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own session, in the log's folder (the playground writes there)."""
    handle = log.open("wb")
    return subprocess.Popen(
        command,
        env=env,
        cwd=log.parent,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main() -> int:
    playground = os.environ.get("PLAYGROUND_BIN") or shutil.which("agentsplayground")
    if not playground:
        print("agentsplayground not found: npm install -g @microsoft/m365agentsplayground")
        return 2
    work = Path(tempfile.mkdtemp(prefix="copbot-e2e-"))
    env = {
        **os.environ,
        "COPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'copbot.db'}",
        "COPBOT_HOST": "127.0.0.1",
        "COPBOT_PORT": str(BOT_PORT),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "TEAMSAPPTESTER_BROWSER": "none",
    }
    for name in ("TEAMS_APP_ID", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID"):
        env.pop(name, None)
    bot = start(
        [sys.executable, "-m", "copbot", "serve"],
        {**env, "PYTHONPATH": str(ROOT)},
        work / "copbot.log",
    )
    tester = start(
        [playground, "-e", f"http://127.0.0.1:{BOT_PORT}/api/messages", "-c", "msteams", "--dt"],
        env,
        work / "playground.log",
    )
    try:
        problems = asyncio.run(drive())
    except Exception as exc:
        problems = [f"{type(exc).__name__}: {exc}"]
    finally:
        stop(tester)
        stop(bot)
    for problem in problems:
        print("FAIL", problem)
    print(f"logs in {work}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
