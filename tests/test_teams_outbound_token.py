"""The Teams bot's outbound token is fetched and renewed in worker threads, never on the loop."""

from __future__ import annotations

import asyncio
import threading

from botframework.connector.auth import MicrosoftAppCredentials, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

from adapters.teams import tokens
from adapters.teams.tokens import KeptToken, OffLoopTokens


class SlowCredentials(MicrosoftAppCredentials):
    """Credentials whose token fetch blocks, as msal's HTTP call to Entra ID does."""

    def __init__(self) -> None:
        super().__init__("app-id", "secret")
        self.fetched_in: list[str] = []

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.fetched_in.append(threading.current_thread().name)
        threading.Event().wait(0.05)
        return f"token-{len(self.fetched_in)}"


class SlowFactory(ServiceClientCredentialsFactory):
    def __init__(self) -> None:
        self.made = SlowCredentials()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == "app-id"

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        return self.made


async def test_the_first_token_is_fetched_in_a_worker_thread_and_kept() -> None:
    inner = SlowFactory()
    credentials = await OffLoopTokens(inner).create_credentials("app-id", "scope", "", True)
    assert isinstance(credentials, MicrosoftAppCredentials)
    assert len(inner.made.fetched_in) == 1
    assert inner.made.fetched_in[0] != threading.current_thread().name
    # msrest asks on the event loop for every send: the kept token, no fetch.
    assert [credentials.get_access_token() for _ in range(3)] == ["token-1"] * 3
    assert len(inner.made.fetched_in) == 1


async def test_an_old_token_is_renewed_in_the_background_while_still_handed_out() -> None:
    now = [0.0]
    made = SlowCredentials()
    kept = KeptToken(made.get_access_token, clock=lambda: now[0])
    await kept.renew()
    now[0] += tokens.REFRESH_AFTER + 1
    assert kept.get() == "token-1"  # at once, without waiting for the renewal
    assert kept.get() == "token-1"  # one renewal at a time
    for _ in range(100):
        await asyncio.sleep(0.01)
        if kept.get() == "token-2":
            break
    assert kept.get() == "token-2"
    assert len(made.fetched_in) == 2
    assert threading.current_thread().name not in made.fetched_in
