"""Every text template renders real replies, and every reply kind has a template."""

from __future__ import annotations

import pytest

from bot.app import Core
from messages.rendering import Renderer, escape_data, template_kinds
from tests.sample_replies import collect_replies


@pytest.fixture
def backend() -> str:
    return "sqlite"  # rendering does not depend on the database


async def test_every_reply_kind_has_a_text_template_and_renders(core: Core) -> None:
    replies = await collect_replies(core)
    assert sorted(replies) == template_kinds("text")
    renderer = Renderer("text")
    for kind, reply in replies.items():
        text = renderer.text(kind, reply.data)
        assert text and "None" not in text, kind


async def test_user_text_is_shown_as_typed_on_the_text_surface(core: Core) -> None:
    replies = await collect_replies(core)
    text = Renderer("text").text("charter", replies["charter"].data)
    assert "Data <Science> & Co" in text and "<!channel> hi" in text


def test_escape_data_reaches_nested_strings_but_not_keys() -> None:
    data = {"a<": ["<x>", {"b": "<y>"}], "n": 3}
    assert escape_data(data, lambda s: s.replace("<", "&lt;")) == {
        "a<": ["&lt;x>", {"b": "&lt;y>"}],
        "n": 3,
    }


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        Renderer("text").text("oops", {})
