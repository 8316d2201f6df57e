"""Registries for everything that is not a typed command: button actions, form submissions,
reactions, people joining a conversation and the home view. Feature packages register their
handlers here in the composition root; the router dispatches through them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from bot.events import ButtonPressed, MemberJoined, MessageSaved, Origin, ReactionChanged
from bot.replies import Reply

Replies = Reply | Sequence[Reply]
ActionHandler = Callable[[ButtonPressed], Awaitable[Replies]]
# A submitted form: who submitted it where, and field name to value.
FormHandler = Callable[[Origin, Mapping[str, str]], Awaitable[Replies]]
# Reaction and join handlers answer None (or nothing) for events that are not theirs,
# e.g. a reaction on a message the feature does not know.
ReactionHandler = Callable[[ReactionChanged], Awaitable[Replies | None]]
JoinHandler = Callable[[MemberJoined], Awaitable[Replies | None]]
HomeHandler = Callable[[Origin], Awaitable[Reply]]
SaveHandler = Callable[[MessageSaved], Awaitable[Replies]]
H = TypeVar("H")


class EventHandlers:
    """Who handles each kind of event. Actions and forms have one handler per name;
    reactions and joins go to every handler registered for them, in order."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionHandler] = {}
        self._forms: dict[str, FormHandler] = {}
        self._reactions: list[ReactionHandler] = []
        self._joins: list[JoinHandler] = []
        self._home: HomeHandler | None = None
        self._save: SaveHandler | None = None

    def on_action(self, action: str, handler: ActionHandler) -> None:
        _add(self._actions, action, handler, "button action")

    def on_form(self, form: str, handler: FormHandler) -> None:
        _add(self._forms, form, handler, "form")

    def on_reaction(self, handler: ReactionHandler) -> None:
        self._reactions.append(handler)

    def on_join(self, handler: JoinHandler) -> None:
        self._joins.append(handler)

    def on_home(self, handler: HomeHandler) -> None:
        if self._home is not None:
            raise ValueError("the home view is registered twice")
        self._home = handler

    def on_save(self, handler: SaveHandler) -> None:
        if self._save is not None:
            raise ValueError("saving a message is registered twice")
        self._save = handler

    def action(self, name: str) -> ActionHandler | None:
        return self._actions.get(name)

    def form(self, name: str) -> FormHandler | None:
        return self._forms.get(name)

    @property
    def reactions(self) -> tuple[ReactionHandler, ...]:
        return tuple(self._reactions)

    @property
    def joins(self) -> tuple[JoinHandler, ...]:
        return tuple(self._joins)

    @property
    def home(self) -> HomeHandler | None:
        return self._home

    @property
    def save(self) -> SaveHandler | None:
        return self._save


def _add(registry: dict[str, H], name: str, handler: H, what: str) -> None:
    if name in registry:
        raise ValueError(f"{what} {name!r} is registered twice")
    registry[name] = handler


def as_list(result: Replies | None) -> list[Reply]:
    """A handler's answer as a list of replies."""
    if result is None:
        return []
    return [result] if isinstance(result, Reply) else list(result)
