"""`export` and `forget me` through copbot's /api/messages with real Bot Framework activities
against the fake Bot Connector; the export's link fetched over HTTP. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.settings import Settings
from storage.database import Database
from storage.models import Download
from tests.data_rights_state import mentions_of
from tests.fakes.bot_connector import FakeBotConnector
from tests.test_data_rights import unzip
from tests.test_feedback_teams import card_actions, pressed_in_personal_chat
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    ALICE,
    BOB,
    CAROL,
    SETUP,
    TeamsChat,
    card_text,
    connector,
    serve,
    teams,
)

PUBLIC_URL = "https://copbot.example.org/base"
LINK = re.compile(r"\]\((https://copbot\.example\.org/base/downloads/[^)]+)\)")


@pytest.fixture
def settings(database: Database) -> Settings:
    """Teams in local-testing mode, with the public address links are made from."""
    return Settings(database_url=database.url, host="127.0.0.1", public_url=PUBLIC_URL)


async def community(chat: TeamsChat) -> None:
    await chat.say(SETUP)
    await chat.say("join", user=BOB)
    await chat.say("join", user=CAROL)
    await chat.say("skills Python", user=BOB)
    await chat.say('poll "Lunch?" "Pizza" "Sushi"', user=BOB)
    await chat.say("vote #1 2", user=BOB)
    await chat.say('kudos <at>Carol Diaz</at> "for the review"', user=BOB)


def link_in(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1).replace("\\_", "_")  # the card's markdown escapes underscores


async def fetch(chat: TeamsChat, link: str) -> tuple[int, bytes, dict[str, str]]:
    path = urlsplit(link).path.removeprefix("/base")  # the proxy in front strips its prefix
    response = await chat.client.get(path)
    return response.status, await response.read(), dict(response.headers)


async def test_export_is_a_link_in_the_steward_s_personal_chat_for_one_hour(
    core: Core,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
    clock: FixedClock,
) -> None:
    await community(teams)
    sent = await teams.post(teams.in_channel("export"))
    [card] = sent
    # Not in the channel's thread: a personal chat created with alice alone.
    created = connector.created_conversations()[-1]  # (carol's, for her kudos, came first)
    assert created.body is not None and created.body["members"] == [{"id": ALICE[0]}]
    call = teams.last_calls(1)[0]
    assert call.operation == "send_to_conversation"
    assert created.response is not None and call.conversation_id == created.response["id"]
    text = card_text(card)
    assert "The export of **Data Science** is ready" in text and "60 minutes" in text
    link = link_in(text)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 43
    status, body, headers = await fetch(teams, link)
    assert status == 200
    assert headers["Content-Type"] == "application/zip"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Disposition"].startswith('attachment; filename="copbot-export-')
    files = unzip(body)
    assert {m["user_id"] for m in files["members"]} == {ALICE[0], BOB[0], CAROL[0]}
    assert files["kudos"][0]["to_user"] == CAROL[0]
    # The link is bound to alice: stored for her alone, in her tenant.
    async with core.database.session() as session:
        [stored] = (await session.exec(select(Download))).all()
    assert (stored.user_id, stored.workspace, stored.token) == (ALICE[0], "tenant-0001", token)
    # Unknown, mangled or expired tokens are a 404.
    assert (await fetch(teams, link[:-1] + ("A" if link[-1] != "A" else "B")))[0] == 404
    assert (await fetch(teams, f"{PUBLIC_URL}/downloads/short"))[0] == 404
    clock.advance(minutes=59)
    assert (await fetch(teams, link))[0] == 200
    clock.advance(minutes=2)
    assert (await fetch(teams, link))[0] == 404
    assert await core.downloads.forget_expired() == 1


async def test_each_steward_gets_their_own_link_and_forgetting_ends_it(
    core: Core,
    teams: TeamsChat,  # noqa: F811
) -> None:
    await community(teams)
    await teams.say("role <at>Bob Lee</at> steward")
    [alice_card] = await teams.post(teams.in_channel("export"))
    [bob_card] = await teams.post(teams.in_channel("export", user=BOB))
    alice_link, bob_link = link_in(card_text(alice_card)), link_in(card_text(bob_card))
    assert alice_link != bob_link
    assert (await fetch(teams, bob_link))[0] == 200
    [asked] = await teams.post(teams.in_personal_chat("forget me", user=BOB))
    [button] = card_actions(asked)
    assert button["title"] == "Yes, forget me"
    [done] = await teams.post(
        pressed_in_personal_chat(teams, BOB, button["data"]["action"], button["data"]["value"])
    )
    assert "forgotten you" in card_text(done) and "1 download link" in card_text(done)
    assert (await fetch(teams, bob_link))[0] == 404
    assert (await fetch(teams, alice_link))[0] == 200
    assert await mentions_of(core.database, BOB[0]) == []
    assert await mentions_of(core.database, ALICE[0])


async def test_without_a_public_address_the_steward_is_told_what_is_missing(
    core: Core,
    teams: TeamsChat,  # noqa: F811
) -> None:
    core.settings.public_url = None
    await community(teams)
    text = await teams.say("export")
    assert "no public address" in text and "COPBOT_PUBLIC_URL" in text
    async with core.database.session() as session:
        assert (await session.exec(select(Download))).all() == []


async def test_export_by_a_member_is_refused_kindly(teams: TeamsChat) -> None:  # noqa: F811
    await community(teams)
    text = await teams.say("export", user=BOB)
    assert "Only stewards can use **export**." in text
