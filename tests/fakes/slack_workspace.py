"""copbot's real server on 127.0.0.1 wired to the fake Slack API, and signed requests to it."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.app import Core
from bot.settings import Settings
from copbot.app import web_app as build_web_app
from tests.fakes.loopback import start_on_loopback
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import (
    TEAM_ID,
    event_body,
    interaction_body,
    sign,
    slash_command_body,
)

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "slack"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"

FORM = "application/x-www-form-urlencoded"


def load_payload(name: str) -> dict[str, Any]:
    """A stored Slack payload from tests/payloads/slack (a fresh copy each time)."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return loaded


def slack_settings(base: Settings, api: FakeSlackApi, **overrides: Any) -> Settings:
    """`base` with Slack pointed at the fake (single-token HTTP mode unless overridden)."""
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api.base_url,
        **overrides,
    }
    secrets = {
        name
        for name, field in Settings.model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    }
    update = {
        name: SecretStr(value) if name in secrets and isinstance(value, str) else value
        for name, value in values.items()
    }
    return base.model_copy(update=update)


def with_slack(core: Core, api: FakeSlackApi, **overrides: Any) -> Core:
    """The same core (database, router, outbox) with Slack settings."""
    return dataclasses.replace(core, settings=slack_settings(core.settings, api, **overrides))


@dataclasses.dataclass
class Answer:
    """What copbot's endpoint answered."""

    status: int
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class SlackClientSide:
    """Plays Slack: signs and posts commands, events and interactions to copbot's endpoint."""

    def __init__(
        self,
        web_app: web.Application,
        *,
        secret: str = SIGNING_SECRET,
        api: FakeSlackApi | None = None,
    ) -> None:
        self.web_app = web_app
        self.secret = secret
        self.api = api  # when given, response URLs point at it (never at hooks.slack.com)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> Self:
        self._runner, port = await start_on_loopback(self.web_app)
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> Answer:
        assert self._session is not None
        signed = sign(secret or self.secret, body, timestamp or int(time.time()))
        all_headers = {"Content-Type": content_type, **signed, **(headers or {})}
        async with self._session.post(self.url + path, data=body, headers=all_headers) as resp:
            return Answer(status=resp.status, text=await resp.text())

    async def post_unsigned(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST `body` to /slack/events with exactly `headers` (no signature added)."""
        assert self._session is not None
        async with self._session.post(
            self.url + "/slack/events", data=body, headers=headers
        ) as resp:
            return Answer(status=resp.status, text=await resp.text())

    async def get(self, path: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        assert self._session is not None
        async with self._session.get(
            self.url + path, headers=headers or {}, allow_redirects=False
        ) as resp:
            await resp.read()
            return resp

    async def command(self, text: str, **fields: Any) -> Answer:
        """`/cop <text>` as alice in #general unless `fields` say otherwise."""
        if self.api is not None:
            fields.setdefault("response_url", self.api.response_url())
        return await self.post(slash_command_body(text, **fields), FORM)

    async def event(
        self, event: dict[str, Any], *, retry: int | None = None, **envelope: Any
    ) -> Answer:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        body = event_body(event, **envelope)
        return await self.post(body, "application/json", headers=headers if retry else None)

    async def envelope(self, envelope: dict[str, Any], **headers: str) -> Answer:
        return await self.post(json.dumps(envelope).encode(), "application/json", headers=headers)

    async def interact(self, payload: dict[str, Any]) -> Answer:
        return await self.post(interaction_body(payload), FORM)


def slack_client_side(core: Core, api: FakeSlackApi, **overrides: Any) -> SlackClientSide:
    """copbot's real web app (build_web_app) for `core` with Slack on the fake API."""
    return SlackClientSide(build_web_app(with_slack(core, api, **overrides)), api=api)


__all__ = [
    "TEAM_ID",
    "Answer",
    "SlackClientSide",
    "load_payload",
    "slack_client_side",
    "with_slack",
]
