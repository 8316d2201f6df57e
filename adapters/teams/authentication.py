"""botbuilder's Bot Framework authentication as copbot uses it: refusals that are refusals.

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

from adapters.teams.signing_keys import KeysUnavailable


class TokenRefused(PermissionError):
    """The request's token did not pass; the message names the check, in a few words."""


class CopbotAuthentication(BotFrameworkAuthentication):
    """Wraps botbuilder's `BotFrameworkAuthentication` (the extension point `CloudAdapter`
    takes): authentication failures become `TokenRefused`."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner

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
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self._inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
