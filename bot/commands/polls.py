"""Poll commands and votes: `poll`, `poll results #N`, `poll close #N`, `vote #N <option>`,
and votes by reaction and by button."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.commands.poll_posts import LiveCounts, empty_view, poll_message, results_reply
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import ButtonPressed, Origin, ReactionAdded, ReactionChanged
from bot.handlers import EventHandlers
from bot.outbox import Outbox
from bot.replies import Destination, Reply, Visibility
from bot.services.polls import Choice, PollDraft, PollService, parse_closes
from storage.models import Community, Poll, Role

log = logging.getLogger(__name__)

POLL_OPTIONS = ("anonymous", "hidden", "multi", "closes")
_YES = frozenset({"yes", "y", "true", "on", "1"})
_NO = frozenset({"no", "n", "false", "off", "0"})
# Platforms where an "only you" reply is seen by nobody else. Elsewhere (Teams has no
# ephemeral messages and answers in the thread, naming the person) a vote is confirmed by
# direct message, so a confirmation never shows anyone's vote to others.
PRIVATE_IN_PLACE = frozenset({"slack", "console"})


def poll_number(word: str) -> int | None:
    """`#3` or `3` -> 3."""
    digits = word.removeprefix("#")
    return int(digits) if digits.isdigit() and len(digits) <= 9 else None


def _flag(options: dict[str, str], name: str) -> bool:
    value = options.get(name)
    if value is None:
        return False
    if value.strip().lower() in _YES:
        return True
    if value.strip().lower() in _NO:
        return False
    raise UserError("poll_flag_unreadable", usage="poll", option=name, value=value)


def members_only(inv: Invocation, command: str) -> Community:
    """The community, when the caller is one of its members."""
    community = inv.require_community()
    if inv.caller is None:
        raise UserError("members_only", usage="join", community=community.name, command=command)
    return community


class PollCommands:
    def __init__(self, polls: PollService, live: LiveCounts, outbox: Outbox) -> None:
        self._polls = polls
        self._live = live
        self._outbox = outbox

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="poll",
                handler=self.poll,
                needs_community=True,
                options=frozenset(POLL_OPTIONS),
                mentions=True,  # refused below with the poll's own advice: quote the options
            ),
            CommandSpec(name="vote", handler=self.vote, needs_community=True),
        ]

    def register(self, handlers: EventHandlers) -> None:
        handlers.on_reaction(self.on_reaction)
        handlers.on_action("vote", self.on_vote_button)

    # Commands ----------------------------------------------------------------------------

    async def poll(self, inv: Invocation) -> Sequence[Reply]:
        words = inv.command.words
        if len(words) == 2 and words[0].lower() in ("results", "close"):
            number = poll_number(words[1])
            if number is None:
                raise UserError("poll_which", usage="poll", example=f"poll {words[0]} #1")
            poll = await self._polls.by_number(inv.require_community(), number)
            if words[0].lower() == "results":
                return [results_reply(await self._polls.view(poll), "results")]
            return [await self._close(inv, poll)]
        return await self._create(inv)

    async def _create(self, inv: Invocation) -> Sequence[Reply]:
        community = members_only(inv, "poll")
        command = inv.command
        if command.users:
            raise UserError("poll_needs_quotes", usage="poll")
        words = command.words
        closes = command.options.get("closes")
        draft = PollDraft(
            question=words[0] if words else "",
            options=tuple(words[1:]),
            anonymous=_flag(dict(command.options), "anonymous"),
            hidden=_flag(dict(command.options), "hidden"),
            multi=_flag(dict(command.options), "multi"),
            closes_in=parse_closes(closes) if closes is not None else None,
        )
        poll = await self._polls.create(community, inv.origin, draft)
        message = poll_message(empty_view(poll)).addressed(Destination.channel_of(inv.origin))
        ref = await self._outbox.send(message)
        if ref is None:
            log.warning("poll %s was not posted now; the outbox keeps it", poll.id)
        else:
            await self._polls.attach_message(poll, ref)
        return []  # the poll in the channel is the answer

    async def _close(self, inv: Invocation, poll: Poll) -> Reply:
        caller = inv.caller
        steward = caller is not None and caller.role == Role.STEWARD
        if poll.created_by != inv.origin.user and not steward:
            raise UserError("poll_close_not_yours", number=poll.number)
        if not await self._polls.close(poll):
            raise UserError("poll_closed", number=poll.number)
        await self._live.show_now(poll)
        return results_reply(await self._polls.view(poll), "closed")

    async def vote(self, inv: Invocation) -> Reply:
        words = inv.command.words
        number = poll_number(words[0]) if words else None
        if number is None or len(words) < 2:
            raise UserError("vote_how", usage="vote")
        poll = await self._polls.by_number(inv.require_community(), number)
        option = self._option(poll, " ".join(words[1:]))
        return await self._choose(poll, inv.origin, option)

    @staticmethod
    def _option(poll: Poll, text: str) -> int:
        """An option by its number or its label."""
        if text.strip().isdigit():
            return int(text.strip())
        wanted = " ".join(text.split()).casefold()
        for number, label in enumerate(poll.options, start=1):
            if label.casefold() == wanted:
                return number
        raise UserError(
            "poll_option_unknown", number=poll.number, option=text, most=len(poll.options)
        )

    # Events ------------------------------------------------------------------------------

    async def on_vote_button(self, event: ButtonPressed) -> list[Reply]:
        poll_id, _, option = event.value.partition(":")
        if not (poll_id.isdigit() and option.isdigit()):
            log.info("ignoring a vote button with value %r", event.value)
            return []
        poll = await self._polls.in_workspace_of(event.origin, int(poll_id))
        if poll is None:
            log.info("ignoring a vote for poll %s, unknown in this workspace", poll_id)
            return []
        return [await self._choose(poll, event.origin, int(option))]

    async def on_reaction(self, event: ReactionChanged) -> None:
        poll = await self._polls.react(event, added=isinstance(event, ReactionAdded))
        if poll is not None:
            self._live.changed(poll)

    async def _choose(self, poll: Poll, origin: Origin, option: int) -> Reply:
        choice = await self._polls.choose(poll, origin, option)
        self._live.changed(poll)
        return confirmation(choice, origin)


def confirmation(choice: Choice, origin: Origin) -> Reply:
    """A vote confirmed to the voter alone."""
    poll = choice.poll
    private = origin.platform in PRIVATE_IN_PLACE or origin.is_direct
    return Reply(
        kind="vote_recorded",
        data={
            "number": poll.number,
            "question": poll.question,
            "choices": [poll.options[o - 1] for o in choice.options],
            "anonymous": poll.anonymous,
            "hidden": poll.hidden,
            "multi": poll.multi,
        },
        visibility=Visibility.USER if private else Visibility.DIRECT,
    )
