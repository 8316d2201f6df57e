"""Every error the core raises has a sentence on every surface, and only those exist."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adapters.slack.render import SlackRenderer
from adapters.teams.render import CardRenderer
from bot.errors import UserError
from bot.router import error_reply
from messages.rendering import Renderer, error_kinds

ROOT = Path(__file__).resolve().parents[1]
CORE = ("bot", "rituals", "adapters")


# Data that sentences read as lists (joined or iterated), not as one string.
LISTS = (
    "roles",
    "kinds",
    "known",
    "names",
    "nearby",
    "numbers",
    "suggestions",
    "examples",
    "answers",
)


def raised_kinds() -> dict[str, set[str]]:
    """Error kinds named in `UserError("kind", ...)` calls, with the keyword data each passes."""
    found: dict[str, set[str]] = {}
    for package in CORE:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "UserError"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    keys = {k.arg for k in node.keywords if k.arg not in (None, "usage", "field")}
                    found.setdefault(str(node.args[0].value), set()).update(
                        k for k in keys if k is not None
                    )
    return found


def test_every_raised_kind_has_a_sentence_and_every_sentence_is_raised() -> None:
    raised = raised_kinds()
    assert raised, "the scan found no UserError at all"
    assert sorted(set(raised) - set(error_kinds())) == []
    assert sorted(set(error_kinds()) - set(raised)) == []


@pytest.mark.parametrize("kind", sorted(raised_kinds()))
def test_each_sentence_renders_on_every_surface(kind: str) -> None:
    data = {key: "x_<y>*" for key in raised_kinds()[kind]}
    for key in LISTS:
        if key in data:
            data[key] = ["x_<y>*", "b"]  # type: ignore[assignment]
    if "names" in data:
        data["names"] = ["x_<y>*", "b"]  # type: ignore[assignment]
    reply = error_reply(UserError(kind, usage="help", **data))
    text = Renderer("text").text("error", reply.data)
    assert text and "Usage: help [command]" in text
    slack = SlackRenderer().to_message(reply)
    assert "&lt;y&gt;" in slack["text"] or not data
    card = CardRenderer().to_card(reply)
    assert card["body"][0]["text"]


def test_a_missing_sentence_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        Renderer("text").sentence("no_such_kind", {})


def test_teams_renders_commands_in_bold_not_as_escaped_backticks() -> None:
    reply = error_reply(UserError("run_in_channel", command="setup"))
    card = CardRenderer().to_card(reply)
    assert card["body"][0]["text"] == "Run **setup** in a community's channel."
