"""Saving a Teams message to the library: the message action's fetchTask invoke answers 200
with a task module holding the draft card, and submitAction publishes it. Over HTTP against
the fake Bot Connector, on both databases."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import Core
from storage.models import Resource
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    SETUP,
    TeamsChat,
    connector,
    serve,
    settings,
    teams,
)


async def _invoke(chat: TeamsChat, activity: dict[str, Any]) -> tuple[int, Any]:
    response = await chat.client.post("/api/messages", json=activity)
    return response.status, await response.json()


async def _resources(core: Core) -> list[Resource]:
    async with core.database.session() as session:
        return list((await session.exec(select(Resource))).all())


async def test_fetch_task_drafts_and_submit_action_publishes(
    teams: TeamsChat,  # noqa: F811
    core: Core,
) -> None:
    await teams.say(SETUP)
    fetch = teams.activity("message_action_fetch_task")

    status, body = await _invoke(teams, fetch)

    assert status == 200
    task = body["task"]
    assert task["type"] == "continue" and task["value"]["title"] == "Save to library"
    card = task["value"]["card"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    inputs = {i["id"]: i.get("value") for i in card["content"]["body"] if "id" in i}
    assert inputs["title"] == "Feature stores keep features consistent & fast."
    assert "online" in inputs["tags"]
    [draft] = await _resources(core)
    assert draft.status == "draft" and draft.links == ["https://feast.dev"]
    [submit] = card["content"]["actions"][:1]
    assert submit["data"] == {"form": "library_draft"}

    data = {**submit["data"], **inputs, "title": "Feature stores", "tags": "#mlops"}
    submit_action = teams.activity(
        "message_action_fetch_task",
        name="composeExtension/submitAction",
        value={**fetch["value"], "data": data},
    )
    status, body = await _invoke(teams, submit_action)

    assert status == 200
    assert body["task"]["type"] == "message" and "Feature stores" in body["task"]["value"]
    [published] = await _resources(core)
    assert (published.status, published.title, published.tags) == (
        "published",
        "Feature stores",
        ["mlops"],
    )


async def test_outside_a_community_the_task_module_says_why(
    teams: TeamsChat,  # noqa: F811
) -> None:
    status, body = await _invoke(teams, teams.activity("message_action_fetch_task"))
    assert status == 200
    assert body["task"]["type"] == "message" and "no community yet" in body["task"]["value"]


async def test_other_invokes_get_an_empty_200(teams: TeamsChat) -> None:  # noqa: F811
    other = teams.activity("message_action_fetch_task", name="composeExtension/query")
    status, body = await _invoke(teams, other)
    assert status == 200 and body == {}
