"""When Teams runs, whether it checks tokens, and the CLI commands around it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from adapters.teams.access import TeamsAccess, is_loopback, teams_access, teams_wanted
from bot.settings import Settings, SettingsError

APP_ID = "9f1c2d3e-4b5a-4c6d-8e7f-1a2b3c4d5e6f"
ROOT = Path(__file__).resolve().parents[1]


def test_an_app_id_means_every_request_is_authenticated() -> None:
    settings = Settings(teams_app_id=APP_ID, teams_app_password="secret", host="0.0.0.0")
    assert teams_access(settings) is TeamsAccess.AUTHENTICATED
    assert teams_wanted(settings)


def test_an_app_id_without_its_password_is_refused() -> None:
    with pytest.raises(SettingsError, match="TEAMS_APP_PASSWORD"):
        teams_access(Settings(teams_app_id=APP_ID))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_without_an_app_id_loopback_runs_unauthenticated(host: str) -> None:
    assert is_loopback(host)
    assert teams_access(Settings(host=host)) is TeamsAccess.UNAUTHENTICATED


def test_without_an_app_id_a_public_host_needs_the_explicit_switch() -> None:
    with pytest.raises(SettingsError, match="COPBOT_TEAMS_ALLOW_UNAUTHENTICATED=1") as refused:
        teams_access(Settings(host="0.0.0.0"))
    assert "\n" not in str(refused.value)
    allowed = Settings(host="0.0.0.0", teams_allow_unauthenticated=True)
    assert teams_access(allowed) is TeamsAccess.UNAUTHENTICATED


def test_teams_is_served_alone_or_when_configured_but_not_beside_slack_unasked() -> None:
    assert teams_wanted(Settings())
    assert not teams_wanted(Settings(slack_bot_token="xoxb-1"))
    assert teams_wanted(Settings(slack_bot_token="xoxb-1", teams_allow_unauthenticated=True))


def copbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COPBOT_LOG_LEVEL": "WARNING", **env}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "TEAMS_APP_ID"):
        environment.pop(name, None)
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "copbot", *args],
        text=True,
        capture_output=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_serve_refuses_unauthenticated_teams_on_a_public_host_in_one_line(
    tmp_path: Path,
) -> None:
    result = copbot(
        "serve",
        env={
            "COPBOT_HOST": "0.0.0.0",
            "COPBOT_PORT": "0",
            "COPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'copbot.db'}",
        },
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith("copbot: Teams has no TEAMS_APP_ID")


def test_manifest_teams_writes_the_app_package(tmp_path: Path) -> None:
    target = tmp_path / "copbot-teams.zip"
    result = copbot(
        "manifest", "teams", "--app-id", APP_ID, "--zip", str(target), env={}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert APP_ID in archive.read("manifest.json").decode()
    bad = copbot(
        "manifest", "teams", "--app-id", "nope", "--zip", str(target), env={}, cwd=tmp_path
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
