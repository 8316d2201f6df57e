"""The menu through copbot's /api/messages against the fake Bot Connector: `menu` in the
personal chat, its card buttons (acting in the community's channel), and the schedule-a-ritual
card form submitted, with a field error. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import Core
from storage.models import Ritual
from tests.fakes.bot_connector import FakeBotConnector
from tests.test_feedback_teams import card_actions
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    ALICE,
    BOB,
    CHANNEL,
    SETUP,
    TeamsChat,
    User,
    card_text,
    connector,
    serve,
    settings,
    teams,
)


def submitted_in_personal_chat(chat: TeamsChat, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """An `Action.Submit` pressed on a card in the person's chat with copbot."""
    activity = chat.in_personal_chat("", user=user)
    activity["value"] = data
    activity.pop("text", None)
    return activity


async def a_community(chat: TeamsChat) -> None:
    await chat.say(SETUP)
    await chat.say("join", user=BOB)
    await chat.say(
        'ritual add deep-dive "Deep dive" every week on tue at 15:00 Europe/Berlin rotate=yes'
    )


async def test_the_menu_in_the_personal_chat_and_its_buttons(
    core: Core,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await a_community(teams)
    [menu] = await teams.post(teams.in_personal_chat("menu"))
    text = card_text(menu)
    assert "Your steward's menu" in text and "Data Science (steward)" in text
    assert "Deep dive" in text and "going 0, maybe 0" in text
    actions = {a["title"]: a["data"] for a in card_actions(menu)}
    assert actions["Schedule a ritual"] == {
        "action": "menu_form",
        "value": "ritual_form",
        "channel": CHANNEL,
    }
    assert actions["Manage roles"] == {"action": "command", "value": "members", "channel": CHANNEL}

    # A command button: runs in the community's channel, answered in the personal chat.
    sent = await teams.post(submitted_in_personal_chat(teams, ALICE, actions["Manage roles"]))
    assert any("Bob Lee" in card_text(a) for a in sent)

    # A member's menu: their answers and a volunteer button.
    [bobs] = await teams.post(teams.in_personal_chat("menu", user=BOB))
    assert "Your menu" in card_text(bobs) and "you haven't answered" in card_text(bobs)
    assert [a["title"] for a in card_actions(bobs)] == ["Volunteer to facilitate #1"]


async def test_the_schedule_card_form_checks_fields_and_adds_the_ritual(
    core: Core,
    teams: TeamsChat,  # noqa: F811
) -> None:
    await a_community(teams)
    [menu] = await teams.post(teams.in_personal_chat("menu"))
    actions = {a["title"]: a["data"] for a in card_actions(menu)}
    sent = await teams.post(submitted_in_personal_chat(teams, ALICE, actions["Schedule a ritual"]))
    [form] = [a for a in sent if "Schedule a ritual in Data Science" in card_text(a)]
    body = form["attachments"][0]["content"]["body"]
    assert [i["id"] for i in body if i["type"].startswith("Input.")] == [
        "template",
        "title",
        "schedule",
        "duration",
        "remind",
        "where",
        "rotate",
    ]
    [save] = [a for a in card_actions(form) if a["data"].get("form") == "ritual_form"]
    assert save["data"] == {"form": "ritual_form", "channel": CHANNEL}
    fields = {"template": "office-hours", "title": "Ask us", "duration": "30m", "rotate": ""}

    refused = await teams.post(
        submitted_in_personal_chat(
            teams, ALICE, {**save["data"], **fields, "schedule": "every blue moon"}
        )
    )
    assert any("every blue moon" in card_text(a) for a in refused)

    await teams.post(
        submitted_in_personal_chat(
            teams,
            ALICE,
            {**save["data"], **fields, "schedule": "every week on fri at 11:00"},
        )
    )
    async with core.database.session() as session:
        ritual = (await session.exec(select(Ritual).where(Ritual.number == 2))).one()
    assert (ritual.title, ritual.template, ritual.duration_minutes) == (
        "Ask us",
        "office-hours",
        30,
    )

    # Bob, a member, pressing the same button or submitting the same form is refused.
    refused = await teams.post(submitted_in_personal_chat(teams, BOB, actions["Schedule a ritual"]))
    assert any("steward" in card_text(a) for a in refused)
    refused = await teams.post(
        submitted_in_personal_chat(
            teams, BOB, {**save["data"], **fields, "schedule": "every week on mon at 9:00"}
        )
    )
    assert any("steward" in card_text(a) for a in refused)
    async with core.database.session() as session:
        assert len((await session.exec(select(Ritual))).all()) == 2
