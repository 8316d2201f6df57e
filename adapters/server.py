"""The HTTP server: one aiohttp application carrying every configured adapter and /healthz."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from contextlib import suppress

from aiohttp import web

from adapters.teams.access import teams_wanted
from bot.app import Core, running_core
from bot.settings import Settings

log = logging.getLogger(__name__)

CORE_KEY = web.AppKey("core", Core)
RETRY_INTERVAL_SECONDS = 60.0


async def healthz(request: web.Request) -> web.Response:
    core = request.app[CORE_KEY]
    database = await core.database.ping()
    body = {
        "status": "ok" if database else "degraded",
        "database": database,
        "adapters": list(core.outbox.platforms),
        "pending_posts": await core.outbox.pending_count() if database else None,
    }
    return web.json_response(body, status=200 if database else 503)


def build_web_app(core: Core) -> web.Application:
    """The aiohttp application with /healthz and every adapter the settings configure."""
    app = web.Application()
    app[CORE_KEY] = core
    app.router.add_get("/healthz", healthz)
    if core.settings.slack_configured:
        from adapters.slack.app import SlackAdapter  # only a Slack deployment loads Bolt

        SlackAdapter(core).mount(app)
    if teams_wanted(core.settings):
        from adapters.teams.web import mount_teams  # botbuilder loads only when Teams runs

        mount_teams(app, core)
    return app


def make_runner(app: web.Application, settings: Settings) -> web.AppRunner:
    """The runner for `app`; aiohttp's line per request only when COPBOT_ACCESS_LOG asks."""
    if settings.access_log:
        return web.AppRunner(app)
    return web.AppRunner(app, access_log=None)


async def housekeeping(core: Core) -> None:
    """One round of upkeep: send posts kept for retry, forget old redelivery ids."""
    try:
        await core.outbox.retry_pending()
    except Exception:
        log.exception("retrying pending posts failed")
    try:
        await core.ledger.forget_old()
    except Exception:
        log.exception("pruning processed event ids failed")


async def _housekeeping_forever(core: Core) -> None:
    while True:
        await asyncio.sleep(RETRY_INTERVAL_SECONDS)
        await housekeeping(core)


async def serve_forever(settings: Settings) -> None:
    """Run the server until interrupted."""
    async with running_core(settings) as core:
        app = build_web_app(core)
        runner = make_runner(app, settings)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        log.info("copbot listening on http://%s:%s", settings.host, settings.port)
        # Everything built so far lives as long as the process: keep it out of the garbage
        # collector's way (full collections over it made the slowest 1% of requests ~5x slower).
        gc.freeze()
        retry = asyncio.create_task(_housekeeping_forever(core))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if sys.platform != "win32":  # asyncio has no signal handlers there; Ctrl-C still works
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signal_number, stop.set)
        try:
            await stop.wait()
            log.info("copbot stopping")
        finally:
            retry.cancel()
            with suppress(asyncio.CancelledError):
                await retry
            await runner.cleanup()
