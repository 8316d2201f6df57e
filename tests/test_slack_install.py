"""Ways to run Slack: OAuth installs for many workspaces, Socket Mode, and refused settings."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode

import pytest
from aiohttp import web
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from adapters.slack.app import SlackAdapter, check_settings
from bot.app import Core
from bot.replies import Destination, Reply
from bot.settings import Settings, SettingsError
from copbot.app import web_app as build_web_app
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import slash_command_body
from tests.fakes.slack_workspace import (
    SlackClientSide,
    load_payload,
    slack_client_side,
    slack_settings,
    with_slack,
)

OAUTH = {"slack_bot_token": None, "slack_client_id": "111.222", "slack_client_secret": "shh"}


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


async def install(slack: SlackClientSide) -> int:
    """Walk the install flow as a browser would; returns the callback's status."""
    page = await slack.get("/slack/install")
    assert page.status == 200
    cookie = page.cookies["slack-app-oauth-state"]
    assert cookie["secure"]  # so a test sends it back by hand
    link = r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"'
    authorize = re.search(link, await page.text())
    assert authorize is not None
    query = parse_qs(authorize.group(1).split("?", 1)[1].replace("&amp;", "&"))
    assert query["client_id"] == ["111.222"] and "chat:write" in query["scope"][0]
    assert query["state"] == [cookie.value]
    callback = await slack.get(
        "/slack/oauth_redirect?" + urlencode({"code": "abc", "state": cookie.value}),
        headers={"Cookie": f"slack-app-oauth-state={cookie.value}"},
    )
    return callback.status


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_the_oauth_flow_installs_and_the_install_serves_its_workspace(
    core: Core, api: FakeSlackApi
) -> None:
    async with slack_client_side(core, api, **OAUTH) as slack:
        uninstalled = await slack.command("help", response_url=api.response_url("no-install"))
        assert uninstalled.status == 200 and uninstalled.text == ""
        [told] = await api.wait_for("response_url")
        assert "install" in told.args["text"].lower()

        assert await install(slack) == 200
        [exchange] = api.calls_to("oauth.v2.access")
        assert exchange.args["code"] == "abc"

        answer = await slack.command('setup "Data Science"')
        assert answer.status == 200 and "Data Science" in answer.text
        await core.outbox.send(
            Reply(
                kind="oops",
                data={"error_id": "x"},
                to=Destination(platform="slack", workspace="T0001", channel="C0001"),
            )
        )
        [posted] = api.calls_to("chat.postMessage")
        assert posted.headers["Authorization"] == "Bearer xoxb-installed"

        other = await slack.command("communities", team_id="T0002")
        assert other.status == 200 and other.text == ""  # told to install, via response_url
        assert len(api.calls_to("response_url")) == 2


async def test_a_forged_oauth_state_installs_nothing(core: Core, api: FakeSlackApi) -> None:
    async with slack_client_side(core, api, **OAUTH) as slack:
        callback = await slack.get(
            "/slack/oauth_redirect?code=abc&state=forged",
            headers={"Cookie": "slack-app-oauth-state=forged"},
        )

    assert callback.status == 401
    assert api.calls_to("oauth.v2.access") == []


async def test_socket_mode_answers_commands_and_events_without_an_http_endpoint(
    core: Core, api: FakeSlackApi
) -> None:
    web_app = build_web_app(with_slack(core, api, slack_app_token="xapp-test"))
    async with SlackClientSide(web_app, api=api) as slack:
        assert (await slack.command("help")).status == 404  # no /slack/events in Socket Mode
        command = parse_qs(slash_command_body("help").decode())
        ack = await api.socket_send("slash_commands", {k: v[0] for k, v in command.items()})
        assert "/cop help" in str(ack["payload"]["blocks"])

        await api.socket_send("events_api", load_payload("event_message_im"))
        [reply] = await api.wait_for("chat.postMessage")
        assert reply.args["channel"] == "DU0ALICE"
    assert api.calls_to("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-test"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET is required"),
        ({"slack_client_id": "1.2", "slack_bot_token": None}, "needs both SLACK_CLIENT_ID"),
    ],
)
async def test_settings_slack_cannot_work_with_are_refused(
    api: FakeSlackApi, overrides: dict[str, str | None], problem: str
) -> None:
    """Checked before any storage is touched, so this runs once, not once per database."""
    settings = slack_settings(Settings(), api, **overrides)
    with pytest.raises(SettingsError, match=problem):
        check_settings(settings)


async def test_socket_mode_needs_no_signing_secret(core: Core, api: FakeSlackApi) -> None:
    adapter = SlackAdapter(
        with_slack(core, api, slack_signing_secret=None, slack_app_token="xapp-test")
    )
    app = web.Application()
    adapter.mount(app)

    # Socket Mode serves no HTTP endpoint, so there is nothing to sign requests for.
    assert "/slack/events" not in {route.resource.canonical for route in app.router.routes()}


async def test_a_token_from_the_environment_draws_no_bolt_warning(
    core: Core,
    api: FakeSlackApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    adapter = SlackAdapter(with_slack(core, api))

    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert adapter.bolt.client.base_url == api.base_url
    [only] = adapter.bolt.client.retry_handlers  # 429s only: Slack removes no duplicate posts
    assert isinstance(only, AsyncRateLimitErrorRetryHandler)
    assert adapter.bolt.client.token == "xoxb-test"
