"""botbuilder's Bot Framework authentication as copbot uses it: refusals that are refusals, and
clients shared across turns.

botbuilder rejects some bad tokens with PermissionError, others with a bare Exception ("Token
signing algorithm not in allowed list"), an IndexError or a PyJWTError; here every failure to
authenticate a request is a PermissionError (401), except `KeysUnavailable` (503: the token
could not be checked at all). Everything else is delegated unchanged."""

from __future__ import annotations

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient

from adapters.teams.connectors import SharedClients, app_id_of
from adapters.teams.signing_keys import KeysUnavailable


class TokenRefused(PermissionError):
    """The request's token did not pass; the message names the check, in a few words."""


class CopbotAuthentication(BotFrameworkAuthentication):
    """Wraps botbuilder's `BotFrameworkAuthentication` (the extension point `CloudAdapter`
    takes): authentication failures become `TokenRefused`, and the connector and user-token
    clients it hands out are shared through `SharedClients`."""

    def __init__(
        self, inner: BotFrameworkAuthentication, clients: SharedClients | None = None
    ) -> None:
        self._inner = inner
        self.clients = clients or SharedClients()

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except (KeysUnavailable, TokenRefused):
            raise
        except Exception as exc:
            # Which check failed is botbuilder's message; its type is enough for a log line.
            raise TokenRefused(f"token refused ({type(exc).__name__})") from None
        if result.connector_factory is not None:
            result.connector_factory = self.clients.connector_factory(
                result.connector_factory, app_id_of(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.clients.connector_factory(
            self._inner.create_connector_factory(claims_identity), app_id_of(claims_identity)
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = app_id_of(claims_identity)
        client = self.clients.token_client(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self.clients.keep_token_client(app_id, client)
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
