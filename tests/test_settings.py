"""Configuration: defaults, environment names, and one clear line for a bad value."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_defaults_are_the_embedded_console_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COPBOT_DATABASE_URL", "COPBOT_PORT", "SLACK_BOT_TOKEN", "TEAMS_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///./copbot.db"
    assert (settings.host, settings.port, settings.timezone) == ("127.0.0.1", 3000, "UTC")
    assert not settings.slack_configured and not settings.teams_configured


def test_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPBOT_PORT", "8080")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("COPBOT_LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.port == 8080 and settings.log_level == "DEBUG" and settings.slack_configured
    assert "xoxb-1" not in repr(settings)  # secrets stay out of logs


def test_several_bad_values_are_reported_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPBOT_PORT", "70000")
    monkeypatch.setenv("COPBOT_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "COPBOT_PORT" in message and "COPBOT_LOG_LEVEL" in message and "\n" not in message
