"""Seeded random values for the fuzz tests: words, command lines, JSON and junk bytes.

Every function takes the `random.Random` to draw from, so a seed fixes a whole run."""

from __future__ import annotations

import json
import random
import string
from typing import Any

VERBS = (
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
)
ROLES = ("steward", "core", "member", "sponsor", "admin", "")
ODD_TEXT = (
    "",
    " ",
    '"',
    '"unterminated',
    "'",
    "\\",
    "=",
    "==",
    "a=",
    "=b",
    "@",
    "<",
    ">",
    "&amp;",
    "<!channel>",
    "<!here|here>",
    "<!subteam^S1|@team>",
    "<#C0001|general>",
    "<http://x.test|click>",
    "<@>",
    "<@U0BOB|bob>",
    "\u202e\u200b",
    "\x00",
    "\t\n",
    "🙂🙃",
    "\uff46\uff55\uff4c\uff4c",  # fullwidth letters
    "{{ 7*7 }}",
    "{% raw %}",
    "%s%n",
    "null",
    "-1",
    "1e999",
    "NaN",
)


def word(rng: random.Random, length: int | None = None) -> str:
    size = rng.randint(1, 12) if length is None else length
    alphabet = string.ascii_letters + string.digits + "-_.é漢"
    return "".join(rng.choice(alphabet) for _ in range(size))


def text(rng: random.Random) -> str:
    """A short text of words, markup and odd characters."""
    parts = []
    for _ in range(rng.randint(0, 5)):
        roll = rng.random()
        if roll < 0.5:
            parts.append(word(rng))
        elif roll < 0.85:
            parts.append(rng.choice(ODD_TEXT))
        elif roll < 0.95:
            parts.append("".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 8))))
        else:
            parts.append(word(rng, rng.randint(200, 3000)))
    return " ".join(parts)


def command_line(rng: random.Random, mentions: tuple[str, ...]) -> str:
    """A command line: mostly a known verb with arguments of every kind, sometimes junk."""
    verb = rng.choice(VERBS) if rng.random() < 0.85 else word(rng)
    parts = [verb.upper() if rng.random() < 0.05 else verb]
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.25:
            parts.append(rng.choice(mentions))
        elif roll < 0.4:
            parts.append(rng.choice(ROLES))
        elif roll < 0.6:
            parts.append(f'"{text(rng)}"')
        elif roll < 0.75:
            key = rng.choice(("kind", "domain", "mission", "name", word(rng)))
            parts.append(f"{key}={rng.choice((word(rng), repr(text(rng)), ''))}")
        else:
            parts.append(text(rng))
    return " ".join(parts)


def json_value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, nested a few levels."""
    kinds = ["null", "bool", "int", "float", "str"]
    if depth < 3:
        kinds += ["list", "object"]
    match rng.choice(kinds):
        case "null":
            return None
        case "bool":
            return rng.random() < 0.5
        case "int":
            return rng.choice((0, -1, 1, 2**63, rng.randint(-(10**6), 10**6)))
        case "float":
            return rng.choice((0.5, -1e308, 1e-9))
        case "str":
            if rng.random() < 0.03:
                return "lone \ud800 surrogate"
            return text(rng) if rng.random() < 0.7 else word(rng)
        case "list":
            return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        (word(rng) if rng.random() < 0.7 else rng.choice(ODD_TEXT)): json_value(rng, depth + 1)
        for _ in range(rng.randint(0, 4))
    }


def maybe(rng: random.Random, value: Any, wrong: float = 0.05) -> Any:
    """`value`, or (with probability `wrong`) a random JSON value of any type in its place."""
    return json_value(rng) if rng.random() < wrong else value


def junk_bytes(rng: random.Random) -> bytes:
    """A body that is anything: random bytes, broken JSON, a stray JSON value or form data."""
    roll = rng.random()
    if roll < 0.3:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200)))
    if roll < 0.5:
        encoded = json.dumps(json_value(rng)).encode()
        return encoded[: rng.randint(0, len(encoded))]
    if roll < 0.8:
        return json.dumps(json_value(rng)).encode()
    fields = "&".join(f"{word(rng)}={word(rng)}" for _ in range(rng.randint(0, 4)))
    return (rng.choice(("payload=", "", "payload=%7B&", "command=/cop&")) + fields).encode()
