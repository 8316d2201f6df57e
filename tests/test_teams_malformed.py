"""Malformed activities to /api/messages (local, unauthenticated Teams): 400, quietly."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Core
from bot.events import Event
from bot.replies import Reply
from copbot.app import web_app as build_web_app
from tests.fakes.bot_connector import FakeBotConnector
from tests.test_teams_endpoint import BOB, Client, TeamsChat, card_text


@pytest.fixture
async def chat(core: Core) -> AsyncIterator[TeamsChat]:
    async with FakeBotConnector() as connector:
        connector.add_member(BOB[0], BOB[1])
        client: Client = TestClient(TestServer(build_web_app(core), host="127.0.0.1"))
        await client.start_server()
        try:
            yield TeamsChat(client, connector)
        finally:
            await client.close()


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


def assert_quiet(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    """At most one short record per request, none an error, none with a traceback."""
    records = [r for r in caplog.records if r.name != "aiohttp.access"]  # the test server's
    assert len(records) <= requests, [r.getMessage() for r in records]
    for record in records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None and record.exc_text is None, record.getMessage()
        assert "\n" not in record.getMessage() and len(record.getMessage()) < 200


def malformed(chat: TeamsChat) -> list[dict[str, Any]]:
    message = chat.in_personal_chat("help")
    update = chat.activity("conversation_update_members_added")
    return [
        {**message, "from": None},
        {**message, "from": "x"},
        {**message, "from": {"name": "no id"}},
        {**message, "entities": "x"},
        {**message, "entities": ["x", 1]},
        {**message, "conversation": "x"},
        {**message, "conversation": None},
        {**message, "conversation": {"conversationType": "personal"}},
        {**message, "timestamp": "yesterday"},
        {**message, "timestamp": 12},
        {**message, "recipient": "x"},
        {**message, "channelData": "x"},
        {**message, "text": {"a": 1}},
        {**update, "membersAdded": "x"},
        {**update, "membersAdded": [None]},
        {**update, "membersAdded": [{"name": "no id"}]},
        {**chat.activity("message_reaction_added"), "reactionsAdded": "x"},
        {**message, "serviceUrl": None},
        {**message, "serviceUrl": 5},
        {**message, "text": "skills a\x00b"},
        {**message, "from": {"id": BOB[0], "name": "\ud800"}},
    ]


async def test_malformed_activities_get_400_without_a_traceback(
    chat: TeamsChat, seen: list[Event], caplog: pytest.LogCaptureFixture
) -> None:
    activities = malformed(chat)
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    for activity in activities:
        response = await chat.client.post("/api/messages", json=activity)
        changed = {k: activity[k] for k in activity if activity[k] is not None and k != "id"}
        assert response.status == 400, (await response.text(), changed)
    assert_quiet(caplog, len(activities))
    assert seen == []
    assert chat.connector.calls == []


async def test_a_card_submit_copbot_did_not_make_is_ignored(
    chat: TeamsChat, seen: list[Event]
) -> None:
    not_ours = (
        {"x": 1},
        {"action": "command", "value": {"x": 1}},
        {"action": {"a": 1}},
        {"form": ["setup"]},
        [1],
        "join",
        7,
    )
    for value in not_ours:
        submit = chat.activity("action_submit", value=value)
        assert await chat.post(submit) == []
        personal = {**chat.in_personal_chat("ignored"), "text": None, "value": value}
        assert await chat.post(personal) == []
    assert seen == []


async def test_a_name_longer_than_copbot_keeps_is_cut_not_a_failure(
    chat: TeamsChat, seen: list[Event], core: Core
) -> None:
    long_name = "Ann " + "n" * 252  # Entra ID allows display names of 256 characters
    message = chat.in_channel('setup "Data"')
    message["from"]["name"] = long_name
    [answer] = await chat.post(message)
    assert "Data" in card_text(answer) and "went wrong" not in card_text(answer)
    assert seen[0].origin.user_name == long_name[:200]
