"""The HTTP server's own part: the aiohttp application with /healthz, started and stopped.

Adapters mount their routes on it (the composition root decides which)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.app import Core

CORE_KEY = web.AppKey("core", Core)
PENDING_COUNTED_UP_TO = 100  # /healthz costs the same however many posts are kept


async def healthz(request: web.Request) -> web.Response:
    """Whether the database answers, the adapters running, and the kept posts still waiting,
    counted up to `PENDING_COUNTED_UP_TO` (that figure means as many or more)."""
    core = request.app[CORE_KEY]
    database = await core.database.ping()
    body = {
        "status": "ok" if database else "degraded",
        "database": database,
        "adapters": list(core.outbox.platforms),
        "pending_posts": (
            await core.outbox.pending_count(at_most=PENDING_COUNTED_UP_TO) if database else None
        ),
    }
    return web.json_response(body, status=200 if database else 503)


def server_app(core: Core) -> web.Application:
    """An aiohttp application with /healthz, for adapters to mount their routes on."""
    app = web.Application()
    app[CORE_KEY] = core
    app.router.add_get("/healthz", healthz)
    return app


@asynccontextmanager
async def listening(
    app: web.Application, host: str, port: int, *, access_log: bool = False
) -> AsyncIterator[web.AppRunner]:
    """Serve `app` on host:port until the block ends (adapters start and stop with it);
    aiohttp's line per request only when `access_log` (COPBOT_ACCESS_LOG) asks for it."""
    runner = web.AppRunner(app) if access_log else web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield runner
    finally:
        await runner.cleanup()
