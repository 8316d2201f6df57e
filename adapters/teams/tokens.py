"""The bot's outbound token fetched off the event loop.

botbuilder's credentials get their token inside msrest's synchronous `signed_session`, on the
event loop: a cache hit is quick, but a miss (the first send, then about hourly) is a blocking
HTTP call to Microsoft Entra ID through msal, stalling every request meanwhile. Here each
credentials object gets its first token in a worker thread and keeps it, and a token past
`REFRESH_AFTER` is renewed in a worker thread while the kept one is still handed out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

log = logging.getLogger(__name__)

# Entra ID's app tokens last 60 to 90 minutes: renew well before.
REFRESH_AFTER = 30 * 60.0


class KeptToken:
    """A credentials object's token, fetched and renewed in worker threads."""

    def __init__(self, fetch: Callable[[], str], clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._clock = clock
        self._token = ""
        self._fetched_at = 0.0
        self._renewal: asyncio.Task[None] | None = None

    async def renew(self) -> None:
        token = await asyncio.to_thread(self._fetch)
        self._token, self._fetched_at = token, self._clock()

    def get(self, force_refresh: bool = False) -> str:
        """The kept token (msrest asks for it on the event loop); renewal starts in the
        background once it is old. Without a token yet, it is fetched here (blocking)."""
        if not self._token:
            self._token, self._fetched_at = self._fetch(), self._clock()
        elif (force_refresh or self._clock() - self._fetched_at > REFRESH_AFTER) and (
            self._renewal is None or self._renewal.done()
        ):
            self._renewal = asyncio.get_running_loop().create_task(self._renew_quietly())
        return self._token

    async def _renew_quietly(self) -> None:
        try:
            await self.renew()
        except Exception:  # the kept token is still good for a while; the next send retries
            log.warning("renewing the Teams bot token failed", exc_info=True)


class OffLoopTokens(ServiceClientCredentialsFactory):
    """botbuilder's credentials factory seam: the credentials `inner` makes, with their token
    kept by a `KeptToken` (first fetched here, in a worker thread)."""

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        credentials = await self._inner.create_credentials(
            app_id, oauth_scope, login_endpoint, validate_authority
        )
        if not isinstance(credentials, AppCredentials) or not credentials.microsoft_app_id:
            return credentials  # no app id: replies are sent without a token
        kept = KeptToken(credentials.get_access_token)
        await kept.renew()
        credentials.get_access_token = kept.get  # type: ignore[method-assign]
        return credentials
