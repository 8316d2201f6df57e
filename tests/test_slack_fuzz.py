"""Fuzz /slack/events: seeded random commands, events, interactions and junk, signed and not.

Nothing may answer 5xx, log an error or a traceback, or reach the user as the generic apology."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.app import Core
from bot.events import Event
from bot.replies import Reply
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import interaction_body, sign, slash_command_body
from tests.fakes.slack_workspace import FORM, SIGNING_SECRET, SlackClientSide, load_payload
from tests.random_values import command_line, json_value, junk_bytes, maybe, text, word

SEED = 20261127
REQUESTS = 1200
JSON = "application/json"
USERS = ("U0ALICE", "U0BOB", "U0CAROL", "UBOT")
CHANNELS = ("C0001", "C0002", "G0001", "DU0ALICE", "D0BOB")
TEAMS = ("T0001", "T0002")
MENTIONS = (*(f"<@{u}>" for u in USERS), "<@U0BOB|bob>", "@bob", "<@W0001>")
# Bolt's lazy listeners and copbot's follow-ups run after the ack; the test waits for them.
BACKGROUND = ("to_runnable_function", "SlackListeners._deliver_rest")

Request = tuple[str, bytes, dict[str, str]]  # kind, body, headers (signed when empty)


def slash_command(rng: random.Random, api: FakeSlackApi) -> bytes:
    channel = rng.choice(CHANNELS)
    return slash_command_body(
        command_line(rng, MENTIONS),
        user_id=rng.choice(USERS[:3]),
        user_name=word(rng),
        channel_id=channel,
        channel_name=rng.choice(("general", "directmessage", "privategroup", word(rng))),
        team_id=rng.choice(TEAMS),
        response_url=api.response_url(str(rng.randint(1, 99))),
    )


def event(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(
        (
            "event_message_im",
            "event_reaction_added",
            "event_reaction_removed",
            "event_member_joined_channel",
            "event_app_home_opened",
        )
    )
    envelope = load_payload(kind)
    inner = envelope["event"]
    envelope["team_id"] = rng.choice(TEAMS)
    envelope["event_id"] = f"Ev{rng.randint(0, 10**9)}"
    if "user" in inner:
        inner["user"] = rng.choice(USERS)
    if "channel" in inner:
        inner["channel"] = rng.choice(CHANNELS)
    match inner["type"]:
        case "message":
            inner["text"] = command_line(rng, MENTIONS) if rng.random() < 0.7 else text(rng)
            inner["channel_type"] = rng.choice(("im", "channel", "group", "mpim"))
            if rng.random() < 0.2:
                inner["subtype"] = rng.choice(("bot_message", "message_changed", word(rng)))
            if rng.random() < 0.1:
                inner["bot_id"] = "B0001"
        case "reaction_added" | "reaction_removed":
            inner["reaction"] = rng.choice(("thumbsup", "+1", word(rng)))
            inner["item"] = {
                "type": rng.choice(("message", "message", "file")),
                "channel": rng.choice(CHANNELS),
                "ts": f"{rng.randint(0, 2**31)}.{rng.randint(0, 999999):06d}",
            }
        case "member_joined_channel":
            if rng.random() < 0.5:
                inner.pop("inviter")
        case "app_home_opened":
            inner["tab"] = rng.choice(("home", "messages"))
    if rng.random() < 0.1:  # an event type copbot does not subscribe to
        inner["type"] = rng.choice(("app_mention", "channel_rename", word(rng)))
    return envelope


def interaction(rng: random.Random, api: FakeSlackApi) -> dict[str, Any]:
    user = {"id": rng.choice(USERS[:3]), "username": word(rng), "team_id": rng.choice(TEAMS)}
    if rng.random() < 0.6:
        payload = load_payload("block_actions")
        payload["user"] = user
        payload["team"] = {"id": user["team_id"], "domain": word(rng)}
        channel = rng.choice(CHANNELS)
        payload["channel"] = {"id": channel, "name": rng.choice(("general", "directmessage"))}
        payload["container"]["channel_id"] = channel
        payload["response_url"] = api.response_url(str(rng.randint(1, 99)))
        action = payload["actions"][0]
        action["action_id"] = rng.choice(("command", f"command:{rng.randint(0, 9)}", word(rng)))
        action["value"] = command_line(rng, MENTIONS)
        action["block_id"] = rng.choice(("cop_actions", f"in:{channel}", "in:"))
        if rng.random() < 0.2:  # a button on the home tab
            for key in ("channel", "container", "response_url", "message"):
                payload.pop(key)
            payload["view"] = {"id": "V0HOME", "type": "home", "team_id": user["team_id"]}
        return payload
    payload = load_payload("view_submission")
    payload["user"] = user
    payload["team"] = {"id": user["team_id"], "domain": word(rng)}
    view = payload["view"]
    view["callback_id"] = rng.choice(("setup", "setup", word(rng)))
    metadata = {"channel_id": rng.choice(CHANNELS), "channel_name": word(rng)}
    view["private_metadata"] = rng.choice((json.dumps(metadata), "", "{", "[1]", text(rng)))
    values: dict[str, Any] = {}
    for field in ("name", "kind", "domain", "mission", word(rng)):
        if rng.random() < 0.8:
            if field == "kind":
                option = {"value": rng.choice(("cop", "guild", "erg", word(rng)))}
                values[field] = {field: {"type": "static_select", "selected_option": option}}
            else:
                typed = text(rng) if rng.random() < 0.9 else None
                values[field] = {field: {"type": "plain_text_input", "value": typed}}
    view["state"] = {"values": values}
    return payload


def signed_junk(rng: random.Random) -> tuple[bytes, str]:
    """A junk body Slack's secret signed: bytes, broken or stray JSON, odd forms, and
    Slack-shaped bodies with values of the wrong type."""
    roll = rng.random()
    if roll < 0.6:
        return junk_bytes(rng), rng.choice((JSON, FORM, "text/plain"))
    if roll < 0.8:
        shaped = event(rng)
        shaped["event"] = maybe(rng, shaped["event"], wrong=0.3)
        for key in ("team_id", "authorizations", "type", "event_id"):
            shaped[key] = maybe(rng, shaped[key], wrong=0.3)
        return json.dumps(shaped).encode(), JSON
    return interaction_body(json_value(rng)), FORM


def unsigned(rng: random.Random) -> dict[str, str]:
    """Headers that do not sign the body: missing, malformed, stale or wrong."""
    now = int(time.time())
    choices: list[Callable[[], dict[str, str]]] = [
        lambda: {},
        lambda: {"X-Slack-Request-Timestamp": str(now)},
        lambda: {"X-Slack-Request-Timestamp": rng.choice(("abc", "1e3", "9" * 5000, "", "-1"))},
        lambda: sign("wrong-secret", b"", now),
        lambda: sign(SIGNING_SECRET, b"another body", now),
        lambda: sign(SIGNING_SECRET, b"", now - 301),
        lambda: {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": rng.choice(("v0=", "v1=00", word(rng), "v0=" + "g" * 64)),
        },
    ]
    return rng.choice(choices)()


def next_request(rng: random.Random, api: FakeSlackApi) -> Request:
    roll = rng.random()
    if roll < 0.3:
        return "command", slash_command(rng, api), {"Content-Type": FORM}
    if roll < 0.55:
        return "event", json.dumps(event(rng)).encode(), {"Content-Type": JSON}
    if roll < 0.75:
        return "interaction", interaction_body(interaction(rng, api)), {"Content-Type": FORM}
    if roll < 0.88:
        body, content_type = signed_junk(rng)
        return "signed junk", body, {"Content-Type": content_type}
    body = junk_bytes(rng) if rng.random() < 0.5 else slash_command(rng, api)
    return "unsigned", body, {"Content-Type": rng.choice((FORM, JSON)), **unsigned(rng)}


async def settle() -> None:
    """Wait for the work Slack's requests started in the background (lazy listeners)."""
    while True:
        running = [
            task
            for task in asyncio.all_tasks()
            if getattr(task.get_coro(), "__qualname__", "").endswith(BACKGROUND)
        ]
        if not running:
            return
        await asyncio.wait(running)


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


async def test_random_requests_never_fail_the_server(
    slack: SlackClientSide,
    api: FakeSlackApi,
    replies: list[Reply],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    counts: dict[str, int] = {}
    for number in range(REQUESTS):
        kind, body, headers = next_request(rng, api)
        if kind == "unsigned":
            answer = await slack.post_unsigned(body, headers)
            assert answer.status == 401, (number, body[:300], headers)
        else:
            answer = await slack.post(body, headers["Content-Type"])
            assert answer.status < 500, (number, kind, body[:500], answer.text[:300])
        counts[kind] = counts.get(kind, 0) + 1
        if number % 100 == 99:
            await settle()
    await settle()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [(r.name, r.getMessage()[:300]) for r in errors[:5]]
    assert [r for r in replies if r.kind == "oops"] == []
    assert min(counts.values()) >= 100, counts  # every kind was exercised
    assert {r.kind for r in replies} >= {"help", "charter", "error"}  # and reached the core
