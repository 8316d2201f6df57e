"""The `copbot` command line as a person uses it: piped console sessions, demo, bad settings."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = [
    'setup "Data Science" domain="ML" mission="Share reusable patterns"',
    ":as bob",
    "join",
    "members",
]


def copbot(
    *args: str,
    stdin: str = "",
    database: Path,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "COPBOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "COPBOT_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "TEAMS_APP_ID"):
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "copbot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=environment,
        timeout=timeout,
        check=False,
    )


def test_piped_chat_sets_up_a_community_and_a_second_run_sees_it(tmp_path: Path) -> None:
    database = tmp_path / "copbot.db"
    first = copbot(
        "chat",
        "--as",
        "alice",
        "--channel",
        "ds",
        stdin="\n".join(SCRIPT) + "\n",
        database=database,
    )
    assert first.returncode == 0, first.stderr
    assert "@alice (steward)" in first.stdout and "@bob (member)" in first.stdout
    assert "Traceback" not in first.stdout + first.stderr
    second = copbot(
        "chat", "--as", "carol", "--channel", "ds", stdin="members\nabout\n", database=database
    )
    assert second.returncode == 0, second.stderr
    assert "@alice (steward)" in second.stdout and "Members:  2" in second.stdout


def test_a_member_changing_roles_is_refused_in_the_console(tmp_path: Path) -> None:
    database = tmp_path / "copbot.db"
    lines = [*SCRIPT, "role @alice member", ":as carol", "members"]
    result = copbot(
        "chat", "--as", "alice", "--channel", "ds", stdin="\n".join(lines) + "\n", database=database
    )
    assert "Only stewards can use `role`" in result.stdout
    assert result.stdout.rsplit("Data Science: 2 members", 1)[1].count("@alice (steward)") == 1


def random_line(rng: random.Random) -> str:
    verbs = [
        "help",
        "setup",
        "about",
        "join",
        "leave",
        "members",
        "role",
        "skills",
        "who",
        "communities",
        ":as",
        ":in",
        ":dm",
        ":home",
        "/cop",
        "hlep",
        "<@U1>",
        '"',
        "=",
    ]
    alphabet = "abcXYZ \"'=@<>|#:,.-_/\\*`~!?“”é😀\t"
    words = [rng.choice(verbs)] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for _ in range(rng.randint(0, 5))
    ]
    return " ".join(words)


def test_a_thousand_random_lines_each_get_a_reply_and_no_traceback(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    lines = [line.replace(":quit", "quit") for line in (random_line(rng) for _ in range(1000))]
    lines = [line for line in lines if line.strip() and not line.strip().startswith((":q", ":e"))]
    result = copbot(
        "chat",
        "--as",
        "alice",
        "--channel",
        "fuzz",
        stdin="\n".join(lines) + "\n",
        database=tmp_path / "copbot.db",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    assert "something went wrong" not in result.stdout
    # Every command line produced output: the number of replies is at least the number of
    # lines that were not console meta-commands (which answer nothing when well-formed).
    commands = [line for line in lines if not line.lstrip().startswith(":")]
    assert len([x for x in result.stdout.splitlines() if x.strip()]) >= len(commands)


def test_demo_seeds_a_community_to_explore(tmp_path: Path) -> None:
    database = tmp_path / "copbot.db"
    seeded = copbot("demo", database=database)
    assert seeded.returncode == 0, seeded.stderr
    assert "copbot chat --as alice --channel data-science" in seeded.stdout
    assert "demo:" not in seeded.stderr
    # The posts it makes wait for a chat adapter: no log line each to say so.
    assert "not sent" not in seeded.stderr and "WARNING" not in seeded.stderr, seeded.stderr
    again = copbot("demo", database=database)  # idempotent
    assert again.returncode == 0 and "demo:" not in again.stderr
    chat = copbot(
        "chat",
        "--as",
        "zoe",
        "--channel",
        "data-science",
        stdin="members\nwho forecasting\n",
        database=database,
    )
    assert "Data Science: 14 members" in chat.stdout  # a dozen, and two newcomers
    assert "@Kai (sponsor)" in chat.stdout and "@emeka: forecasting" in chat.stdout.lower()


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("COPBOT_PORT", "eighty", "COPBOT_PORT"),
        ("COPBOT_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("COPBOT_DATABASE_URL", "mysql://x", "must start with sqlite+aiosqlite://"),
    ],
)
def test_a_bad_setting_fails_at_start_with_one_clear_line(
    tmp_path: Path, name: str, value: str, shown: str
) -> None:
    result = copbot("chat", database=tmp_path / "copbot.db", env={name: value})
    assert result.returncode == 2
    assert shown in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_is_repeatable(tmp_path: Path) -> None:
    database = tmp_path / "copbot.db"
    for _ in range(2):
        result = copbot("db", "upgrade", database=database)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout


def test_the_installed_copbot_command_runs() -> None:
    """The console script `make` installs (the README's commands use it) starts the CLI."""
    script = Path(sys.executable).with_name("copbot")
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "chat" in result.stdout and "serve" in result.stdout


@pytest.mark.parametrize("command", [("db", "upgrade"), ("demo",), ("chat",)])
def test_an_unreachable_database_is_one_line_not_a_traceback(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    unreachable = {"COPBOT_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"}
    result = copbot(*command, database=tmp_path / "unused.db", env=unreachable)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot use the database" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "127.0.0.1:1" in lines[0]
