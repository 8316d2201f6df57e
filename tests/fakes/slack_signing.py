"""Request bodies as Slack posts them to `/slack/events`, and the headers that sign them."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0001"
APP_ID = "A0001"


def sign(secret: str, body: bytes, timestamp: int | str) -> dict[str, str]:
    """The `X-Slack-Signature` and `X-Slack-Request-Timestamp` headers for `body` (a string
    timestamp is used as given, to sign malformed ones)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}


def slash_command_body(
    text: str = "",
    *,
    command: str = "/cop",
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    channel_id: str = "C0001",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    team_domain: str = "cop-test",
    response_url: str = "https://hooks.slack.com/commands/T0001/1/abc",
    trigger_id: str = "1700000000.1.abcdef",
    api_app_id: str = APP_ID,
) -> bytes:
    """A form-encoded slash command, fields in the order Slack sends them."""
    fields = {
        "token": "verification-token",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode()


def event_body(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    event_id: str = "Ev0001",
    event_time: int = 1_700_000_000,
    api_app_id: str = APP_ID,
) -> bytes:
    """A JSON `event_callback` envelope around `event`, as the Events API posts it."""
    envelope = {
        "token": "verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    return json.dumps(envelope).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """A form-encoded interactivity request: `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload)}).encode()
