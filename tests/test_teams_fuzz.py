"""Fuzz /api/messages (local, unauthenticated Teams): seeded random activities and junk.

Nothing may answer 5xx, log an error or a traceback, or reach the user as the generic apology.
Invokes are left out: copbot handles none, and botbuilder answers them 501 Not Implemented."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Core
from bot.events import Event
from bot.replies import Reply
from copbot.app import web_app as build_web_app
from tests.fakes.bot_connector import FakeBotConnector
from tests.random_values import command_line, json_value, junk_bytes, maybe, text, word
from tests.test_teams_endpoint import ALICE, BOB, BOT_ID, CAROL, CHANNEL, Client

SEED = 20261128
REQUESTS = 1000
PAYLOADS = Path(__file__).parent / "payloads" / "teams"
PEOPLE = (ALICE, BOB, CAROL, ("29:dave-0004", "Dave Kim"))
TENANTS = ("tenant-0001", "tenant-0002")
CHANNELS = (CHANNEL, "19:second@thread.tacv2")
FIXTURES = (
    "personal_message",
    "channel_message_mention",
    "channel_message_user_mention",
    "action_submit",
    "conversation_update_members_added",
    "installation_update",
    "message_reaction_added",
    "message_reaction_removed",
)


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return loaded


def mention(person: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "mention",
        "mentioned": {"id": person[0], "name": person[1]},
        "text": f"<at>{person[1]}</at>",
    }


def activity(rng: random.Random, service_url: str) -> dict[str, Any]:
    """An activity shaped like Teams', from a stored one with random people, places and text."""
    data = load(rng.choice(FIXTURES))
    person = rng.choice(PEOPLE)
    tenant = rng.choice(TENANTS)
    data["serviceUrl"] = service_url
    data["id"] = str(rng.randint(0, 10**12))
    data["from"] = {"id": person[0], "name": rng.choice((person[1], "", text(rng)))}
    data["channelData"]["tenant"] = {"id": tenant}
    conversation = data["conversation"]
    conversation["tenantId"] = tenant
    if conversation.get("conversationType") == "personal":
        conversation["id"] = f"a:{person[0][-6:]}-{tenant}"
    else:
        channel = rng.choice(CHANNELS)
        thread = f";messageid={rng.randint(1, 10**12)}" if rng.random() < 0.6 else ""
        conversation["id"] = channel + thread
        channel_data = data["channelData"]
        if isinstance(channel_data.get("channel"), dict):
            channel_data["channel"]["id"] = channel
            if rng.random() < 0.3:
                channel_data["channel"]["name"] = text(rng)
    match data["type"]:
        case "message" if "value" in data:
            data["value"] = rng.choice(
                (
                    {"action": "command", "value": command_line(rng, ("<at>x</at>",))},
                    {"action": rng.choice(("command", "join", word(rng)))},
                    {"form": "setup", "name": text(rng), "kind": rng.choice(("cop", word(rng)))},
                    {"form": rng.choice(("setup", word(rng))), word(rng): json_value(rng)},
                    json_value(rng),
                )
            )
            if rng.random() < 0.1:
                data["text"] = text(rng)
        case "message":
            mentioned = rng.sample(PEOPLE, rng.randint(0, 2))
            line = command_line(rng, tuple(f"<at>{p[1]}</at>" for p in mentioned) or ("@x",))
            personal = conversation.get("conversationType") == "personal"
            data["text"] = line if personal and rng.random() < 0.7 else f"<at>copbot</at> {line}"
            entities: list[Any] = [mention((BOT_ID, "copbot"))] + [mention(p) for p in mentioned]
            if rng.random() < 0.1:
                entities.append({"type": "mention", "mentioned": json_value(rng), "text": 5})
            data["entities"] = entities
        case "messageReaction":
            for key in ("reactionsAdded", "reactionsRemoved"):
                if key in data or rng.random() < 0.2:
                    kinds = ("like", "heart", "1f44b_wavinghand", word(rng))
                    data[key] = [{"type": rng.choice(kinds)} for _ in range(rng.randint(0, 3))]
            data["replyToId"] = str(rng.randint(0, 10**12))
        case "conversationUpdate":
            members = [{"id": rng.choice((*(p[0] for p in PEOPLE), BOT_ID, word(rng)))}]
            data["membersAdded"] = members * rng.randint(0, 2)
            if rng.random() < 0.2:
                data["membersRemoved"] = [{"id": rng.choice(PEOPLE)[0]}]
        case "installationUpdate":
            data["action"] = rng.choice(
                ("add", "remove", "add-upgrade", "remove-upgrade", word(rng))
            )
    if rng.random() < 0.05:
        data["type"] = rng.choice(("typing", "event", "endOfConversation", word(rng)))
    if rng.random() < 0.1:
        data[word(rng)] = json_value(rng)  # fields Teams may add one day
    return data


def junk(rng: random.Random, service_url: str) -> tuple[bytes, str]:
    """A body that is no activity, or an activity with a field of the wrong shape."""
    if rng.random() < 0.4:
        return junk_bytes(rng), rng.choice(("application/json", "text/plain", ""))
    data = activity(rng, service_url)
    for key in rng.sample(sorted(data), rng.randint(1, 3)):
        data[key] = maybe(rng, data[key], wrong=1.0)
    if rng.random() < 0.3:
        nested = rng.choice(("from", "conversation", "recipient"))
        account = data.get(nested)
        data[nested] = {**(account if isinstance(account, dict) else {}), "id": json_value(rng)}
    return json.dumps(data).encode(), "application/json"


@pytest.fixture
async def client(core: Core) -> AsyncIterator[tuple[Client, FakeBotConnector]]:
    async with FakeBotConnector() as connector:
        for person in PEOPLE[:2]:
            connector.add_member(*person)
        test_client: Client = TestClient(TestServer(build_web_app(core), host="127.0.0.1"))
        await test_client.start_server()
        try:
            yield test_client, connector
        finally:
            await test_client.close()


@pytest.fixture
def replies(core: Core, monkeypatch: pytest.MonkeyPatch) -> list[Reply]:
    """Every reply the router gives (a spy at the dispatch seam)."""
    given: list[Reply] = []
    handle = core.router.handle

    async def spy(event: Event) -> list[Reply]:
        answers = await handle(event)
        given.extend(answers)
        return answers

    monkeypatch.setattr(core.router, "handle", spy)
    return given


async def test_random_activities_never_fail_the_server(
    client: tuple[Client, FakeBotConnector],
    replies: list[Reply],
    caplog: pytest.LogCaptureFixture,
) -> None:
    http, connector = client
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    statuses: dict[int, int] = {}
    for number in range(REQUESTS):
        if rng.random() < 0.5:
            body = json.dumps(activity(rng, connector.service_url)).encode()
            content_type = "application/json"
        else:
            body, content_type = junk(rng, connector.service_url)
        headers = {"Content-Type": content_type} if content_type else {}
        response = await http.post("/api/messages", data=body, headers=headers)
        assert response.status < 500, (number, body[:600], await response.text())
        statuses[response.status] = statuses.get(response.status, 0) + 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [(r.name, r.getMessage()[:300]) for r in errors[:5]]
    assert [r for r in replies if r.kind == "oops"] == []
    assert statuses[201] > REQUESTS // 3 and statuses[400] > REQUESTS // 5, statuses
    assert {r.kind for r in replies} >= {"help", "charter", "error"}
    assert len(connector.sent_activities()) > 100
