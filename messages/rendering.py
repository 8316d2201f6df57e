"""Renders a reply's kind and data through the templates of one surface."""

from __future__ import annotations

import json
import pickle
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).with_name("templates")
SURFACES = ("text", "slack", "teams")


def plain_mention(user: Mapping[str, Any]) -> str:
    return "@" + str(user.get("name") or user.get("id"))


def backtick_code(text: str) -> str:
    """An inline command or code fragment in text and Slack mrkdwn."""
    return f"`{text}`"


def local_time(instant: str, zone: str) -> str:
    """An ISO instant (reply data carries them in UTC) as the wall time in the IANA `zone`,
    e.g. `Tue 2026-04-07 15:00 CEST`; the `when` filter on the text and Teams surfaces."""
    # Both values passed through the surface's escaping; neither can hold a backslash.
    moment = datetime.fromisoformat(instant.replace("\\", ""))
    local = moment.astimezone(ZoneInfo(zone.replace("\\", "")))
    return f"{local:%a %Y-%m-%d %H:%M %Z}"


def word_list(items: list[Any], last: str = "and") -> str:
    """`["a", "b", "c"]` -> `a, b and c` (or `a, b or c` with `last="or"`)."""
    words = [str(item) for item in items]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def plural(noun: str, count: int = 2) -> str:
    """`member` for one, `members` for any other count (the nouns we count are regular)."""
    return noun if count == 1 else noun + "s"


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[Any], low: float | None = None, high: float | None = None) -> str:
    """Numbers as a line of bars (`▁▃█`), scaled between `low` and `high` (default: the
    values' own least and most)."""
    numbers = [float(v) for v in values]
    if not numbers:
        return ""
    least = min(numbers) if low is None else low
    span = (max(numbers) if high is None else high) - least
    top = len(SPARKS) - 1
    return "".join(
        SPARKS[0 if span <= 0 else min(top, max(0, round((n - least) / span * top)))]
        for n in numbers
    )


def make_environment() -> Environment:
    """A fresh environment over `messages/templates` (strict: a missing value is an error)."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the package: compile each one once
        cache_size=-1,
    )
    environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False}
    environment.filters["words"] = word_list
    environment.filters["plural"] = plural
    environment.filters["sparkline"] = sparkline
    return environment


def escape_data(value: Any, escape: Callable[[str], str]) -> Any:
    """`value` with `escape` applied to every string inside it (keys left alone)."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return {key: escape_data(item, escape) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [escape_data(item, escape) for item in value]
    return value


def _identity(text: str) -> str:
    return text


class Escaping:
    """User text escaped for a surface once per reply, however many templates render that
    reply (a message's text and blocks, a card and its fallback): the last few results are
    kept with the data they came from, and reused while it is the very same object."""

    KEEP = 8

    def __init__(self, escape: Callable[[str], str] = _identity) -> None:
        self._escape = escape
        self._kept: dict[int, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}

    def __call__(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._escape is _identity:
            return data
        kept = self._kept.get(id(data))
        if kept is not None and kept[0] is data:
            return kept[1]
        escaped: Mapping[str, Any] = escape_data(data, self._escape)
        if len(self._kept) >= self.KEEP:
            del self._kept[next(iter(self._kept))]
        self._kept[id(data)] = (data, escaped)
        return escaped


class Renderer:
    """Renders for one surface; user text is escaped for that surface before any template.

    `text()` uses `text/<kind>.txt.j2`; `json()` uses `<surface>/<kind>.json.j2`."""

    def __init__(
        self,
        surface: str,
        *,
        escape: Callable[[str], str] | Escaping = _identity,
        mention: Callable[[Mapping[str, Any]], str] = plain_mention,
        code: Callable[[str], str] = backtick_code,
        command: Callable[[str], str] = backtick_code,
        when: Callable[[str, str], str] = local_time,
        environment: Environment | None = None,
    ) -> None:
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}")
        self.surface = surface
        # Renderers of one surface share an `Escaping`, so a reply is escaped once for all.
        self._escape = escape if isinstance(escape, Escaping) else Escaping(escape)
        self._environment = environment or make_environment()
        self._environment.filters["mention"] = mention
        self._environment.filters["code"] = code
        self._environment.filters["command"] = command
        self._environment.filters["when"] = when
        self._environment.globals["sentence"] = self.sentence
        self._sentences: dict[str, Callable[[Mapping[str, Any]], str]] | None = None
        self._rendered = Rendered()

    def sentence(self, kind: str, data: Mapping[str, Any]) -> str:
        """The error sentence `kind` (a macro in `templates/errors/`) filled with `data`,
        which is already escaped for this surface."""
        # The kind travels in the reply's data, so the surface's escaping reached it too
        # (Teams escapes `_`); kinds are identifiers, so dropping the escapes restores it.
        macro = self._error_sentences().get(kind.replace("\\", ""))
        if macro is None:
            raise KeyError(f"no error sentence {kind!r} in messages/templates/errors/")
        return str(macro(data)).strip()

    def sentence_kinds(self) -> set[str]:
        return set(self._error_sentences())

    def _error_sentences(self) -> dict[str, Callable[[Mapping[str, Any]], str]]:
        if self._sentences is None:
            self._sentences = {}
            for path in sorted((TEMPLATES / "errors").glob("*.j2")):
                module = self._environment.get_template(f"errors/{path.name}").module
                for name, macro in vars(module).items():
                    if callable(macro):
                        if name in self._sentences:
                            raise ValueError(f"error sentence {name!r} is defined twice")
                        self._sentences[name] = macro
        return self._sentences

    def text(self, kind: str, data: Mapping[str, Any]) -> str:
        return self._render(f"text/{kind}.txt.j2", data).strip()

    def json(self, kind: str, data: Mapping[str, Any], **extra: Any) -> Any:
        """Parsed JSON from the surface's template; `extra` values are passed unescaped."""
        return json.loads(self._render(f"{self.surface}/{kind}.json.j2", data, extra))

    def _render(self, name: str, data: Mapping[str, Any], extra: Mapping[str, Any] = {}) -> str:
        """`name` rendered with `data` (and `extra`), or the text an earlier rendering of the
        same or equal data gave: a reply's data does not change once built, and templates
        read nothing but what they are given."""
        found = self._rendered.find(name, data, extra)
        if found.text is not None:
            return found.text
        template = self._environment.get_template(name)
        rendered = template.render(**self._escape(data), **extra)
        self._rendered.keep(found, data, rendered)
        return rendered


def fingerprint(value: Any) -> bytes | None:
    """Bytes that only data equal to `value` gives (its pickle: types and all, so `1`, `"1"`
    and `True` differ), or None when it cannot be pickled."""
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class Lookup:
    """What `Rendered.find` found: the kept text, if any, and the keys to keep a new one."""

    text: str | None
    by_identity: tuple[str, int, str]
    by_content: tuple[str, bytes] | None


class Rendered:
    """Texts one renderer rendered, found again by what they were rendered from.

    The very same data object (a reply built once and answered again, like `help`) is found
    by identity, at no cost. Equal data built afresh (a directory page, a charter, asked again
    before it changed) is found by its fingerprint: pickling costs a few microseconds where
    rendering a page of people costs most of a millisecond. Least recently used texts go
    first, beyond `budget` characters."""

    BY_IDENTITY = 8

    def __init__(self, budget: int = 1_000_000) -> None:
        self._budget = budget
        self._size = 0
        self._by_identity: dict[tuple[str, int, str], tuple[Mapping[str, Any], str]] = {}
        self._by_content: OrderedDict[tuple[str, bytes], str] = OrderedDict()

    def find(self, name: str, data: Mapping[str, Any], extra: Mapping[str, Any]) -> Lookup:
        same = (name, id(data), json.dumps(extra, sort_keys=True, default=str) if extra else "")
        kept = self._by_identity.get(same)
        if kept is not None and kept[0] is data:
            return Lookup(kept[1], same, None)
        content = fingerprint((data, extra))
        key = None if content is None else (name, content)
        text = None if key is None else self._by_content.get(key)
        if text is not None and key is not None:
            self._by_content.move_to_end(key)
            self._remember(same, data, text)
        return Lookup(text, same, key)

    def keep(self, lookup: Lookup, data: Mapping[str, Any], text: str) -> None:
        self._remember(lookup.by_identity, data, text)
        key = lookup.by_content
        if key is None or len(text) + len(key[1]) > self._budget:
            return
        self._by_content[key] = text
        self._size += len(text) + len(key[1])
        while self._size > self._budget:
            (_, content), dropped = self._by_content.popitem(last=False)
            self._size -= len(dropped) + len(content)

    def _remember(self, key: tuple[str, int, str], data: Mapping[str, Any], text: str) -> None:
        if len(self._by_identity) >= self.BY_IDENTITY:
            del self._by_identity[next(iter(self._by_identity))]
        self._by_identity[key] = (data, text)


def error_kinds() -> list[str]:
    """Every error kind that has a sentence in `templates/errors/`."""
    return sorted(Renderer("text").sentence_kinds())


def template_kinds(surface: str) -> list[str]:
    """Every message kind with a template for `surface`."""
    suffix = ".txt.j2" if surface == "text" else ".json.j2"
    return sorted(
        p.name.removesuffix(suffix)
        for p in (TEMPLATES / surface).glob("*" + suffix)
        if not p.name.startswith("_")
    )


def chart_words() -> dict[str, Any]:
    """The words on the health chart: `attendance`, `pulse` and the pulse `scale` (1 to 4)."""
    module = make_environment().get_template("text/_chart.txt.j2").module
    return {name: getattr(module, name) for name in ("attendance", "pulse", "scale")}
