"""aiohttp's access log: off unless COPBOT_ACCESS_LOG turns it on."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from adapters.server import listening, server_app
from bot.app import Core
from bot.settings import Settings, load_settings
from tests.test_serve import free_port, wait_until_up


def test_the_setting_is_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COPBOT_ACCESS_LOG", raising=False)
    assert Settings(_env_file=None).access_log is False  # type: ignore[call-arg]
    monkeypatch.setenv("COPBOT_ACCESS_LOG", "1")
    assert load_settings().access_log is True


async def access_lines(core: Core, settings: Settings, caplog: pytest.LogCaptureFixture) -> int:
    """How many access-log records one GET /healthz writes through the server's runner."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="aiohttp.access"):
        async with listening(
            server_app(core), "127.0.0.1", 0, access_log=settings.access_log
        ) as runner:
            port = runner.addresses[0][1]
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/healthz") as response,
            ):
                assert response.status == 200
        # the access line is written before the connection closes, so by the runner's cleanup
    return len([r for r in caplog.records if r.name == "aiohttp.access"])


async def test_serve_writes_no_access_log_unless_asked(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    assert await access_lines(core, core.settings, caplog) == 0
    asked = core.settings.model_copy(update={"access_log": True})
    assert await access_lines(core, asked, caplog) == 1


async def test_copbot_serve_at_info_level_logs_no_request_lines(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "COPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}",
        "COPBOT_HOST": "127.0.0.1",
        "COPBOT_PORT": str(port),
        "COPBOT_LOG_LEVEL": "INFO",
    }
    for name in ("COPBOT_ACCESS_LOG", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copbot", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert "copbot listening on" in log  # INFO lines are written...
    assert "GET /healthz" not in log  # ...but no line per request
