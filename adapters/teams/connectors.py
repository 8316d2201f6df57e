"""Connector and user-token clients shared across turns, per service URL and app id.

botbuilder's CloudAdapter builds a new `ConnectorClient` and `UserTokenClient` for every
activity (msrest sets up a retry policy and a requests session for each: about two thirds of the
event loop's busy time under load). They hold nothing per turn, so copbot keeps them, and sends
their calls through one aiohttp session (adapters.teams.sending)."""

from __future__ import annotations

from collections import OrderedDict

import aiohttp
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from adapters.teams.sending import send_through

# Teams uses a handful of service URLs; the bound only matters for unauthenticated local testing,
# where a request names any URL it likes.
MAX_CLIENTS = 64


def app_id_of(claims: ClaimsIdentity) -> str:
    """The bot's app id in a request's claims, where botbuilder reads it (audience, then appid)."""
    claim = claims.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    if claim is None:
        claim = claims.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
    return str(claim or "")


class SharedClients:
    """The clients built so far, least recently used dropped first past `MAX_CLIENTS`, and
    the one aiohttp session their calls go through. Two requests racing for a new key may
    both build a client; the last one is kept."""

    def __init__(self, max_clients: int = MAX_CLIENTS) -> None:
        self._max = max_clients
        self._connectors: OrderedDict[tuple[str, str, str], ConnectorClient] = OrderedDict()
        self._token_clients: OrderedDict[str, UserTokenClient] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session for connector calls, made on first use (on the running loop);
        each call goes through the proxy `proxy_for` names, as with `requests`."""
        if self._closed:  # the server stopped: a late send fails (the outbox keeps it)
            raise RuntimeError("copbot's Teams connector clients are closed")
        if self._session is None:
            # No cookie jar: one session serves every tenant and app id, and the Connector
            # is called with a bearer token, never a cookie.
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def close(self) -> None:
        """Close the session for good (the server is stopping)."""
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def connector_factory(self, inner: ConnectorFactory, app_id: str) -> ConnectorFactory:
        """A factory that asks `inner` (botbuilder's, for `app_id`) only for clients not kept."""
        return SharedConnectorFactory(inner, app_id, self)

    def connector(self, key: tuple[str, str, str]) -> ConnectorClient | None:
        client = self._connectors.get(key)
        if client is not None:
            self._connectors.move_to_end(key)
        return client

    def keep_connector(self, key: tuple[str, str, str], client: ConnectorClient) -> None:
        self._connectors[key] = client
        if len(self._connectors) > self._max:
            self._connectors.popitem(last=False)

    def token_client(self, app_id: str) -> UserTokenClient | None:
        return self._token_clients.get(app_id)

    def keep_token_client(self, app_id: str, client: UserTokenClient) -> None:
        self._token_clients[app_id] = client
        if len(self._token_clients) > self._max:
            self._token_clients.popitem(last=False)


class SharedConnectorFactory(ConnectorFactory):
    """botbuilder's `ConnectorFactory` seam: the client for a service URL and audience comes
    from `SharedClients` when one was built before."""

    def __init__(self, inner: ConnectorFactory, app_id: str, clients: SharedClients) -> None:
        self._inner = inner
        self._app_id = app_id
        self._clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience or "")
        client = self._clients.connector(key)
        if client is None:
            client = send_through(
                await self._inner.create(service_url, audience), self._clients.session()
            )
            self._clients.keep_connector(key, client)
        return client
