"""Serving an aiohttp application on 127.0.0.1 at a free port, for fakes and test clients."""

from __future__ import annotations

from aiohttp import web


async def start_on_loopback(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start `app` on 127.0.0.1, port 0; returns the runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])
