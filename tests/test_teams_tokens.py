"""Teams with an app id: tokens checked against a local identity provider without blocking the
server, 401 for tokens that do not pass, 503 while keys cannot be fetched; clients shared."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import (
    AppCredentials,
    ChannelValidation,
    PasswordServiceClientCredentialFactory,
)
from sqlmodel import select

from adapters.server import CORE_KEY, healthz
from adapters.teams.signing_keys import SigningKeys, UnknownSigningKey
from adapters.teams.web import mount_teams
from bot.app import build_core
from bot.clock import FixedClock
from bot.settings import Settings
from storage.database import Database
from storage.models import ConversationReference
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.bot_credentials import TOKEN, StaticTokenFactory
from tests.fakes.identity_provider import KEY_ID, FakeIdentityProvider, new_key
from tests.test_teams_endpoint import APP_ID, Client, TeamsChat, card_text

Serve = Callable[..., Awaitable[TeamsChat]]


class CountingTokenFactory(StaticTokenFactory):
    """Counts credentials made: botbuilder makes one per connector or user-token client."""

    def __init__(self, app_id: str) -> None:
        super().__init__(app_id)
        self.made = 0

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        self.made += 1
        return await super().create_credentials(
            app_id, oauth_scope, login_endpoint, validate_authority
        )


class CountingNoAuthFactory(PasswordServiceClientCredentialFactory):
    """No app id (local testing), counting credentials made as above."""

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        self.made += 1
        return await super().create_credentials(
            app_id, oauth_scope, login_endpoint, validate_authority
        )


@pytest.fixture
async def idp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeIdentityProvider]:
    """The identity provider, where botbuilder's channel token checks look for keys."""
    async with FakeIdentityProvider() as provider:
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", provider.metadata_url)
        yield provider


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
async def serve(
    database: Database, clock: FixedClock, connector: FakeBotConnector
) -> AsyncIterator[Serve]:
    """copbot's /healthz and /api/messages for settings of the test's choosing."""
    clients: list[Client] = []

    async def start(settings: Settings, credentials: Any) -> TeamsChat:
        core = build_core(settings, database=database, clock=clock)
        app = web.Application()
        app[CORE_KEY] = core
        app.router.add_get("/healthz", healthz)
        mount_teams(app, core, credentials_factory=credentials)
        client: Client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return TeamsChat(client, connector)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def teams(database: Database, serve: Serve, idp: FakeIdentityProvider) -> TeamsChat:
    settings = Settings(database_url=database.url, teams_app_id=APP_ID, teams_app_password="secret")
    return await serve(settings, StaticTokenFactory(APP_ID))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None, record.getMessage()


async def test_a_stalled_identity_provider_does_not_stall_the_server(
    idp: FakeIdentityProvider, teams: TeamsChat
) -> None:
    idp.stall()
    forged = idp.token(app_id=APP_ID, service_url=teams.connector.service_url, key=new_key())
    pending = asyncio.ensure_future(
        teams.client.post(
            "/api/messages", json=teams.in_personal_chat("help"), headers=bearer(forged)
        )
    )
    assert await asyncio.to_thread(idp.arrived.wait, 60)  # the key lookup has begun
    health = await teams.client.get("/healthz")  # ...and the server still answers
    assert health.status == 200
    idp.release()
    assert (await pending).status == 401  # signed by a key the provider does not have
    assert idp.released_by_test is True  # the provider was released by us, after /healthz


async def test_unreachable_keys_answer_503(
    idp: FakeIdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    database: Database,
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/.well-known/openidconfiguration"
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", closed)
    settings = Settings(database_url=database.url, teams_app_id=APP_ID, teams_app_password="x")
    teams = await serve(settings, StaticTokenFactory(APP_ID))
    token = idp.token(app_id=APP_ID, service_url=teams.connector.service_url)
    caplog.clear()
    response = await teams.client.post(
        "/api/messages", json=teams.in_personal_chat("help"), headers=bearer(token)
    )
    assert response.status == 503
    assert_no_traceback(caplog)
    assert teams.connector.calls == []
    async with database.session() as session:
        assert (await session.exec(select(ConversationReference))).all() == []


async def test_tokens_that_do_not_pass_are_refused_with_401(
    idp: FakeIdentityProvider, teams: TeamsChat, caplog: pytest.LogCaptureFixture
) -> None:
    service_url = teams.connector.service_url
    spoiled = {
        "another key, unknown id": idp.token(
            app_id=APP_ID, service_url=service_url, key=new_key(), key_id="stranger"
        ),
        "another key, our id": idp.token(app_id=APP_ID, service_url=service_url, key=new_key()),
        "no key id": jwt.encode(
            {"iss": "https://api.botframework.com", "aud": APP_ID}, new_key(), algorithm="RS256"
        ),
        "another bot": idp.token(app_id="someone-else", service_url=service_url),
        "another service URL": idp.token(app_id=APP_ID, service_url="http://127.0.0.1:1/"),
        "expired": idp.token(app_id=APP_ID, service_url=service_url, exp=1_000_000_000),
        "HS256": jwt.encode(
            {"iss": "https://api.botframework.com", "aud": APP_ID},
            "secret-at-least-32-bytes-long-....",
            algorithm="HS256",
            headers={"kid": KEY_ID},
        ),
    }
    caplog.clear()
    for name, token in spoiled.items():
        response = await teams.client.post(
            "/api/messages", json=teams.in_personal_chat("help"), headers=bearer(token)
        )
        assert response.status == 401, name
    assert_no_traceback(caplog)
    assert teams.connector.calls == []


async def test_a_genuine_token_is_answered_and_keys_are_fetched_once(
    idp: FakeIdentityProvider, database: Database, serve: Serve
) -> None:
    credentials = CountingTokenFactory(APP_ID)
    settings = Settings(database_url=database.url, teams_app_id=APP_ID, teams_app_password="x")
    teams = await serve(settings, credentials)
    token = idp.token(app_id=APP_ID, service_url=teams.connector.service_url)
    for _ in range(5):
        [answer] = await teams.post(teams.in_personal_chat("help"), **bearer(token))
        assert "copbot keeps your community of practice alive" in card_text(answer)
    assert idp.requests == ["/v1/.well-known/openidconfiguration", "/v1/keys"]
    assert {c.authorization for c in teams.connector.calls} == {f"Bearer {TOKEN}"}
    # One connector client and one user-token client for the five activities.
    assert credentials.made == 2


async def test_unauthenticated_teams_builds_one_connector_client_per_service_url(
    database: Database, serve: Serve
) -> None:
    credentials = CountingNoAuthFactory()
    teams = await serve(Settings(database_url=database.url), credentials)
    for text in ("help", "about", "communities", "help", "members"):
        assert len(await teams.post(teams.in_personal_chat(text))) == 1
    assert credentials.made == 2
    assert len(teams.connector.sent_activities()) == 5


class StepClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_signing_keys_are_kept_a_day_and_an_unknown_key_refetches_at_most_hourly(
    idp: FakeIdentityProvider,
) -> None:
    clock = StepClock()
    keys = SigningKeys(idp.metadata_url, clock=clock)
    fetch = ["/v1/.well-known/openidconfiguration", "/v1/keys"]
    assert (await keys.get(KEY_ID)).endorsements == ["msteams"]
    with pytest.raises(UnknownSigningKey):
        await keys.get("stranger")  # fetched under an hour ago: no new fetch
    clock.now += 23 * 3600
    await keys.get(KEY_ID)
    assert idp.requests == fetch
    clock.now += 2 * 3600  # a day and an hour after the fetch
    await keys.get(KEY_ID)
    assert idp.requests == fetch * 2
    with pytest.raises(UnknownSigningKey):
        await keys.get("stranger")
    assert idp.requests == fetch * 2
    clock.now += 2 * 3600
    with pytest.raises(UnknownSigningKey):
        await keys.get("stranger")  # an hour on: fetched again, still unknown
    assert idp.requests == fetch * 3
