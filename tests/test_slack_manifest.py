"""The Slack app manifest has what copbot needs, and the HTTP variant points at our URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.slack.manifest import dump_manifest, load_manifest, manifest_for_url
from messages.commands import command_texts

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://copbot.example.org"
EVENTS_URL = "https://copbot.example.org/slack/events"


@pytest.fixture
def manifest() -> dict[str, Any]:
    return load_manifest()


def test_repo_root_manifest_is_a_copy_of_the_packaged_one() -> None:
    packaged = REPO_ROOT / "adapters" / "slack" / "manifest.yml"

    assert (REPO_ROOT / "manifest.yml").read_bytes() == packaged.read_bytes()


def test_manifest_has_the_required_sections(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 1
    assert manifest["display_information"]["name"] == "copbot"
    assert len(manifest["display_information"]["description"]) <= 140
    assert len(manifest["display_information"]["long_description"]) >= 175
    assert manifest["display_information"]["background_color"].startswith("#")
    assert manifest["features"]["bot_user"] == {"display_name": "copbot", "always_online": True}
    assert manifest["features"]["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def test_manifest_declares_the_cop_command(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]

    assert command["command"] == "/cop"
    assert command["description"]
    # The hint names real commands (as messages/commands.yml words them).
    hinted = [part.split('"')[0].split("<")[0].strip() for part in command["usage_hint"].split("|")]
    assert "setup" in hinted and set(hinted) <= set(command_texts())
    assert command["should_escape"] is True
    assert "url" not in command


def test_manifest_asks_for_the_scopes_the_events_need(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])

    assert events == {
        "member_joined_channel",
        "reaction_added",
        "reaction_removed",
        "app_home_opened",
        "message.im",
    }
    assert scopes == {
        "commands",
        "chat:write",
        "files:write",  # the steward's export, uploaded to their DM
        "im:history",
        "im:write",
        "reactions:read",
        "reactions:write",
        "users:read",
        "channels:read",
        "groups:read",
        "channels:history",  # finding a delivery's post again after a crash
        "groups:history",
    }


def test_manifest_offers_the_save_to_library_shortcut(manifest: dict[str, Any]) -> None:
    (shortcut,) = manifest["features"]["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == "save_to_library"
    assert shortcut["name"] == "Save to library" and shortcut["description"]


def test_manifest_runs_in_socket_mode_without_request_urls(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]

    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"] == {"is_enabled": True}
    assert "request_url" not in settings["event_subscriptions"]
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_manifest_for_url_fills_every_request_url(manifest: dict[str, Any]) -> None:
    http = manifest_for_url(BASE_URL + "/")

    assert http["features"]["slash_commands"][0]["url"] == EVENTS_URL
    assert http["settings"]["event_subscriptions"]["request_url"] == EVENTS_URL
    assert http["settings"]["interactivity"]["request_url"] == EVENTS_URL
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["oauth_config"]["redirect_urls"] == [
        "https://copbot.example.org/slack/oauth_redirect"
    ]
    assert manifest == load_manifest()


def test_manifest_for_url_refuses_plain_http() -> None:
    with pytest.raises(ValueError, match="https"):
        manifest_for_url("http://localhost:3000")


def test_dump_manifest_round_trips_in_order(manifest: dict[str, Any]) -> None:
    text = dump_manifest(manifest_for_url(BASE_URL))

    assert yaml.safe_load(text) == manifest_for_url(BASE_URL)
    assert text.startswith("_metadata:")
