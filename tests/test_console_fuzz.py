"""Random command lines through the console, on both databases: whatever people type, copbot
answers, and never with the apology or a logged error.

The lines come from a seeded generator, so a failure repeats: the real verbs and options, in
quotes or not, mentions in any script, control characters, NUL and over-long text."""

from __future__ import annotations

import logging
import random

import pytest

from bot.vocabulary import ROLE_WORDS, SETUP_FIELDS
from messages.commands import command_texts
from tests.console_bot import ConsoleBot

LINES = 1000
SEED = 20261201
OOPS = "something went wrong"

USERS = ("alice", "Bob", "José", "Zoë", "李雷", "o'neil")
CHANNELS = ("ds", "платформа", "guild-1")
VERBS = (*command_texts(), "charter", "directory", "expertise", "?", "membrs", "HELP", "/cop")
OPTIONS = (*SETUP_FIELDS, "level", "x", "KIND", "name")
WORDS = (
    "Data Science",
    "SQL",
    "python",
    "core",
    "steward",
    "sponsor",
    "confirm",
    "cop",
    "guild",
    "erg",
    "don't",
    "a,b,,c",
    "ß" * 30,
    "ﬃ" * 15,
    "🙂👩‍💻",
    "مرحبا",
    "e\u0301",
    "<!channel>",
    "*bold* _it_ `code`",
    "\\",
    "=",
    "a=b",
)
CONTROLS = ("\x00", "\x07", "\x1b[31m", "\t", "\r", "\n", "\x7f", "\x85", "\u2028", "\ud800")
QUOTES = ('"', "'", "“", "”", "\u2018", "\u2019", "«", "»")  # straight, curly, guillemets


def fragment(rng: random.Random) -> str:
    """One piece of a command line after its verb."""
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(WORDS)
    if pick < 0.5:
        value = rng.choice(["", rng.choice(WORDS), '"' + rng.choice(WORDS) + '"'])
        return f"{rng.choice(OPTIONS)}={value}"
    if pick < 0.65:
        name = rng.choice((*USERS, "nobody", "x" * 40))
        return rng.choice(
            [f"@{name}", f"<@{name.lower()}|{name}>", f"<@{name.lower()}>", "<@", "@"]
        )
    if pick < 0.75:
        quote = rng.choice(QUOTES)
        return quote + rng.choice(WORDS) + rng.choice([quote, "", '"'])
    if pick < 0.85:
        return rng.choice(WORDS) + rng.choice(CONTROLS) + rng.choice(WORDS)
    if pick < 0.9:
        return rng.choice(list(ROLE_WORDS))
    if pick < 0.95:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 12)))
    return rng.choice(WORDS) * rng.randrange(10, 250)  # long, sometimes past every limit


def command_line(rng: random.Random) -> str:
    verb = rng.choice(VERBS)
    if rng.random() < 0.05:
        verb = rng.choice(CONTROLS) + verb
    parts = [verb, *(fragment(rng) for _ in range(rng.randrange(0, 5)))]
    separator = rng.choice([" ", " ", " ", "  ", "\t", ", "])
    return separator.join(parts)


def test_the_generator_covers_what_it_should() -> None:
    rng = random.Random(SEED)
    lines = [command_line(rng) for _ in range(LINES)]
    text = "".join(lines)
    assert "\x00" in text and "\ud800" in text and "@José" in text and "李雷" in text
    assert any(len(line) > 4000 for line in lines) and any("=" in line for line in lines)
    assert sum(line.startswith("setup") for line in lines) >= 10  # among every verb there is


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_thousand_random_lines_never_get_the_apology(
    bot: ConsoleBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    # A community in each channel first, so that most commands reach the services.
    for channel in CHANNELS:
        await bot.say(f'setup "{channel.title()} CoP"', as_="alice", channel=channel)
    for number in range(LINES):
        line = command_line(rng)
        out = await bot.say(line, as_=rng.choice(USERS), channel=rng.choice(CHANNELS))
        assert out, (number, line)
        assert OOPS not in out and "Traceback" not in out, (number, line, out)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, (number, line, errors[0].getMessage())
