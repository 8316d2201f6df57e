"""`copbot manifest slack` prints the manifest; `copbot serve` refuses Slack it cannot verify."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from copbot.cli import app

runner = CliRunner()


def test_manifest_slack_fills_in_the_url_and_turns_socket_mode_off() -> None:
    result = runner.invoke(app, ["manifest", "slack", "--url", "https://example.org"])

    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == (
        "https://example.org/slack/events"
    )
    assert manifest["features"]["slash_commands"][0]["url"] == "https://example.org/slack/events"
    assert manifest["oauth_config"]["redirect_urls"] == ["https://example.org/slack/oauth_redirect"]


def test_manifest_slack_without_a_url_is_the_socket_mode_manifest() -> None:
    result = runner.invoke(app, ["manifest", "slack"])

    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["settings"]["socket_mode_enabled"] is True


def test_manifest_slack_refuses_plain_http() -> None:
    result = runner.invoke(app, ["manifest", "slack", "--url", "http://example.org"])

    assert result.exit_code == 2 and "https://" in result.output


def test_serve_refuses_http_mode_without_a_signing_secret(tmp_path: Path) -> None:
    env = {
        "COPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}",
        "COPBOT_PORT": "0",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_APP_TOKEN": None,
        "SLACK_CLIENT_ID": None,
        "SLACK_CLIENT_SECRET": None,
    }

    result = runner.invoke(app, ["serve"], env=env)

    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET is required" in result.output
    assert "Traceback" not in result.output
