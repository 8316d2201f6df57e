"""A fake Bot Framework identity provider: OpenID metadata and a JWKS on 127.0.0.1, and tokens
signed like the Bot Framework's (or forged).

It serves from a thread of its own, with its own event loop, so that a bot which fetches keys
with a blocking call inside the test's event loop still reaches it. `stall()` makes it hold
metadata requests until `release()`; if nobody releases them, it answers after
`STALL_LIMIT_SECONDS` and records that it was not released (so a frozen bot fails the test
instead of hanging it)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import Any, Self

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.loopback import start_on_loopback

CHANNEL_ISSUER = "https://api.botframework.com"
KEY_ID = "copbot-test-key"
STALL_LIMIT_SECONDS = 30.0


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeIdentityProvider:
    """Use as ``async with FakeIdentityProvider() as idp:``; point copbot at `idp.metadata_url`."""

    def __init__(self, *, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.key = new_key()
        self.endorsements = list(endorsements)
        self.requests: list[str] = []  # paths, in the order they arrived
        self.arrived = threading.Event()  # set when a metadata request arrives
        self.released_by_test: bool | None = None
        self._stalled = False
        self._release = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._port = 0

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1/.well-known/openidconfiguration"

    def stall(self) -> None:
        """Hold every metadata request until `release()`."""
        self._stalled = True
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def token(
        self,
        *,
        app_id: str,
        service_url: str,
        key: rsa.RSAPrivateKey | None = None,
        key_id: str = KEY_ID,
        **claims: Any,
    ) -> str:
        """A channel token for `app_id` as the Bot Framework signs it (by default with this
        provider's key); `key`, `key_id` and `claims` forge or spoil it."""
        now = int(time.time())
        payload = {
            "iss": CHANNEL_ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": key_id})

    async def __aenter__(self) -> Self:
        self._thread = threading.Thread(target=self._serve, name="fake-idp", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._ready.wait, 30)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        runner, self._port = await start_on_loopback(app)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        self.arrived.set()
        if self._stalled:
            released = await asyncio.to_thread(self._release.wait, STALL_LIMIT_SECONDS)
            self.released_by_test = released
        base = f"http://127.0.0.1:{self._port}"
        return web.json_response({"issuer": CHANNEL_ISSUER, "jwks_uri": base + "/v1/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": KEY_ID, "use": "sig", "endorsements": self.endorsements})
        return web.json_response({"keys": [jwk]})
