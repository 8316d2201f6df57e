"""Drive the fake Bot Connector through botbuilder's real CloudAdapter, as Teams would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.bot_credentials import TOKEN, StaticTokenFactory

PAYLOADS = Path(__file__).parent / "payloads" / "teams"
APP_ID = "9f1c2d3e-4b5a-4c6d-8e7f-1a2b3c4d5e6f"
BOB_ID = (
    "29:1Uu9KqCw0r0kV8rYHh3Tb4u9o1XjEw7mq2oPZsA5dFgLcN6xYpR3sT8vW1zB2eH4jK7mQ9nS0tU5yV6wX8zA3bC"
)
Client = TestClient[web.Request, web.Application]


def payload(name: str, service_url: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    data["serviceUrl"] = service_url
    return data


def make_adapter(app_id: str = "", password: str = "") -> CloudAdapter:
    config = SimpleNamespace(APP_ID=app_id, APP_PASSWORD=password, APP_TYPE="MultiTenant")
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


class ReplyingBot(ActivityHandler):
    """Answers every message with "hi" and remembers where it was."""

    def __init__(self) -> None:
        self.references: list[ConversationReference] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.references.append(TurnContext.get_conversation_reference(turn_context.activity))
        await turn_context.send_activity("hi")


class WelcomingBot(TeamsActivityHandler):
    """Keeps the members TeamsActivityHandler resolved through the connector."""

    def __init__(self) -> None:
        self.added: list[TeamsChannelAccount] = []

    async def on_teams_members_added(
        self,
        teams_members_added: list[TeamsChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        self.added.extend(teams_members_added)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # botbuilder sends with requests, which would route 127.0.0.1 through a configured proxy.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        yield fake


async def bot_client(adapter: CloudAdapter, bot: ActivityHandler) -> Client:
    async def messages(request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse = await adapter.process(request, bot)
        return response

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    client: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[CloudAdapter, ActivityHandler], Awaitable[Client]]]:
    clients: list[Client] = []

    async def start(adapter: CloudAdapter, bot: ActivityHandler) -> Client:
        client = await bot_client(adapter, bot)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


Serve = Callable[[CloudAdapter, ActivityHandler], Awaitable[Client]]


async def test_reply_goes_to_the_activity_it_answers(
    connector: FakeBotConnector, serve: Serve
) -> None:
    client = await serve(make_adapter(), ReplyingBot())
    activity = payload("channel_message_mention", connector.service_url)

    response = await client.post("/api/messages", json=activity)

    assert response.status == 201
    [sent] = await connector.wait_for(1)
    assert sent["text"] == "hi"
    assert sent["replyToId"] == activity["id"]
    [call] = connector.calls
    assert call.operation == "reply_to_activity"
    assert call.conversation_id == activity["conversation"]["id"]
    assert ";messageid=" in (call.conversation_id or "")
    assert call.activity_id == activity["id"]
    conversation_id = activity["conversation"]["id"]
    assert call.path == f"/v3/conversations/{conversation_id}/activities/{activity['id']}"


async def test_without_credentials_no_token_is_sent(
    connector: FakeBotConnector, serve: Serve
) -> None:
    client = await serve(make_adapter(), ReplyingBot())

    await client.post("/api/messages", json=payload("personal_message", connector.service_url))

    [call] = connector.calls
    assert call.authorization is None


async def test_proactive_post_through_a_stored_reference(
    connector: FakeBotConnector, serve: Serve
) -> None:
    adapter = make_adapter()
    bot = ReplyingBot()
    client = await serve(adapter, bot)
    activity = payload("personal_message", connector.service_url)
    await client.post("/api/messages", json=activity)
    [reference] = bot.references

    async def remind(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Standup in 5 minutes")

    await adapter.continue_conversation(reference, remind, "")

    sent = await connector.wait_for(2)
    assert sent[-1]["text"] == "Standup in 5 minutes"
    assert connector.calls[-1].conversation_id == activity["conversation"]["id"]


async def test_new_member_is_looked_up_on_the_connector(
    connector: FakeBotConnector, serve: Serve
) -> None:
    connector.add_member(BOB_ID, "Bob Lee", aad_object_id="7c3f6a3b-2d4e-4f6a-9b0c-1d2e3f4a5b6c")
    bot = WelcomingBot()
    client = await serve(make_adapter(), bot)
    activity = payload("conversation_update_members_added", connector.service_url)

    response = await client.post("/api/messages", json=activity)

    assert response.status == 201
    [call] = connector.calls
    assert call.method == "GET"
    assert call.operation == "get_conversation_member"
    assert call.conversation_id == activity["conversation"]["id"]
    assert call.member_id == BOB_ID
    [member] = bot.added
    assert member.name == "Bob Lee"
    assert member.email == "bob.lee@example.com"
    assert member.aad_object_id == "7c3f6a3b-2d4e-4f6a-9b0c-1d2e3f4a5b6c"
    assert member.tenant_id == "tenant-0001"


async def test_unknown_member_is_a_404(connector: FakeBotConnector, serve: Serve) -> None:
    client = await serve(make_adapter(), WelcomingBot())

    response = await client.post(
        "/api/messages",
        json=payload("conversation_update_members_added", connector.service_url),
    )

    assert response.status == 500
    assert connector.calls[0].status == 404


async def test_members_and_paged_members(connector: FakeBotConnector, serve: Serve) -> None:
    connector.add_member(BOB_ID, "Bob Lee")
    connector.add_member("29:alice", "Alice Smith")
    seen: dict[str, Any] = {}

    class RosterBot(TeamsActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            seen["members"] = await TeamsInfo.get_members(turn_context)
            first = await TeamsInfo.get_paged_members(turn_context, page_size=1)
            rest = await TeamsInfo.get_paged_members(
                turn_context, continuation_token=first.continuation_token
            )
            seen["pages"] = [first, rest]

    client = await serve(make_adapter(), RosterBot())
    activity = payload("channel_message_mention", connector.service_url)
    await client.post("/api/messages", json=activity)

    assert [m.name for m in seen["members"]] == ["Bob Lee", "Alice Smith"]
    first, rest = seen["pages"]
    assert [m.name for m in first.members] == ["Bob Lee"]
    assert [m.name for m in rest.members] == ["Alice Smith"]
    assert rest.continuation_token is None
    team_id = activity["channelData"]["team"]["id"]
    assert [c.operation for c in connector.calls] == [
        "get_conversation_members",
        "get_conversation_paged_members",
        "get_conversation_paged_members",
    ]
    # botbuilder 4.17 lists members of the activity's conversation but pages the team's.
    assert [c.conversation_id for c in connector.calls] == [
        activity["conversation"]["id"],
        team_id,
        team_id,
    ]
    assert connector.calls[1].query == {"pageSize": "1"}


async def test_update_and_delete_a_sent_message(connector: FakeBotConnector, serve: Serve) -> None:
    class EditingBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            sent = await turn_context.send_activity("Collecting votes...")
            edited = MessageFactory.text("Votes are in")
            edited.id = sent.id
            await turn_context.update_activity(edited)
            reference = TurnContext.get_conversation_reference(turn_context.activity)
            reference.activity_id = sent.id
            await turn_context.delete_activity(reference)

    client = await serve(make_adapter(), EditingBot())
    await client.post("/api/messages", json=payload("personal_message", connector.service_url))

    [sent] = connector.sent_activities()
    [update] = connector.updates()
    [delete] = connector.deletes()
    sent_id = connector.calls[0].response and connector.calls[0].response["id"]
    assert sent["text"] == "Collecting votes..."
    assert update.activity_id == sent_id
    assert update.body is not None and update.body["text"] == "Votes are in"
    assert delete.activity_id == sent_id


async def test_create_a_one_to_one_conversation(connector: FakeBotConnector) -> None:
    adapter = make_adapter()
    created: list[str] = []

    async def greet(turn_context: TurnContext) -> None:
        created.append(turn_context.activity.conversation.id)
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        await adapter.continue_conversation(reference, say_hello, "")

    async def say_hello(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Only you can see this")

    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=f"28:{APP_ID}"),
        members=[ChannelAccount(id=BOB_ID)],
        tenant_id="tenant-0001",
        channel_data={"tenant": {"id": "tenant-0001"}},
    )
    await adapter.create_conversation("", greet, parameters, "msteams", connector.service_url, None)

    [create] = connector.created_conversations()
    assert create.body is not None
    assert create.body["members"] == [{"id": BOB_ID}]
    assert created == ["a:new-conv-1"]
    [sent] = await connector.wait_for(1)
    assert sent["text"] == "Only you can see this"
    assert connector.calls[-1].conversation_id == "a:new-conv-1"


async def test_injected_failure_reaches_the_bot_then_clears(
    connector: FakeBotConnector, serve: Serve
) -> None:
    connector.fail_next(status=503)
    client = await serve(make_adapter(), ReplyingBot())
    activity = payload("personal_message", connector.service_url)

    failed = await client.post("/api/messages", json=activity)
    recovered = await client.post("/api/messages", json=activity)

    assert failed.status == 500
    assert recovered.status == 201
    assert [c.status for c in connector.calls] == [503, 201]
    assert len(connector.sent_activities()) == 1


async def test_with_credentials_the_bot_sends_a_bearer_token(
    connector: FakeBotConnector,
) -> None:
    config = SimpleNamespace(APP_ID=APP_ID, APP_PASSWORD="secret", APP_TYPE="MultiTenant")
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(
            config, credentials_factory=StaticTokenFactory(APP_ID)
        )
    )
    reference = ConversationReference(
        channel_id="msteams",
        service_url=connector.service_url,
        conversation=ConversationAccount(id="a:personal-chat"),
        bot=ChannelAccount(id=f"28:{APP_ID}"),
        user=ChannelAccount(id=BOB_ID),
    )

    async def notify(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Signed message")

    await adapter.continue_conversation(reference, notify, APP_ID)

    [call] = connector.calls
    assert call.authorization == f"Bearer {TOKEN}"


async def test_with_an_app_id_an_unsigned_request_is_refused(
    connector: FakeBotConnector, serve: Serve
) -> None:
    client = await serve(make_adapter(APP_ID, "secret"), ReplyingBot())

    response = await client.post(
        "/api/messages", json=payload("personal_message", connector.service_url)
    )

    assert response.status == 401
    assert connector.calls == []


def test_activity_payloads_deserialise() -> None:
    for path in sorted(PAYLOADS.glob("*.json")):
        activity = Activity().deserialize(json.loads(path.read_text()))
        assert activity.channel_id == "msteams", path.name
        assert activity.channel_data["tenant"]["id"] == "tenant-0001", path.name
        # botbuilder maps ConversationAccount.tenant_id to "tenantID", so Teams' "tenantId"
        # only survives as an additional property.
        assert activity.conversation.tenant_id is None
        assert activity.conversation.additional_properties["tenantId"] == "tenant-0001"
