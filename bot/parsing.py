"""The command grammar: a verb, quoted arguments, `key=value` options and user mentions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import UserError
from bot.events import UserRef
from bot.text import clean

MAX_LENGTH = 4000
PREFIX = "/cop"
# Phones and word processors turn quotes curly; the grammar wants straight ones.
_SMART_QUOTES = str.maketrans("“”„«»‘’", '"""""\'\'')  # noqa: RUF001
# `<@ID>` or `<@ID|name>`; console ids are names, so an id may hold any letters.
_MENTION = re.compile(r"<@([^\s<>|]+)(?:\|([^>]*))?>")
_OPTION = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)=")

Arg = str | UserRef


@dataclass(frozen=True, kw_only=True)
class ParsedCommand:
    """A parsed command line. `args` keeps order; options are keyed in lower case;
    `quoted` holds the positions in `args` of the arguments typed in quotes."""

    verb: str
    args: tuple[Arg, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    quoted: frozenset[int] = frozenset()

    @property
    def words(self) -> tuple[str, ...]:
        """The plain-text arguments (mentions left out)."""
        return tuple(a for a in self.args if isinstance(a, str))

    @property
    def users(self) -> tuple[UserRef, ...]:
        return tuple(a for a in self.args if isinstance(a, UserRef))

    @property
    def rest(self) -> str:
        """The plain-text arguments joined back into one string."""
        return " ".join(self.words)


@dataclass
class _Token:
    text: str = ""
    quoted: bool = False
    option_key: str | None = None
    user: UserRef | None = None


def _tokens(line: str) -> list[_Token]:
    tokens: list[_Token] = []
    current: _Token | None = None
    in_quote = False
    i = 0
    while i < len(line):
        char = line[i]
        if not in_quote and char.isspace():
            if current is not None:
                tokens.append(current)
                current = None
            i += 1
            continue
        if not in_quote and current is None and line.startswith("<@", i):
            match = _MENTION.match(line, i)
            if match:
                user = UserRef(id=match.group(1), name=(match.group(2) or "").strip())
                tokens.append(_Token(text=match.group(0), user=user))
                i = match.end()
                continue
        if current is None:
            current = _Token()
        if char == '"':
            if not in_quote and not current.quoted and current.option_key is None:
                option = _OPTION.match(current.text)
                if option and option.end() == len(current.text):
                    current.option_key = option.group(1).lower()
                    current.text = ""
            in_quote = not in_quote
            current.quoted = True
        else:
            current.text += char
        i += 1
    if in_quote:
        raise UserError("quote_not_closed")
    if current is not None:
        tokens.append(current)
    return tokens


def parse(text: str) -> ParsedCommand:
    """Parse one command line; raises `UserError` with a friendly reason when it cannot."""
    # Line breaks stay: they separate words, and a quoted mission may span lines.
    line = clean(text, multiline=True).translate(_SMART_QUOTES).strip()
    if len(line) > MAX_LENGTH:
        raise UserError("command_too_long", limit=MAX_LENGTH)
    if line.lower() == PREFIX or line.lower().startswith(PREFIX + " "):
        line = line[len(PREFIX) :].strip()
    tokens = _tokens(line)
    if not tokens:
        return ParsedCommand(verb="help")
    head, *tail = tokens
    if head.user is not None or head.quoted:
        raise UserError("command_starts_with_word")
    args: list[Arg] = []
    options: dict[str, str] = {}
    quoted: set[int] = set()
    for token in tail:
        if token.user is not None:
            args.append(token.user)
        elif token.option_key is not None:
            options[token.option_key] = token.text
        elif not token.quoted and (option := _OPTION.match(token.text)):
            options[option.group(1).lower()] = token.text[option.end() :]
        else:
            if token.quoted:
                quoted.add(len(args))
            args.append(token.text)
    return ParsedCommand(
        verb=head.text.lower(), args=tuple(args), options=options, quoted=frozenset(quoted)
    )
