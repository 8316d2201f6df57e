"""Which bot token serves which workspace: one configured token, or OAuth installations."""

from __future__ import annotations

import logging

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.manifest import OAUTH_REDIRECT_PATH, load_manifest

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
STATE_EXPIRATION_SECONDS = 600


class SingleWorkspace:
    """One bot token (SLACK_BOT_TOKEN) for the one workspace it was issued in."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token_for(self, workspace: str, enterprise: str | None = None) -> str | None:
        return self._token


class Installations:
    """OAuth installs kept in copbot's own database (Slack's SQLAlchemy store), so one
    deployment serves many workspaces; Bolt authorises each request from it."""

    def __init__(
        self, *, client_id: str, client_secret: str, engine: AsyncEngine, client: AsyncWebClient
    ) -> None:
        self.store = AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)
        self.state_store = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine
        )
        self.oauth_settings = AsyncOAuthSettings(
            client_id=client_id,
            client_secret=client_secret,
            scopes=load_manifest()["oauth_config"]["scopes"]["bot"],
            user_scopes=[],
            installation_store=self.store,
            state_store=self.state_store,
            install_path=INSTALL_PATH,
            redirect_uri_path=OAUTH_REDIRECT_PATH,
        )
        self.authorize = AsyncInstallationStoreAuthorize(
            logger=log,
            installation_store=self.store,
            client_id=client_id,
            client_secret=client_secret,
            cache_enabled=True,
            client=client,
        )

    async def create_tables(self) -> None:
        """Create slack_installations, slack_bots and slack_oauth_states if missing.

        The tables belong to slack_sdk's store, which defines them itself; creating them
        here (idempotently) keeps them in step with the installed slack_sdk."""
        await self.store.create_tables()
        await self.state_store.create_tables()

    async def token_for(self, workspace: str, enterprise: str | None = None) -> str | None:
        bot = await self.store.async_find_bot(enterprise_id=enterprise, team_id=workspace)
        return bot.bot_token if bot is not None else None
