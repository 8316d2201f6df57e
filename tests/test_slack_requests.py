"""Malformed and unsigned requests to /slack/events: 401 or 400, one short log line, no harm."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from sqlmodel import select

from adapters.slack import shapes
from adapters.slack.verification import RawBodyVerifier
from bot.app import Core
from storage.models import Community
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import interaction_body, sign, slash_command_body
from tests.fakes.slack_workspace import FORM, PAYLOADS, SIGNING_SECRET, SlackClientSide

JSON = "application/json"
REFUSED = {"error": "invalid request"}

# Slack's worked example ("Verifying requests from Slack").
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = 1531420618
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

MALFORMED_BODIES = [
    (b'{"a":', JSON),
    (b"null", JSON),
    (b"[1]", JSON),
    (b'"text"', JSON),
    (b"payload=null", FORM),
    (b"payload=%7B", FORM),
    (b"payload=%5B1%5D", FORM),
    (b"\xff\xfe\x00payload", FORM),
    (b'{"text": "\xc3\x28"}', JSON),
    # Slack's shapes with a field Bolt or copbot reads of another type.
    (b'{"type": "event_callback", "event": null}', JSON),
    (b'{"type": "event_callback", "event": {"type": "message"}, "authorizations": "x"}', JSON),
    (b'{"type": "event_callback", "event": {"type": "reaction_added", "item": "x"}}', JSON),
    (b'{"type": "event_callback", "team": 5, "event": {"type": "message"}}', JSON),
    (interaction_body({"type": "block_actions", "actions": [{"action_id": 1}]}), FORM),
    (interaction_body({"type": "block_actions", "user": "U1"}), FORM),
    # Text no database can store (PostgreSQL refuses NUL; a lone surrogate cannot be encoded).
    (slash_command_body("skills a\x00b"), FORM),
    (b'{"type": "event_callback", "event": {"type": "message", "text": "\\ud800"}}', JSON),
]


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def assert_quiet(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    """At most one short record per request, none an error, none with a traceback."""
    records = caplog.records
    assert len(records) <= requests, [r.getMessage() for r in records]
    for record in records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None and record.exc_text is None, record.getMessage()
        assert len(record.getMessage()) < 200 and "\n" not in record.getMessage()


@pytest.mark.parametrize("stored", sorted(PAYLOADS.glob("*.json")), ids=lambda path: path.stem)
def test_every_stored_slack_payload_has_slacks_shapes(stored: Path) -> None:
    assert shapes.problem(json.loads(stored.read_text())) is None


def test_the_verifier_accepts_slacks_own_example_and_is_total() -> None:
    at_the_time = RawBodyVerifier(DOC_SECRET, FixedClock(DOC_TIMESTAMP + 60))
    assert at_the_time.is_valid(DOC_BODY, str(DOC_TIMESTAMP), DOC_SIGNATURE)
    assert at_the_time.is_valid(DOC_BODY.decode(), str(DOC_TIMESTAMP), DOC_SIGNATURE)
    assert not at_the_time.is_valid(DOC_BODY + b"&x=1", str(DOC_TIMESTAMP), DOC_SIGNATURE)
    later = RawBodyVerifier(DOC_SECRET, FixedClock(DOC_TIMESTAMP + 301))
    assert later.problem(
        DOC_BODY,
        {"X-Slack-Request-Timestamp": str(DOC_TIMESTAMP), "X-Slack-Signature": DOC_SIGNATURE},
    ) == ("stale timestamp")
    for timestamp in ["abc", "1e3", "9" * 5000, "", " 1531420618", "1531420618\n", "١٢٣"]:
        assert not at_the_time.is_valid(DOC_BODY, timestamp, DOC_SIGNATURE), timestamp
    for signature in ["", "v0=", "v0=é" + "0" * 63, DOC_SIGNATURE.upper(), DOC_SIGNATURE + "0"]:
        assert not at_the_time.is_valid(DOC_BODY, str(DOC_TIMESTAMP), signature), signature
    assert not at_the_time.is_valid(DOC_BODY, None, DOC_SIGNATURE)
    assert not at_the_time.is_valid(DOC_BODY, str(DOC_TIMESTAMP), None)


async def test_unsigned_junk_is_refused_with_401_and_one_short_line(
    core: Core, api: FakeSlackApi, slack: SlackClientSide, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = slash_command_body('setup "Forged"')
    now = str(int(time.time()))
    good = sign(SIGNING_SECRET, body, now)
    attempts: list[tuple[bytes, dict[str, str]]] = [
        (raw, {"Content-Type": content_type}) for raw, content_type in MALFORMED_BODIES
    ]
    attempts += [
        (body, {"Content-Type": FORM}),
        (body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": now}),
        (body, {"Content-Type": FORM, "X-Slack-Signature": good["X-Slack-Signature"]}),
        (body, {**good, "Content-Type": FORM, "X-Slack-Signature": "v0=" + "0" * 64}),
        (body, {**good, "Content-Type": FORM, "X-Slack-Signature": "nonsense"}),
    ]
    # Correct signatures over malformed timestamps: refused before any arithmetic on them.
    for timestamp in ["abc", "1e3", "9" * 5000, "-1", str(int(time.time()) - 301)]:
        attempts.append((body, {"Content-Type": FORM, **sign(SIGNING_SECRET, body, timestamp)}))
    attempts.append((b'{"a":', {"Content-Type": JSON, "X-Slack-Request-Timestamp": "abc"}))

    caplog.clear()
    for raw, headers in attempts:
        answer = await slack.post_unsigned(raw, headers)
        assert (answer.status, answer.json) == (401, REFUSED), (raw[:40], headers)
    assert_quiet(caplog, len(attempts))
    assert api.calls == []
    async with core.database.session() as session:
        assert (await session.exec(select(Community))).all() == []


async def test_a_signed_body_that_cannot_be_read_gets_400_and_one_short_line(
    core: Core, api: FakeSlackApi, slack: SlackClientSide, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    for raw, content_type in MALFORMED_BODIES:
        answer = await slack.post(raw, content_type)
        assert answer.status == 400, (raw, answer.text)
    assert_quiet(caplog, len(MALFORMED_BODIES))
    assert api.calls == []


async def test_a_signed_request_still_works_after_the_refusals(
    slack: SlackClientSide, caplog: pytest.LogCaptureFixture
) -> None:
    await slack.post_unsigned(b"null", {"Content-Type": JSON})
    answer = await slack.command("help")
    assert answer.status == 200 and answer.json["response_type"] == "ephemeral"
