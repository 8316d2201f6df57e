"""The identity provider's token-signing keys for botbuilder's checks, fetched off the event loop.

Why this patches botbuilder: its `JwtTokenExtractor` gets a token's key from an `_OpenIdMetadata`
object that fetches the OpenID metadata and the JWKS with a blocking `requests.get` without a
timeout, inside the event loop. A slow identity provider stalls every request (/healthz too); an
unreachable one turns a refusal into a 500; a key id it does not publish raises IndexError (500).
The validation classes build their extractor inline, so no argument or subclass can give it
another key source. The one seam is the class-level cache the extractor takes those objects from,
`JwtTokenExtractor.metadataCache` (metadata URL -> object with `async get(key_id)`): `install()`
puts a `SigningKeys` there for each URL botbuilder reads. This module is the only place copbot
touches botbuilder's state; every check on the token itself (signature, issuer, audience, expiry,
endorsements, service URL) stays botbuilder's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from botframework.connector.auth import AuthenticationConstants, ChannelValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import PyJWTError

log = logging.getLogger(__name__)

CHANNEL_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
EMULATOR_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL

FETCH_TIMEOUT_SECONDS = 10.0
MAX_AGE_SECONDS = 24 * 3600.0  # botbuilder's own refresh interval
UNKNOWN_KEY_REFRESH_SECONDS = 3600.0  # a key id not seen refetches at most this often
RETRY_AFTER_SECONDS = 30.0  # after a failed fetch, answer from what is known until then


class KeysUnavailable(Exception):
    """No signing keys could be fetched and none are known: the request cannot be checked (503)."""


class UnknownSigningKey(PermissionError):
    """The token names a key the identity provider does not publish: a refusal (401)."""


@dataclass(frozen=True)
class SigningKey:
    """What botbuilder's extractor reads from a key: the public key and its endorsements."""

    public_key: Any
    endorsements: list[str] = field(default_factory=list)


class SigningKeys:
    """The keys behind one OpenID metadata document, fetched with aiohttp (with a timeout) and
    kept for a day; requests arriving during a fetch share it. Used by botbuilder through
    `install()`, so it must work from whichever event loop is running."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metadata_url = metadata_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._keys: dict[str, SigningKey] | None = None
        self._fetched_at = 0.0
        self._next_attempt = 0.0
        self._fetch: asyncio.Task[dict[str, SigningKey] | None] | None = None

    async def get(self, key_id: str | None) -> SigningKey:
        """The key `key_id` (botbuilder's interface); raises `UnknownSigningKey` or
        `KeysUnavailable`."""
        now = self._clock()
        if self._keys is None or now - self._fetched_at > MAX_AGE_SECONDS:
            await self._refresh(now)
        if self._keys is None:
            raise KeysUnavailable(f"no signing keys from {self.metadata_url}")
        key = self._keys.get(key_id or "")
        if key is None and now - self._fetched_at > UNKNOWN_KEY_REFRESH_SECONDS:
            await self._refresh(now)
            key = self._keys.get(key_id or "")
        if key is None:
            raise UnknownSigningKey("the token's signing key is not the identity provider's")
        return key

    async def _refresh(self, now: float) -> None:
        if now < self._next_attempt:
            return  # a fetch failed a moment ago; keep what is known (if anything)
        loop = asyncio.get_running_loop()
        fetch = self._fetch
        if fetch is None or fetch.done() or fetch.get_loop() is not loop:
            fetch = self._fetch = loop.create_task(self._download())
        # shield: a caller that gives up (client gone) must not cancel the others' fetch.
        keys = await asyncio.shield(fetch)
        if keys is None:
            self._next_attempt = self._clock() + RETRY_AFTER_SECONDS
            return
        self._keys, self._fetched_at = keys, self._clock()

    async def _download(self) -> dict[str, SigningKey] | None:
        try:
            async with aiohttp.ClientSession(timeout=self._timeout, trust_env=True) as session:
                async with session.get(self.metadata_url) as response:
                    response.raise_for_status()
                    metadata = await response.json(content_type=None)
                async with session.get(str(metadata["jwks_uri"])) as response:
                    response.raise_for_status()
                    jwks = await response.json(content_type=None)
            return _parse_keys(jwks["keys"])
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "could not fetch Bot Framework signing keys from %s: %s",
                self.metadata_url,
                type(exc).__name__,
            )
            return None


def _parse_keys(raw: Any) -> dict[str, SigningKey]:
    """The usable RSA keys of a JWKS `keys` list, by key id; others are skipped."""
    keys: dict[str, SigningKey] = {}
    for jwk in raw:
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(dict(jwk)))
        except (PyJWTError, ValueError, TypeError, KeyError):
            continue
        endorsements = jwk.get("endorsements")
        keys[jwk["kid"]] = SigningKey(
            public_key=public_key,
            endorsements=[str(e) for e in endorsements] if isinstance(endorsements, list) else [],
        )
    if not keys:
        raise ValueError("the JWKS holds no usable key")
    return keys


def metadata_urls() -> tuple[str, ...]:
    """The metadata documents botbuilder reads for the public cloud, as it picks them: tokens from
    the Bot Framework channels (Teams; `ChannelValidation.open_id_metadata_endpoint` overrides
    the default, as in botbuilder), and from the Emulator and skills."""
    channel = ChannelValidation.open_id_metadata_endpoint or CHANNEL_METADATA_URL
    return (channel, EMULATOR_METADATA_URL)


def install() -> dict[str, SigningKeys]:
    """Make botbuilder read signing keys through `SigningKeys` for every metadata URL it uses.
    A later call replaces an earlier one: there is one Teams endpoint per process."""
    installed = {url: SigningKeys(url) for url in metadata_urls()}
    # The patch: botbuilder looks these objects up by URL in this class-level dict.
    JwtTokenExtractor.metadataCache.update(installed)
    return installed
