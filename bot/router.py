"""The router: the single seam every adapter calls, `await router.handle(event)`.

It parses and runs commands (checking where and by whom) and hands every other kind of
event to the handler registered for it. Dropping redeliveries and turning errors into
replies are small wrappers around that dispatch."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable

from bot.commands.registry import CommandRegistry, run_command
from bot.errors import UserError
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessagePosted,
    MessageSaved,
    Origin,
    ReactionChanged,
    describe,
)
from bot.handlers import EventHandlers, as_list
from bot.outbox import Outbox
from bot.parsing import parse
from bot.replies import Reply, Visibility
from bot.services.communities import CommunityService
from bot.services.ledger import EventLedger
from bot.text import clean_origin
from messages.commands import command_text

log = logging.getLogger(__name__)

Dispatch = Callable[[Event], Awaitable[list[Reply]]]


def dropping_redeliveries(ledger: EventLedger, dispatch: Dispatch) -> Dispatch:
    """`dispatch`, but an event whose id was seen before is dropped (platforms re-send)."""

    async def first_time_only(event: Event) -> list[Reply]:
        if event.event_id and not await ledger.first_time(event.origin.platform, event.event_id):
            log.info("dropping redelivered event %s", event.event_id)
            return []
        return await dispatch(event)

    return first_time_only


def answering_errors(dispatch: Dispatch) -> Dispatch:
    """`dispatch`, but a `UserError` becomes its reply and anything else an apology with an
    error id that the log has too: an event never raises out of the core."""

    async def answered(event: Event) -> list[Reply]:
        try:
            return await dispatch(event)
        except UserError as error:
            return [error_reply(error)]
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s handling %s", error_id, describe(event))
            return [Reply(kind="oops", data={"error_id": error_id})]

    return answered


class Router:
    """Dispatches events through the command registry and the event handlers."""

    def __init__(
        self,
        *,
        registry: CommandRegistry,
        handlers: EventHandlers,
        communities: CommunityService,
        ledger: EventLedger,
        outbox: Outbox,
    ) -> None:
        self.registry = registry
        self.handlers = handlers
        self._communities = communities
        self._outbox = outbox
        self._handle = answering_errors(dropping_redeliveries(ledger, self._dispatch))
        handlers.on_action("command", self._press_command)

    async def handle(self, event: Event) -> list[Reply]:
        """Replies for the adapter to show where the event came from.

        Replies addressed elsewhere (a DM to another user) go out through the outbox here.
        Never raises: a problem becomes a friendly reply."""
        answers = []
        cleaned = clean_origin(event.origin)
        if cleaned is not event.origin:
            event = dataclasses.replace(event, origin=cleaned)
        for reply in await self._handle(event):
            if reply.to is None:
                answers.append(reply)
            else:
                await self._outbox.send(reply)
        return answers

    async def _dispatch(self, event: Event) -> list[Reply]:
        handlers = self.handlers
        match event:
            case CommandInvoked(text=text):
                return await self.run(event.origin, text)
            case MessagePosted(text=text) if event.origin.is_direct:
                return await self.run(event.origin, text)
            case ButtonPressed(action=action):
                if (on_action := handlers.action(action)) is None:
                    log.info("ignoring unknown button action %r", action)
                    return []
                return as_list(await on_action(event))
            case FormSubmitted(form=form, values=values):
                if (on_form := handlers.form(form)) is None:
                    log.info("ignoring unknown form %r", form)
                    return []
                return as_list(await on_form(event.origin, values))
            case ReactionChanged():
                return [r for on in handlers.reactions for r in as_list(await on(event))]
            case MemberJoined():
                return [r for on in handlers.joins for r in as_list(await on(event))]
            case HomeOpened() if handlers.home is not None:
                return [await handlers.home(event.origin)]
            case MessageSaved() if handlers.save is not None:
                return as_list(await handlers.save(event))
        return []

    async def _press_command(self, event: ButtonPressed) -> list[Reply]:
        """A button whose value is a command line runs it, as if typed."""
        return await self.run(event.origin, event.value)

    async def run(self, origin: Origin, text: str) -> list[Reply]:
        """Parse and run one command line as `origin.user`."""
        return await run_command(self.registry, self._communities, origin, parse(text))


def error_reply(error: UserError) -> Reply:
    """The reply showing `error`: its sentence, and the usage of the command it names."""
    usage = command_text(error.usage).usage if error.usage else None
    data = {"error": error.kind, "details": error.data, "usage": usage, "field": error.field}
    return Reply(kind="error", data=data, visibility=Visibility.USER)
