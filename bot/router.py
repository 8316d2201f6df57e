"""The router: turns a neutral event into replies, checking roles and catching errors."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence

from bot.commands.home import HomeView
from bot.commands.registry import CommandRegistry
from bot.commands.spec import FormHandler, Invocation
from bot.errors import UserError
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    HomeOpened,
    MessagePosted,
    Origin,
    describe,
)
from bot.outbox import Outbox
from bot.parsing import parse
from bot.replies import Reply, Visibility
from bot.services.communities import CommunityService
from bot.services.ledger import EventLedger
from bot.vocabulary import ROLE_PLURALS, ROLES
from messages.commands import command_text

log = logging.getLogger(__name__)


class Router:
    """The single dispatch seam every adapter calls: `await router.handle(event)`."""

    def __init__(
        self,
        *,
        registry: CommandRegistry,
        communities: CommunityService,
        ledger: EventLedger,
        outbox: Outbox,
        home: HomeView,
        forms: Mapping[str, FormHandler],
    ) -> None:
        self.registry = registry
        self._communities = communities
        self._ledger = ledger
        self._outbox = outbox
        self._home = home
        self._forms = dict(forms)

    async def handle(self, event: Event) -> list[Reply]:
        """Replies for the adapter to show where the event came from.

        Replies addressed elsewhere (a DM to another user) go out through the outbox here.
        Never raises: a problem becomes a friendly reply."""
        try:
            if event.event_id and not await self._ledger.first_time(
                event.origin.platform, event.event_id
            ):
                log.info("dropping redelivered event %s", event.event_id)
                return []
            replies = list(await self._dispatch(event))
        except UserError as error:
            replies = [error_reply(error)]
        except Exception:
            error_id = secrets.token_hex(4)
            log.exception("error %s handling %s", error_id, describe(event))
            replies = [Reply(kind="oops", data={"error_id": error_id})]
        answers = []
        for reply in replies:
            if reply.to is None:
                answers.append(reply)
            else:
                await self._outbox.send(reply)
        return answers

    async def _dispatch(self, event: Event) -> Sequence[Reply]:
        match event:
            case CommandInvoked(text=text):
                return await self.run(event.origin, text)
            case MessagePosted(text=text) if event.origin.is_direct:
                return await self.run(event.origin, text)
            case ButtonPressed(action="command", value=value):
                return await self.run(event.origin, value)
            case FormSubmitted(form=form, values=values) if form in self._forms:
                return _as_list(await self._forms[form](event.origin, values))
            case HomeOpened():
                return [await self._home.for_user(event.origin)]
        return []

    async def run(self, origin: Origin, text: str) -> Sequence[Reply]:
        """Parse and run one command line as `origin.user`."""
        command = parse(text)
        spec = self.registry.get(command.verb)
        if spec is None:
            suggestion = self.registry.suggest(command.verb)
            raise UserError(
                "unknown_command", usage="help", verb=command.verb, suggestion=suggestion
            )
        spec.check(command)
        community, caller = (
            await self._communities.where_and_who(origin) if spec.scoped else (None, None)
        )
        if spec.needs_community and community is None:
            if origin.is_direct:
                raise UserError("run_in_channel", usage=spec.name, command=spec.name)
            raise UserError("no_community_here", usage=spec.name)
        if spec.roles is not None and (caller is None or caller.role not in spec.roles):
            allowed = [ROLE_PLURALS[r] for r in ROLES if r in spec.roles]
            raise UserError("role_required", roles=allowed, command=spec.name)
        result = await spec.handler(
            Invocation(origin=origin, command=command, community=community, caller=caller)
        )
        return _as_list(result)


def _as_list(result: Reply | Sequence[Reply]) -> list[Reply]:
    return [result] if isinstance(result, Reply) else list(result)


def error_reply(error: UserError) -> Reply:
    """The reply showing `error`: its sentence, and the usage of the command it names."""
    usage = command_text(error.usage).usage if error.usage else None
    data = {"error": error.kind, "details": error.data, "usage": usage, "field": error.field}
    return Reply(kind="error", data=data, visibility=Visibility.USER)
