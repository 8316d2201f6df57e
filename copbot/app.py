"""The composition root: builds copbot from settings (the core, the scheduler, the adapters
the settings ask for and the upkeep) and starts and stops them together."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from adapters.calendar import mount_calendar
from adapters.charts import mount_charts
from adapters.console.adapter import ConsolePlatform
from adapters.downloads import mount_downloads
from adapters.server import listening, server_app
from adapters.teams.access import teams_wanted
from bot.app import Core, build_core
from bot.clock import Clock
from bot.settings import Settings
from messages.rendering import Renderer
from rituals.scheduler import Scheduler
from storage.database import Database

log = logging.getLogger(__name__)

UPKEEP_SECONDS = 60.0
DIGEST_SECONDS = 3600.0  # the monthly digests are looked at hourly (sent once a month)


async def upkeep(core: Core) -> None:
    """One round of upkeep: retry kept posts, forget old redelivery ids and finished posts."""
    for name, step in (
        ("retrying kept posts", core.outbox.retry_pending),
        ("forgetting old event ids", core.ledger.forget_old),
        ("forgetting finished posts", core.outbox.forget_finished),
        ("forgetting expired downloads", core.downloads.forget_expired),
    ):
        try:
            await step()
        except Exception:
            log.exception("%s failed", name)


def web_app(core: Core) -> web.Application:
    """The HTTP application with every adapter the settings configure, their platforms
    registered on the outbox."""
    app = server_app(core)
    mount_calendar(app, core)
    mount_downloads(app, core)
    mount_charts(app, core)
    settings = core.settings
    if settings.slack_configured:
        from adapters.slack.app import SlackAdapter  # only a Slack deployment loads Bolt

        slack = SlackAdapter(core)
        slack.mount(app)
        core.outbox.register(slack.platform)
    if teams_wanted(settings):
        from adapters.teams.web import mount_teams  # botbuilder loads only when Teams runs

        core.outbox.register(mount_teams(app, core).platform)
    return app


@dataclass(frozen=True, kw_only=True)
class CopBot:
    """A running copbot: its core, its scheduler and, when serving, its web application."""

    core: Core
    scheduler: Scheduler
    web: web.Application | None = None


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    serve: bool = False,
    console: Callable[[str], None] | None = None,
    database: Database | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[CopBot]:
    """copbot built from `settings` and started: the schema migrated, the scheduler and its
    upkeep running, the console (`console` prints its posts) and/or the HTTP server with
    its adapters (`serve`). Everything stops when the block ends."""
    core = build_core(settings, database=database, clock=clock)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(core.database.close)
        await core.database.upgrade()
        if console is not None:
            core.outbox.register(ConsolePlatform(console, Renderer("text")))
        app = web_app(core) if serve else None
        stack.push_async_callback(core.deliveries.stop)  # after the scheduler has stopped
        scheduler = await stack.enter_async_context(Scheduler())
        scheduler.every("upkeep", UPKEEP_SECONDS, lambda: upkeep(core))
        core.deliveries.start(scheduler)  # reminders and the rest, on their second
        for name, seconds, job in core.feedback.jobs():
            scheduler.every(name, seconds, job)
        scheduler.every("monthly digests", DIGEST_SECONDS, core.digests.run)
        if app is not None:
            await stack.enter_async_context(
                listening(app, settings.host, settings.port, access_log=settings.access_log)
            )
            log.info("copbot listening on http://%s:%s", settings.host, settings.port)
        yield CopBot(core=core, scheduler=scheduler, web=app)


async def serve_forever(settings: Settings) -> None:
    """Run the HTTP server until SIGTERM or SIGINT."""
    async with running(settings, serve=True):
        # Everything built so far lives as long as the process: keep it out of the garbage
        # collector's way (full collections over it made the slowest 1% of requests ~5x slower).
        gc.freeze()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if sys.platform != "win32":  # asyncio has no signal handlers there; Ctrl-C still works
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signal_number, stop.set)
        await stop.wait()
        log.info("copbot stopping")
