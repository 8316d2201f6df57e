"""The command grammar: quotes, options, mentions, and no exception but UserError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserError
from bot.events import UserRef
from bot.parsing import parse
from messages.rendering import Renderer


def test_quoted_arguments_and_options() -> None:
    command = parse('setup "Data Science" kind=GUILD domain="ML and stats" mission=\'x\'')
    assert command.verb == "setup"
    assert command.args == ("Data Science",)
    assert command.options == {"kind": "GUILD", "domain": "ML and stats", "mission": "'x'"}


def test_verbs_are_case_insensitive_and_prefix_is_optional() -> None:
    assert parse("/cop JOIN").verb == "join"
    assert parse("Members core").args == ("core",)


def test_empty_input_means_help() -> None:
    assert parse("   ").verb == "help"


def test_mentions_become_user_refs_even_with_spaces_in_the_name() -> None:
    command = parse("role <@29:1abc|Bob Lee> core")
    assert command.args == (UserRef(id="29:1abc", name="Bob Lee"), "core")
    assert command.users == (UserRef(id="29:1abc", name="Bob Lee"),)
    assert command.words == ("core",)


def test_smart_quotes_from_phones_work() -> None:
    assert parse("setup “Data Science”").args == ("Data Science",)


def test_a_quoted_key_value_is_an_argument_not_an_option() -> None:
    assert parse('say "a=b"').args == ("a=b",)
    assert parse('say "a=b"').options == {}


def test_apostrophes_are_plain_text() -> None:
    assert parse("who don't").args == ("don't",)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('setup "unclosed', "quote_not_closed"),
        ("<@U1> join", "command_starts_with_word"),
        ('"join"', "command_starts_with_word"),
        ("x" * 5000, "command_too_long"),
    ],
)
def test_bad_input_is_a_user_error_of_its_kind(text: str, kind: str) -> None:
    with pytest.raises(UserError) as caught:
        parse(text)
    assert caught.value.kind == kind


def test_verbs_are_case_insensitive() -> None:
    assert parse("JOIN").verb == parse("Join").verb == "join"


SENTENCES = Renderer("text")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_input_parses_or_is_an_error_the_user_can_read(text: str) -> None:
    try:
        parse(text)
    except UserError as error:
        assert SENTENCES.sentence(error.kind, error.data)


def test_quoted_arguments_are_marked() -> None:
    command = parse("""setup "A" B 'C'""")
    assert command.args == ("A", "B", "'C'")
    assert command.quoted == frozenset({0})


def test_control_characters_go_and_line_breaks_separate_words() -> None:
    command = parse('setup "a\x00b" mission="one\r\ntwo"\tkind=cop\x07')
    assert command.args == ("ab",)
    assert command.options == {"mission": "one\ntwo", "kind": "cop"}


def test_mention_ids_take_any_letters() -> None:
    command = parse("role <@josé|José> <@李雷> core")
    assert command.users == (UserRef(id="josé", name="José"), UserRef(id="李雷"))
