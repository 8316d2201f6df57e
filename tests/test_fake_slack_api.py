"""The fake Slack Web API answers slack_sdk as Slack would; the signing helper matches Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import event_body, interaction_body, sign, slash_command_body

# Slack's own example from "Verifying requests from Slack".
SLACK_EXAMPLE_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_EXAMPLE_TIMESTAMP = 1531420618
SLACK_EXAMPLE_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_EXAMPLE_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


@pytest.fixture
def client(api: FakeSlackApi) -> AsyncWebClient:
    return AsyncWebClient(base_url=api.base_url, token="xoxb-test", team_id="T0001")


def test_sign_matches_slacks_documented_example() -> None:
    headers = sign(SLACK_EXAMPLE_SECRET, SLACK_EXAMPLE_BODY, SLACK_EXAMPLE_TIMESTAMP)

    assert headers == {
        "X-Slack-Signature": SLACK_EXAMPLE_SIGNATURE,
        "X-Slack-Request-Timestamp": "1531420618",
    }


def test_body_builders_produce_what_slack_posts() -> None:
    command = parse_qs(slash_command_body(text='setup "Data CoP"').decode())
    event = json.loads(event_body({"type": "app_home_opened", "user": "U0ALICE"}))
    interaction = parse_qs(interaction_body({"type": "block_actions"}).decode())

    assert command["command"] == ["/cop"]
    assert command["text"] == ['setup "Data CoP"']
    assert event["type"] == "event_callback"
    assert event["event"]["user"] == "U0ALICE"
    assert json.loads(interaction["payload"][0]) == {"type": "block_actions"}


async def test_auth_test_describes_the_bot(api: FakeSlackApi, client: AsyncWebClient) -> None:
    response = await client.auth_test()

    assert response["team_id"] == "T0001"
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "B0001"
    assert response["is_enterprise_install"] is False
    assert api.calls_to("auth.test")[0].args["team_id"] == "T0001"


async def test_post_message_records_json_args_and_returns_increasing_ts(
    api: FakeSlackApi, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]

    first = await client.chat_postMessage(channel="C0001", text="hi", blocks=blocks)
    second = await client.chat_postMessage(channel="C0001", text="again", thread_ts=first["ts"])

    assert first["ts"] == "1700000000.000100"
    assert second["ts"] == "1700000000.000200"
    assert first["message"]["blocks"] == blocks
    call = api.calls_to("chat.postMessage")[0]
    assert call.args == {"channel": "C0001", "text": "hi", "blocks": blocks, "team_id": "T0001"}
    assert call.headers["Authorization"] == "Bearer xoxb-test"
    replies = await client.conversations_replies(channel="C0001", ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["hi", "again"]


async def test_form_encoded_args_are_parsed_and_json_fields_decoded(
    api: FakeSlackApi, client: AsyncWebClient
) -> None:
    view = {"type": "modal", "callback_id": "setup", "title": {"type": "plain_text", "text": "x"}}

    await client.api_call("views.open", data={"trigger_id": "t1", "view": json.dumps(view)})

    assert api.calls_to("views.open")[0].args["view"] == view


async def test_query_string_and_get_calls(api: FakeSlackApi, client: AsyncWebClient) -> None:
    api.add_user("U0ALICE", "alice", real_name="Alice Example")
    api.add_channel("C0001", "general", ["U0ALICE", "U0BOB"])

    user = await client.users_info(user="U0ALICE")
    members = await client.conversations_members(channel="C0001")
    opened = await client.conversations_open(users="U0BOB")
    await client.reactions_add(channel="C0001", timestamp="1700000000.000100", name="tada")

    assert user["user"]["profile"]["display_name"] == "alice"
    assert user["user"]["real_name"] == "Alice Example"
    assert members["members"] == ["U0ALICE", "U0BOB"]
    assert opened["channel"]["id"] == "DU0BOB"
    assert api.calls_to("users.info")[0].args == {"user": "U0ALICE", "team_id": "T0001"}
    assert api.calls_to("reactions.add")[0].args["name"] == "tada"


async def test_views_and_other_methods_answer_ok(api: FakeSlackApi, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": []}

    published = await client.views_publish(user_id="U0ALICE", view=home)
    updated = await client.views_update(view_id=published["view"]["id"], view=home)
    ephemeral = await client.chat_postEphemeral(channel="C0001", user="U0BOB", text="psst")
    unknown = await client.api_call("pins.add", json={"channel": "C0001"})

    assert published["view"]["id"] == updated["view"]["id"]
    assert ephemeral["message_ts"]
    assert unknown["ok"] is True


async def test_unknown_user_and_missing_token_fail_like_slack(api: FakeSlackApi) -> None:
    tokenless = AsyncWebClient(base_url=api.base_url)

    with pytest.raises(SlackApiError) as not_found:
        await AsyncWebClient(base_url=api.base_url, token="xoxb-test").users_info(user="U0NOBODY")
    with pytest.raises(SlackApiError) as not_authed:
        await tokenless.auth_test()

    assert not_found.value.response["error"] == "user_not_found"
    assert not_authed.value.response["error"] == "not_authed"


async def test_error_next_answers_ok_false_once(api: FakeSlackApi, client: AsyncWebClient) -> None:
    api.error_next("chat.postMessage", "channel_not_found")

    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C0001", text="hi")
    again = await client.chat_postMessage(channel="C0001", text="hi")

    assert error.value.response["error"] == "channel_not_found"
    assert again["ok"] is True


async def test_rate_limit_is_retried_after_retry_after(api: FakeSlackApi) -> None:
    client = AsyncWebClient(
        base_url=api.base_url,
        token="xoxb-test",
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    api.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()

    response = await client.chat_postMessage(channel="C0001", text="hi")

    assert response["ok"] is True
    assert time.monotonic() - started >= 1.0
    assert len(api.calls_to("chat.postMessage")) == 2


async def test_rate_limit_without_retry_handler_raises(
    api: FakeSlackApi, client: AsyncWebClient
) -> None:
    api.fail_next("chat.postMessage", status=429, retry_after=1)

    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C0001", text="hi")

    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "1"


async def test_server_error_is_retried(api: FakeSlackApi) -> None:
    client = AsyncWebClient(
        base_url=api.base_url,
        token="xoxb-test",
        retry_handlers=[
            AsyncServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    api.fail_next("users.info", status=503, times=2)

    response = await client.users_info(user="UBOT")

    assert response["user"]["is_bot"] is True
    assert len(api.calls_to("users.info")) == 3


async def test_wait_for_sees_calls_made_later(api: FakeSlackApi, client: AsyncWebClient) -> None:
    async def post_later() -> None:
        await client.chat_postMessage(channel="C0001", text="later")

    task = asyncio.create_task(post_later())
    calls = await api.wait_for("chat.postMessage", timeout=2.0)
    await task

    assert calls[0].args["text"] == "later"


async def test_wait_for_times_out_with_what_it_saw(api: FakeSlackApi) -> None:
    with pytest.raises(TimeoutError, match=r"chat\.update called 0 times"):
        await api.wait_for("chat.update", timeout=0.05)


async def test_response_url_records_the_json_body(api: FakeSlackApi) -> None:
    webhook = AsyncWebhookClient(api.response_url("cmd-1"))

    response = await webhook.send(text="done", response_type="ephemeral")

    assert response.status_code == 200
    call = api.calls_to("response_url")[0]
    assert call.args == {"text": "done", "response_type": "ephemeral"}
    assert call.path == "/response_url/cmd-1"


async def test_plain_http_get_with_query_string(api: FakeSlackApi) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{api.base_url}conversations.info?channel=D0001&token=xoxb-test&extra=ignored"
        async with session.get(url) as response:
            body = await response.json()

    assert body["channel"]["is_im"] is True
    assert api.calls_to("conversations.info")[0].args["extra"] == "ignored"


# slack_sdk passes client credentials with aiohttp's deprecated BasicAuth.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_oauth_v2_access_exchanges_a_code(api: FakeSlackApi) -> None:
    response = await AsyncWebClient(base_url=api.base_url).oauth_v2_access(
        client_id="111.222", client_secret="secret", code="the-code"
    )

    assert response["access_token"] == "xoxb-installed"
    assert response["team"]["id"] == "T0001"
    assert api.calls_to("oauth.v2.access")[0].args["code"] == "the-code"


async def test_socket_mode_envelopes_reach_the_client_and_acks_come_back(
    api: FakeSlackApi,
) -> None:
    web_client = AsyncWebClient(base_url=api.base_url)
    socket_client = SocketModeClient(app_token="xapp-test", web_client=web_client)

    async def ack(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        payload = {"text": f"got {request.payload['text']}"}
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        )

    socket_client.socket_mode_request_listeners.append(ack)
    await socket_client.connect()
    try:
        answer = await api.socket_send("slash_commands", {"command": "/cop", "text": "help"})
    finally:
        await socket_client.close()

    assert answer["payload"] == {"text": "got help"}
    assert api.calls_to("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-test"
    assert api.calls_to("socket_mode_ack")[0].args["envelope_id"] == answer["envelope_id"]
