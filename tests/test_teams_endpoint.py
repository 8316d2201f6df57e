"""Teams end to end: real activities POSTed to copbot's /api/messages, a fake Bot Connector."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from adapters.teams.references import ReferenceStore, conversation_key, user_key
from adapters.teams.web import TEAMS_KEY, mount_teams
from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.events import Event, MemberJoined, ReactionAdded, ReactionRemoved
from bot.replies import Destination, Reply, Visibility
from bot.settings import Settings
from copbot.app import web_app as build_web_app
from storage.database import Database
from storage.models import Community, ConversationReference
from tests.community_state import members_of
from tests.fakes.bot_connector import ConnectorCall, FakeBotConnector
from tests.fakes.bot_credentials import TOKEN, StaticTokenFactory

PAYLOADS = Path(__file__).parent / "payloads" / "teams"
APP_ID = "9f1c2d3e-4b5a-4c6d-8e7f-1a2b3c4d5e6f"
BOT_ID = f"28:{APP_ID}"
ALICE = (
    "29:1q3wOAF0ZgnWEnbMlzf6fDeiYpl0YZGTX3VKbyFnB6QsD8vkjKpeHDuqqm0dOQx4n8rDmZkjOWJC0vgZiWbDkpQ",
    "Alice Smith",
)
BOB = (
    "29:1Uu9KqCw0r0kV8rYHh3Tb4u9o1XjEw7mq2oPZsA5dFgLcN6xYpR3sT8vW1zB2eH4jK7mQ9nS0tU5yV6wX8zA3bC",
    "Bob Lee",
)
CAROL = ("29:carol-0003", "Carol Diaz")
CHANNEL = "19:8a1f0c3e5b7d4f2a9c6e1b3d5f7a9c2e@thread.tacv2"
TENANT = "tenant-0001"
SETUP = 'setup "Data Science" domain="ML" mission="Share reusable patterns"'
Client = TestClient[web.Request, web.Application]
User = tuple[str, str]


@pytest.fixture
def settings(database: Database) -> Settings:
    """Teams without an app id, on loopback: the local-testing mode."""
    return Settings(database_url=database.url, host="127.0.0.1")


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        fake.add_member(BOB[0], BOB[1])
        yield fake


def card_text(activity: dict[str, Any]) -> str:
    """Everything a person reads on the card(s) of one sent activity."""
    lines: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") == "TextBlock":
                lines.append(item["text"])
            for fact in item.get("facts", []):
                lines.append(f"{fact['title']}: {fact['value']}")
            walk(item.get("items", []))

    for attachment in activity.get("attachments") or []:
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        walk(attachment["content"]["body"])
    return "\n".join(lines)


class TeamsChat:
    """Posts activities built from the stored payloads, as Teams would, and reads the answers."""

    def __init__(self, client: Client, connector: FakeBotConnector) -> None:
        self.client = client
        self.connector = connector
        self._ids = itertools.count(1_700_000_100_000)

    def activity(
        self, fixture: str, *, user: User = ALICE, tenant: str = TENANT, **changes: Any
    ) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((PAYLOADS / f"{fixture}.json").read_text())
        data["serviceUrl"] = self.connector.service_url
        data["id"] = str(next(self._ids))
        data["from"] = {"id": user[0], "name": user[1]}
        data["channelData"]["tenant"] = {"id": tenant}
        data["conversation"]["tenantId"] = tenant
        data.update(changes)
        return data

    def in_channel(
        self, text: str, *, user: User = ALICE, channel: str = CHANNEL, tenant: str = TENANT
    ) -> dict[str, Any]:
        """`@copbot <text>` in a channel; `<at>Name</at>` in text mentions a known user."""
        entities = [
            {
                "type": "mention",
                "mentioned": {"id": BOT_ID, "name": "copbot"},
                "text": "<at>copbot</at>",
            }
        ]
        for person in (ALICE, BOB, CAROL):
            if f"<at>{person[1]}</at>" in text:
                entities.append(
                    {
                        "type": "mention",
                        "mentioned": {"id": person[0], "name": person[1]},
                        "text": f"<at>{person[1]}</at>",
                    }
                )
        data = self.activity("channel_message_mention", user=user, tenant=tenant)
        data["text"] = f"<at>copbot</at> {text}"
        data["entities"] = entities
        data["conversation"]["id"] = f"{channel};messageid={data['id']}"
        data["channelData"]["channel"]["id"] = channel
        return data

    def in_personal_chat(
        self, text: str, *, user: User = ALICE, tenant: str = TENANT
    ) -> dict[str, Any]:
        data = self.activity("personal_message", user=user, tenant=tenant, text=text)
        data["conversation"]["id"] = f"a:personal-{user[0][-6:]}-{tenant}"
        return data

    async def post(self, activity: dict[str, Any], **headers: str) -> list[dict[str, Any]]:
        """POST one activity; returns the activities the bot sent because of it."""
        before = len(self.connector.sent_activities())
        response = await self.client.post("/api/messages", json=activity, headers=headers)
        assert response.status in (200, 201), await response.text()
        return self.connector.sent_activities()[before:]

    async def say(self, text: str, *, user: User = ALICE, **where: Any) -> str:
        """A command in the channel; the text of every card sent in answer."""
        sent = await self.post(self.in_channel(text, user=user, **where))
        return "\n".join(card_text(a) for a in sent)

    def last_calls(self, count: int) -> list[ConnectorCall]:
        sends = [
            c
            for c in self.connector.calls
            if c.operation in ("send_to_conversation", "reply_to_activity")
        ]
        return sends[-count:]


ServeApp = Callable[[Core], Awaitable[TeamsChat]]


@pytest.fixture
async def serve(connector: FakeBotConnector) -> AsyncIterator[ServeApp]:
    clients: list[Client] = []

    async def start(core: Core) -> TeamsChat:
        client: Client = TestClient(TestServer(build_web_app(core), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return TeamsChat(client, connector)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def teams(core: Core, serve: ServeApp) -> TeamsChat:
    return await serve(core)


async def test_spine_commands_answer_with_cards_like_the_console(
    teams: TeamsChat, core: Core
) -> None:
    created = await teams.say(SETUP)
    assert "**Alice Smith** started the Community of Practice “Data Science” here" in created
    assert "Stewards: **Alice Smith**" in created and "Members: 1" in created
    [call] = teams.last_calls(1)
    assert call.operation == "reply_to_activity"  # in the thread the command came from
    assert call.conversation_id and call.conversation_id.startswith(CHANNEL + ";messageid=")

    about = await teams.post(teams.in_channel("about", user=CAROL))
    assert "Mission: Share reusable patterns" in card_text(about[0])
    [join_button] = about[0]["attachments"][0]["content"]["actions"]
    assert join_button == {
        "type": "Action.Submit",
        "title": "Join",
        "data": {"action": "command", "value": "join"},
        "style": "positive",
    }
    assert "Welcome **Bob Lee** to **Data Science**! We are now 2." in await teams.say(
        "join", user=BOB
    )
    assert "Saved your expertise in **Data Science**: Python, Forecasting." in await teams.say(
        "skills Python, Forecasting", user=BOB
    )
    listing = await teams.say("members", user=BOB)
    assert (
        "**Alice Smith** (steward)" in listing
        and "**Bob Lee** (member): Python, Forecasting" in listing
    )
    assert "**Bob Lee**: Forecasting" in await teams.say("who forecasting", user=CAROL)
    assert "**Data Science** (cop) in Practice: 2 members, you're in it" in await teams.say(
        "communities", user=BOB
    )
    assert "role @user steward\\|core\\|member\\|sponsor" in await teams.say("help")
    changed = await teams.say("role <at>Bob Lee</at> core")
    assert (
        "**Bob Lee** is now on the core team of Data Science (was a member), "
        "set by **Alice Smith**." in changed
    )
    refused = await teams.say("role <at>Alice Smith</at> member", user=BOB)
    assert "Only stewards can use **role**." in refused
    left = await teams.say("leave <at>Bob Lee</at>")
    assert "You left **Data Science**" in left and "**Bob Lee** is a steward now." in left
    assert await members_of(core) == {BOB[0]: "steward"}
    assert "Did you mean **members**?" in await teams.say("membrs", user=BOB)


async def test_a_personal_message_is_a_command_answered_in_the_chat(teams: TeamsChat) -> None:
    message = teams.in_personal_chat("/cop help")
    [answer] = await teams.post(message)
    assert "copbot keeps your community of practice alive" in card_text(answer)
    [call] = teams.last_calls(1)
    assert call.conversation_id == message["conversation"]["id"]
    assert call.authorization is None  # no app id: local testing, no token
    assert answer["summary"].startswith("copbot keeps your community of practice alive")


async def test_answers_go_out_through_aiohttp_not_requests_in_a_thread(
    teams: TeamsChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """msrest's default sender runs `requests` in a worker thread per call; copbot's connector
    clients send on the event loop through one aiohttp session, the same over the wire."""

    def no_requests(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connector call went through requests")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", no_requests)
    await teams.say("help")
    await teams.say('setup "Café ☕ Guild"')  # a body that is not ASCII arrives whole
    [*_, answer] = teams.connector.sent_activities()
    assert "Café ☕ Guild" in json.dumps(answer, ensure_ascii=False)


async def test_answers_are_serialised_without_msrest_walking_them_to_validate(
    teams: TeamsChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """msrest's client-side validation walked every outgoing card once more before sending
    it; copbot's connector clients leave the checking to the Connector."""
    import msrest.serialization

    def no_validation(*args: object, **kwargs: object) -> None:
        raise AssertionError("msrest validated an outgoing model")

    monkeypatch.setattr(msrest.serialization, "_recursive_validate", no_validation)
    await teams.say("help")
    [answer] = teams.connector.sent_activities()
    assert answer["attachments"][0]["content"]["type"] == "AdaptiveCard"


async def test_a_role_change_tells_the_member_in_a_new_personal_chat(
    teams: TeamsChat, connector: FakeBotConnector
) -> None:
    await teams.say(SETUP)
    await teams.say("join", user=BOB)
    sent = await teams.post(teams.in_channel("role <at>Bob Lee</at> core"))
    # The notice goes out through the outbox while the command runs, before the answer.
    notice_text, answer_text = (card_text(a) for a in sent)
    assert "You are now on the core team of Data Science, set by **Alice Smith**." in notice_text
    assert "**Bob Lee** is now on the core team" in answer_text
    [create] = connector.created_conversations()
    assert create.body is not None
    assert create.body["members"] == [{"id": BOB[0]}]
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    assert create.response is not None
    bob_chat = create.response["id"]
    notice, answer = teams.last_calls(2)
    assert notice.operation == "send_to_conversation"
    assert notice.conversation_id == bob_chat
    assert answer.operation == "reply_to_activity"
    # The new chat is remembered: the next notice goes there without creating another.
    await teams.post(teams.in_channel("role <at>Bob Lee</at> steward"))
    assert len(connector.created_conversations()) == 1
    assert teams.last_calls(2)[0].conversation_id == bob_chat


async def test_a_stored_personal_chat_is_used_after_the_app_is_rebuilt(
    teams: TeamsChat,
    serve: ServeApp,
    core: Core,
    database: Database,
    clock: FixedClock,
    connector: FakeBotConnector,
) -> None:
    bob_chat = teams.in_personal_chat("help", user=BOB)
    await teams.post(bob_chat)
    await teams.say(SETUP)
    await teams.say("join", user=BOB)

    rebuilt = build_core(core.settings, database=database, clock=clock)
    again = await serve(rebuilt)
    sent = await again.post(again.in_channel("role <at>Bob Lee</at> core"))

    assert len(sent) == 2
    notice = again.last_calls(2)[0]
    assert notice.operation == "send_to_conversation"
    assert notice.conversation_id == bob_chat["conversation"]["id"]
    assert connector.created_conversations() == []
    assert "You are now on the core team" in card_text(sent[0])


async def test_an_only_you_reply_goes_to_the_personal_chat_or_is_addressed_in_the_thread(
    teams: TeamsChat,
) -> None:
    [addressed] = await teams.post(teams.in_channel("members", user=CAROL))
    content = addressed["attachments"][0]["content"]
    assert content["body"][0]["text"] == "<at>Carol Diaz</at>"
    assert content["msteams"]["entities"][0]["mentioned"] == {"id": CAROL[0], "name": "Carol Diaz"}
    assert teams.last_calls(1)[0].operation == "reply_to_activity"

    carol_chat = teams.in_personal_chat("help", user=CAROL)
    await teams.post(carol_chat)
    [private] = await teams.post(teams.in_channel("members", user=CAROL))
    assert "no community yet" in card_text(private)
    call = teams.last_calls(1)[0]
    assert call.operation == "send_to_conversation"
    assert call.conversation_id == carol_chat["conversation"]["id"]


async def test_the_join_button_on_a_card_joins(teams: TeamsChat, core: Core) -> None:
    await teams.say(SETUP)
    [about] = await teams.post(teams.in_channel("about", user=BOB))
    [button] = about["attachments"][0]["content"]["actions"]
    press = teams.activity("action_submit", user=BOB, value=button["data"])
    [joined] = await teams.post(press)
    assert "Welcome **Bob Lee**" in card_text(joined)
    assert await members_of(core) == {ALICE[0]: "steward", BOB[0]: "member"}


async def test_the_setup_form_card_sets_up_a_community(teams: TeamsChat, core: Core) -> None:
    [form] = await teams.post(teams.in_channel("setup"))
    content = form["attachments"][0]["content"]
    assert [a["data"] for a in content["actions"]] == [{"form": "setup"}]
    values = {"form": "setup", "name": "Platform", "kind": "guild", "domain": "", "mission": "Ship"}
    [about] = await teams.post(teams.activity("action_submit", value=values))
    assert "Platform" in card_text(about) and "Mission: Ship" in card_text(about)
    async with core.database.session() as session:
        community = (await session.exec(select(Community))).one()
    assert (community.name, community.kind, community.channel_id) == ("Platform", "guild", CHANNEL)


@pytest.fixture
def seen(core: Core, monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Every event the router is handed (a spy at the dispatch seam)."""
    events: list[Event] = []
    handle = core.router.handle

    async def spy(event: Event) -> list[Reply]:
        events.append(event)
        return await handle(event)

    monkeypatch.setattr(core.router, "handle", spy)
    return events


async def test_reactions_reach_the_core(teams: TeamsChat, seen: list[Event]) -> None:
    await teams.post(teams.activity("message_reaction_added", reactionsAdded=[{"type": "heart"}]))
    await teams.post(teams.activity("message_reaction_removed"))
    assert [
        (type(e), e.reaction, e.message.message_id)
        for e in seen
        if isinstance(e, ReactionAdded | ReactionRemoved)
    ] == [
        (ReactionAdded, "heart", "1700000000106"),
        (ReactionRemoved, "like", "1700000000106"),
    ]
    assert seen[0].origin.channel == CHANNEL and seen[0].origin.user == ALICE[0]


async def test_a_new_member_reaches_the_core_with_their_name(
    teams: TeamsChat, seen: list[Event], connector: FakeBotConnector
) -> None:
    added = teams.activity(
        "conversation_update_members_added",
        membersAdded=[{"id": BOB[0]}, {"id": "29:stranger"}, {"id": BOT_ID}],
    )
    await teams.post(added)
    joined = [e for e in seen if isinstance(e, MemberJoined)]
    assert [(e.origin.user, e.origin.user_name) for e in joined] == [
        (BOB[0], "Bob Lee"),
        ("29:stranger", ""),  # the Connector does not know them: the id will do
    ]
    assert all(e.origin.workspace == TENANT for e in joined)
    assert [c.member_id for c in connector.calls if c.operation == "get_conversation_member"] == [
        BOB[0],
        "29:stranger",
    ]


async def test_installation_is_recorded_and_removal_forgets_the_channel(
    teams: TeamsChat, core: Core, connector: FakeBotConnector
) -> None:
    store = ReferenceStore(core.database, core.clock)
    await teams.post(teams.activity("installation_update"))
    stored = await store.get(TENANT, conversation_key(CHANNEL))
    assert stored is not None
    assert stored["serviceUrl"] == connector.service_url
    assert stored["conversation"]["id"] == CHANNEL
    assert stored["bot"]["id"] == BOT_ID
    await teams.post(teams.activity("installation_update", action="remove"))
    assert await store.get(TENANT, conversation_key(CHANNEL)) is None


async def test_the_core_posts_to_a_channel_from_its_stored_reference(
    teams: TeamsChat, core: Core
) -> None:
    await teams.say(SETUP)
    reply = Reply(
        kind="oops",
        data={"error_id": "feedbeef"},
        visibility=Visibility.CHANNEL,
        to=Destination(platform="teams", workspace=TENANT, channel=CHANNEL),
    )
    assert await core.outbox.send(reply)
    call = teams.last_calls(1)[0]
    assert call.operation == "send_to_conversation"
    assert call.conversation_id == CHANNEL  # a new top-level post, not a thread reply
    assert call.body is not None and "feedbeef" in card_text(call.body)


async def test_a_failed_post_is_kept_and_retried(
    teams: TeamsChat, core: Core, connector: FakeBotConnector, clock: FixedClock
) -> None:
    await teams.post(teams.in_personal_chat("help", user=BOB))
    await teams.say(SETUP)
    await teams.say("join", user=BOB)
    connector.fail_next(503)
    await teams.post(teams.in_channel("role <at>Bob Lee</at> core"))
    assert await core.outbox.pending_count() == 1
    clock.advance(minutes=2)
    assert await core.outbox.retry_pending() == 1
    assert await core.outbox.pending_count() == 0
    assert "You are now on the core team" in card_text(connector.sent_activities()[-1])


async def test_tenants_never_see_each_other(teams: TeamsChat, core: Core) -> None:
    await teams.say(SETUP)
    await teams.post(teams.in_personal_chat("help", user=BOB))
    other = "tenant-0002"
    assert "no community yet" in await teams.say("members", user=CAROL, tenant=other)
    assert "no communities here yet" in await teams.say("communities", user=CAROL, tenant=other)
    store = ReferenceStore(core.database, core.clock)
    assert await store.get(other, user_key(BOB[0])) is None
    # A post for Bob in the other tenant must not reach his chat in the first one.
    reply = Reply(
        kind="oops",
        data={"error_id": "x"},
        to=Destination(platform="teams", workspace="tenant-0003", user=BOB[0]),
    )
    await core.outbox.send(reply)
    assert await core.outbox.pending_count() == 1


def configured(database: Database) -> Settings:
    return Settings(database_url=database.url, teams_app_id=APP_ID, teams_app_password="secret")


@pytest.mark.parametrize("authorization", [None, "Bearer junk", "junk", "Bearer a.b.c"])
async def test_with_credentials_an_unsigned_request_is_refused_and_changes_nothing(
    database: Database,
    clock: FixedClock,
    connector: FakeBotConnector,
    authorization: str | None,
) -> None:
    core = build_core(configured(database), database=database, clock=clock)
    chat = TeamsChat(TestClient(TestServer(build_web_app(core), host="127.0.0.1")), connector)
    await chat.client.start_server()
    try:
        headers = {"Authorization": authorization} if authorization else {}
        response = await chat.client.post(
            "/api/messages", json=chat.in_channel(SETUP), headers=headers
        )
        assert response.status == 401
    finally:
        await chat.client.close()
    assert connector.calls == []
    async with database.session() as session:
        assert (await session.exec(select(Community))).all() == []
        assert (await session.exec(select(ConversationReference))).all() == []


async def test_with_credentials_posts_carry_a_bearer_token(
    database: Database, clock: FixedClock, connector: FakeBotConnector
) -> None:
    core = build_core(configured(database), database=database, clock=clock)
    app = web.Application()
    endpoint = mount_teams(app, core, credentials_factory=StaticTokenFactory(APP_ID))
    core.outbox.register(endpoint.platform)
    assert app[TEAMS_KEY] is endpoint
    store = ReferenceStore(database, clock)
    await store.save(
        TENANT,
        user_key(BOB[0]),
        "personal",
        {
            "channelId": "msteams",
            "serviceUrl": connector.service_url,
            "conversation": {"id": "a:bob", "conversationType": "personal"},
            "bot": {"id": BOT_ID},
            "user": {"id": BOB[0]},
        },
    )
    reply = Reply(
        kind="oops",
        data={"error_id": "x"},
        to=Destination(platform="teams", workspace=TENANT, user=BOB[0]),
    )
    try:
        assert await core.outbox.send(reply)
    finally:
        await endpoint.clients.close()  # the app never runs, so its cleanup would not
    [call] = connector.calls
    assert call.authorization == f"Bearer {TOKEN}"
    assert call.conversation_id == "a:bob"


async def test_the_endpoint_refuses_what_is_not_an_activity(teams: TeamsChat) -> None:
    client = teams.client
    assert (
        await client.post("/api/messages", data="x", headers={"Content-Type": "text/plain"})
    ).status == 415
    bad = await client.post("/api/messages", data="{", headers={"Content-Type": "application/json"})
    assert bad.status == 400
    assert (await client.post("/api/messages", json={"text": "hi"})).status == 400
    health = await (await client.get("/healthz")).json()
    assert "teams" in health["adapters"]
