"""The Teams endpoint: `POST /api/messages` on copbot's aiohttp server, wired to the core."""

from __future__ import annotations

import logging
import secrets
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.integration.aiohttp.configuration_service_client_credential_factory import (
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import ServiceClientCredentialsFactory

from adapters.teams import signing_keys
from adapters.teams.access import TeamsAccess, teams_access
from adapters.teams.authentication import CopbotAuthentication, TokenRefused
from adapters.teams.connectors import SharedClients
from adapters.teams.inbound import MalformedActivity, read_activity
from adapters.teams.platform import TeamsPlatform
from adapters.teams.references import ReferenceStore
from adapters.teams.render import CardRenderer
from adapters.teams.signing_keys import KeysUnavailable
from adapters.teams.tokens import OffLoopTokens
from adapters.teams.turns import TurnHandler
from bot.app import Core
from bot.settings import Settings

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


class TeamsEndpoint:
    """Receives activities, lets botbuilder check their token, runs the turn. A request whose
    token does not pass gets 401, one that cannot be checked (signing keys unavailable) 503."""

    def __init__(
        self,
        adapter: CloudAdapter,
        handler: TurnHandler,
        platform: TeamsPlatform,
        clients: SharedClients,
    ):
        self.adapter = adapter
        self.handler = handler
        self.platform = platform
        self.clients = clients

    async def messages(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages. The activity is read strictly (400 and one log line when it
        cannot be), then botbuilder checks its token and runs the turn."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise web.HTTPUnsupportedMediaType(text="expected an application/json activity")
        try:
            activity = read_activity(await request.json())
        except (ValueError, UnicodeDecodeError) as exc:  # JSON errors are ValueErrors too
            reason = str(exc) if isinstance(exc, MalformedActivity) else "the body is not JSON"
            log.info("refused a Teams activity from %s: %s", request.remote, reason)
            raise web.HTTPBadRequest(text=reason) from None
        try:
            # What botbuilder's CloudAdapter.process does after deserialising, on our activity.
            invoke = await self.adapter.process_activity(
                request.headers.get("Authorization", ""), activity, self.handler.on_turn
            )
        except TokenRefused as refused:
            log.info("refused a Teams request from %s: %s", request.remote, refused)
            raise web.HTTPUnauthorized() from None
        except KeysUnavailable:
            log.warning("could not check a Teams request's token: no signing keys")
            raise web.HTTPServiceUnavailable(text="cannot check tokens right now") from None
        except web.HTTPException:
            raise
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s handling a Teams activity", error_id)
            return web.json_response({"error": error_id}, status=500)
        if invoke is None:
            return web.Response(status=201)
        # A body copbot built is plain JSON already; botbuilder's models need serialising
        # (serialising a dict again is what made botbuilder's own invoke answers fail with 500).
        body = invoke.body
        if body is not None and not isinstance(body, dict | list):
            body = serializer_helper(body)
        return web.json_response(body, status=invoke.status)


def bot_authentication(
    settings: Settings, credentials_factory: ServiceClientCredentialsFactory | None = None
) -> CopbotAuthentication:
    """botbuilder's authentication from copbot's settings (empty app id: no authentication)."""
    password = settings.teams_app_password.get_secret_value() if settings.teams_app_password else ""
    tenant = settings.teams_app_tenant_id or ""
    config = SimpleNamespace(
        APP_ID=settings.teams_app_id or "",
        APP_PASSWORD=password,
        APP_TYPE="SingleTenant" if tenant else "MultiTenant",
        APP_TENANTID=tenant,
    )
    factory = OffLoopTokens(
        credentials_factory or ConfigurationServiceClientCredentialFactory(config)
    )
    return CopbotAuthentication(
        ConfigurationBotFrameworkAuthentication(config, credentials_factory=factory)
    )


def build_teams(
    core: Core, *, credentials_factory: ServiceClientCredentialsFactory | None = None
) -> TeamsEndpoint:
    """The Teams adapter over `core` (the composition root registers its platform)."""
    access = teams_access(core.settings)
    if access is TeamsAccess.UNAUTHENTICATED:
        log.warning(
            "Teams runs WITHOUT authentication (no TEAMS_APP_ID): for local testing only; "
            "anyone who reaches %s can act as any user",
            MESSAGES_PATH,
        )
    else:
        signing_keys.install()  # token checks fetch keys without blocking the event loop
    authentication = bot_authentication(core.settings, credentials_factory)
    adapter = CloudAdapter(authentication)
    references = ReferenceStore(core.database, core.clock)
    renderer = CardRenderer()
    platform = TeamsPlatform(adapter, references, renderer, app_id=core.settings.teams_app_id or "")
    handler = TurnHandler(core, platform, references, renderer)
    return TeamsEndpoint(adapter, handler, platform, authentication.clients)


TEAMS_KEY = web.AppKey("teams", TeamsEndpoint)


def mount_teams(
    app: web.Application,
    core: Core,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> TeamsEndpoint:
    """Add `POST /api/messages` to `app`; the connector clients' session closes with it."""
    endpoint = build_teams(core, credentials_factory=credentials_factory)
    app[TEAMS_KEY] = endpoint
    app.router.add_post(MESSAGES_PATH, endpoint.messages)

    async def close_clients(_: web.Application) -> None:
        await endpoint.clients.close()

    app.on_cleanup.append(close_clients)
    return endpoint
