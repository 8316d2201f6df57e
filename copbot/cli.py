"""The `copbot` command line: run, serve, chat, demo, db and manifest."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from adapters.console.adapter import run_console, writer
from adapters.console.translate import PLATFORM as CONSOLE_PLATFORM
from adapters.console.translate import WORKSPACE as CONSOLE_WORKSPACE
from bot.settings import Settings, SettingsError, load_settings
from copbot.app import running, serve_forever
from copbot.demo import DEMO_CHANNEL, seed_demo
from storage.database import Database

app = typer.Typer(
    help="copbot: keeps Communities of Practice alive in Slack and Teams.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
manifest_app = typer.Typer(help="App manifests to install copbot.", no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")
err = Console(stderr=True, soft_wrap=True)

CONNECT_HINT = (
    "copbot is running in the console. To connect Slack set SLACK_BOT_TOKEN and "
    "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN), for Teams set TEAMS_APP_ID and "
    "TEAMS_APP_PASSWORD; see the README."
)


def _settings(database: str | None = None) -> Settings:
    try:
        settings = load_settings(**({"database_url": database} if database else {}))
    except SettingsError as exc:
        err.print(f"[red]copbot:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "DEBUG":
        # The scheduler says "started", "added job", "executed" at INFO: noise, not news.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return settings


DEMO_QUIET_LOGGERS = ("bot.outbox", "bot.commands.polls")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: COPBOT_DATABASE_URL or ./copbot.db)."),
]


@app.command()
def run() -> None:
    """Start every configured adapter; with none configured, the console."""
    settings = _settings()
    if settings.slack_configured or settings.teams_configured:
        _serve(settings)
        return
    err.print(CONNECT_HINT, highlight=False)
    _run(_chat(settings, user="you", channel="general"), settings)


@app.command()
def serve() -> None:
    """Serve Slack (/slack/events) and Teams (/api/messages) over HTTP."""
    _serve(_settings())


def _serve(settings: Settings) -> None:
    _run(serve_forever(settings), settings)


def _run(work: Coroutine[Any, Any, None], settings: Settings) -> None:
    """Run `work`; what stops it at start (a refused setting, a database that cannot be
    reached) is one line on stderr and exit 2, not a traceback."""
    try:
        asyncio.run(work)
    except KeyboardInterrupt:
        pass
    except SettingsError as exc:  # an adapter refused to start, e.g. Teams without auth
        err.print(f"[red]copbot:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except (OSError, SQLAlchemyError) as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        err.print(
            f"[red]copbot:[/red] cannot use the database {_safe_url(settings.database_url)}: "
            f"{reason}",
            highlight=False,
        )
        raise typer.Exit(2) from None


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@app.command()
def chat(
    as_: Annotated[str, typer.Option("--as", help="Who you are.")] = "you",
    channel: Annotated[str, typer.Option("--channel", help="The channel you are in.")] = "general",
    database: DatabaseOption = None,
) -> None:
    """Talk to copbot in the terminal (reads lines from stdin when piped)."""
    settings = _settings(database)
    _run(_chat(settings, user=as_, channel=channel.lstrip("#")), settings)


async def _chat(settings: Settings, *, user: str, channel: str) -> None:
    write = writer(sys.stdout)
    async with running(settings, console=write) as copbot:
        await run_console(copbot.core, user=user, channel=channel)


@app.command()
def demo(database: DatabaseOption = None) -> None:
    """Seed a realistic Data Science CoP to explore."""
    settings = _settings(database)
    if settings.log_level != "DEBUG":
        # Seeding runs no chat adapter: each post it makes is kept for later, and the outbox
        # and polls would say so, a screenful of news that is not.
        for name in DEMO_QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)

    async def _seed() -> None:
        async with running(settings) as copbot:
            result = await seed_demo(copbot.core)
        for problem in result.problems:
            err.print(f"[yellow]demo:[/yellow] {problem}", highlight=False)

    _run(_seed(), settings)
    Console().print(
        f"Seeded the Data Science CoP in #{DEMO_CHANNEL} with a dozen members. Try:\n"
        f"  copbot chat --as alice --channel {DEMO_CHANNEL}\n"
        "then type: about | members | who forecasting | ritual list | ritual next\n"
        "  | rotation #1 history | stats | menu | help",
        highlight=False,
    )


@app.command()
def calendar(
    channel: Annotated[str, typer.Option("--channel", help="The community's channel.")],
    database: DatabaseOption = None,
) -> None:
    """Print the calendar feed (iCalendar) of the console community in a channel."""
    settings = _settings(database)
    found: list[bytes | None] = []

    async def _feed() -> None:
        async with running(settings) as copbot:
            found.append(
                await copbot.core.rituals.calendar_of_channel(
                    CONSOLE_PLATFORM, CONSOLE_WORKSPACE, channel.lstrip("#")
                )
            )

    _run(_feed(), settings)
    if not found or found[0] is None:
        err.print(f"[red]copbot:[/red] no community in #{channel.lstrip('#')}", highlight=False)
        raise typer.Exit(1)
    sys.stdout.buffer.write(found[0])
    sys.stdout.flush()


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Apply every database migration."""
    settings = _settings(database)

    async def _upgrade() -> None:
        database = Database(settings.database_url)
        try:
            await database.upgrade()
        finally:
            await database.close()

    _run(_upgrade(), settings)
    Console().print("database is up to date", highlight=False)


@manifest_app.command("slack")
def manifest_slack(
    url: Annotated[
        str | None,
        typer.Option("--url", help="copbot's public https:// base URL (HTTP mode)."),
    ] = None,
) -> None:
    """Print the Slack app manifest: Socket Mode, or with --url the HTTP request URLs."""
    from adapters.slack.manifest import dump_manifest, load_manifest, manifest_for_url

    try:
        manifest = manifest_for_url(url) if url else load_manifest()
    except ValueError as exc:
        err.print(f"[red]copbot:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    sys.stdout.write(dump_manifest(manifest))


@manifest_app.command("teams")
def manifest_teams(
    app_id: Annotated[str, typer.Option("--app-id", help="The bot's Microsoft App ID.")],
    zip_path: Annotated[Path, typer.Option("--zip", help="Where to write the app package.")] = Path(
        "copbot-teams.zip"
    ),
    name: Annotated[str, typer.Option("--name", help="The app's name in Teams.")] = "copbot",
    version: Annotated[str, typer.Option("--version", help="MAJOR.MINOR.PATCH.")] = "1.0.0",
) -> None:
    """Write the Teams app package (manifest and icons) to upload in Teams."""
    from adapters.teams.package import write_package

    try:
        written = write_package(zip_path, app_id, name=name, version=version)
    except ValueError as exc:
        err.print(f"[red]copbot:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    Console().print(
        f"Wrote {written}. Upload it in Teams: Apps > Manage your apps > Upload an app.",
        highlight=False,
    )


def main() -> None:
    app()
