"""When the Teams endpoint runs, and whether it checks Bot Framework tokens."""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from bot.settings import Settings, SettingsError


class TeamsAccess(StrEnum):
    AUTHENTICATED = "authenticated"  # TEAMS_APP_ID set: every request's token is validated
    UNAUTHENTICATED = "unauthenticated"  # local testing (Agents Playground, Emulator)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def teams_wanted(settings: Settings) -> bool:
    """Teams is served when configured, and by a server that has nothing else to serve."""
    return settings.teams_configured or not settings.slack_configured


def teams_access(settings: Settings) -> TeamsAccess:
    """How Teams runs with these settings; raises `SettingsError` (one line) when it must not."""
    if settings.teams_app_id:
        if settings.teams_app_password is None:
            raise SettingsError("TEAMS_APP_PASSWORD: needed with TEAMS_APP_ID (the bot's secret)")
        return TeamsAccess.AUTHENTICATED
    if settings.teams_allow_unauthenticated or is_loopback(settings.host):
        return TeamsAccess.UNAUTHENTICATED
    raise SettingsError(
        f"Teams has no TEAMS_APP_ID, so /api/messages would accept anyone's requests on "
        f"COPBOT_HOST={settings.host}; set TEAMS_APP_ID and TEAMS_APP_PASSWORD, or "
        "COPBOT_TEAMS_ALLOW_UNAUTHENTICATED=1 for local testing only"
    )
