"""A poll as people see it: the posted message, its live counts (edited in place, at most once
every few seconds per poll) and the results posted when it closes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.outbox import Outbox
from bot.replies import Button, Destination, Reply, Visibility
from bot.services.polls import (
    OPTION_REACTIONS,
    PollFacts,
    PollService,
    PollView,
    Tally,
    message_ref,
)
from storage.models import Poll

log = logging.getLogger(__name__)

EDIT_EVERY = timedelta(seconds=3)  # Slack allows ~50 chat.update a minute per workspace
BAR_WIDTH = 10


def when_data(instant: datetime) -> dict[str, Any]:
    """A time for the templates: epoch seconds (Slack shows them in each reader's zone) and
    a UTC fallback."""
    utc = instant.astimezone(UTC)
    return {"ts": int(utc.timestamp()), "text": utc.strftime("%Y-%m-%d %H:%M UTC")}


def poll_data(view: PollView, **extra: Any) -> dict[str, Any]:
    """A poll and its tally for the templates; counts only when they may be shown."""
    poll, tally = view.poll, view.tally
    closed = poll.closed_at is not None
    options = []
    for number, label in enumerate(poll.options, start=1):
        votes = tally.counts[number - 1]
        percent = round(100 * votes / tally.voters) if tally.voters else 0
        options.append(
            {
                "number": number,
                "label": label,
                "emoji": OPTION_REACTIONS[number - 1],
                "votes": votes,
                "percent": percent,
                "filled": round(percent * BAR_WIDTH / 100),
                "empty": BAR_WIDTH - round(percent * BAR_WIDTH / 100),
            }
        )
    return {
        "number": poll.number,
        "question": poll.question,
        "options": options,
        "voters": tally.voters,
        "anonymous": poll.anonymous,
        "hidden": poll.hidden,
        "multi": poll.multi,
        "closed": closed,
        "show_counts": closed or not poll.hidden,
        "closes": when_data(poll.closes_at) if poll.closes_at and not closed else None,
        **extra,
    }


def poll_message(view: PollView) -> Reply:
    """The poll as posted in the channel: a button per option while it is open, and on
    Slack a reaction per option (not for anonymous polls: reactions show who reacted)."""
    poll = view.poll
    open_ = poll.closed_at is None
    buttons = tuple(
        Button(
            label=f"{number}. {label}",
            action="vote",
            value=f"{poll.id}:{number}",
            typed=f"vote #{poll.number} {number}",
        )
        for number, label in enumerate(poll.options, start=1)
    )
    reactions = OPTION_REACTIONS[: len(poll.options)]
    return Reply(
        kind="poll",
        data=poll_data(view),
        visibility=Visibility.CHANNEL,
        buttons=buttons if open_ else (),
        reactions=reactions if open_ and not poll.anonymous else (),
    )


def empty_view(poll: Poll) -> PollView:
    return PollView(poll=poll, tally=Tally(counts=(0,) * len(poll.options), voters=0))


class LiveCounts:
    """Edits posted polls as votes come in, debounced: a vote marks its poll changed, and
    `flush()` (run every second or so by the scheduler) edits each changed poll at most once
    per `every`. Per process; the edit always shows the database's tally, so several
    processes never show a wrong count, only sometimes an extra edit."""

    def __init__(
        self, polls: PollService, outbox: Outbox, clock: Clock, *, every: timedelta = EDIT_EVERY
    ) -> None:
        self._polls = polls
        self._outbox = outbox
        self._clock = clock
        self._every = every
        self._changed: set[int] = set()
        self._edited: dict[int, datetime] = {}

    def changed(self, poll: Poll | PollFacts) -> None:
        """A vote changed `poll`'s tally (a poll hiding its results waits for its close)."""
        if poll.id is not None and not poll.hidden:
            self._changed.add(poll.id)

    @property
    def waiting(self) -> frozenset[int]:
        return frozenset(self._changed)

    async def flush(self) -> int:
        """Edit every changed poll whose last edit is `every` ago; returns how many."""
        now = self._clock.now()
        due = [
            poll_id
            for poll_id in sorted(self._changed)
            if poll_id not in self._edited or now - self._edited[poll_id] >= self._every
        ]
        for poll_id in due:
            self._changed.discard(poll_id)
            self._edited[poll_id] = now
            poll = await self._polls.get(poll_id)
            if poll is not None:
                await self._edit(poll)
        for poll_id, at in list(self._edited.items()):
            if poll_id not in self._changed and now - at >= self._every:
                del self._edited[poll_id]  # quiet long enough: its next vote shows at once
        return len(due)

    async def show_now(self, poll: Poll) -> None:
        """Edit the poll at once (it closed: its final results)."""
        if poll.id is not None:
            self._changed.discard(poll.id)
            self._edited[poll.id] = self._clock.now()
        await self._edit(poll)

    async def _edit(self, poll: Poll) -> None:
        view = await self._polls.view(poll)
        ref = view.ref
        if ref is None:
            return
        if not await self._outbox.update(ref, poll_message(view)):
            log.info("poll %s: its message is gone, no more live counts", poll.id)
            await self._polls.attach_message(poll, None)


def results_reply(view: PollView, headline: str) -> Reply:
    """The results of a poll: when asked (`results`) or as it closes (`closed`)."""
    return Reply(
        kind="poll_results",
        data=poll_data(view, headline=headline),
        visibility=Visibility.CHANNEL if headline == "closed" else Visibility.USER,
    )


class PollClosing:
    """Closes polls whose time has come: each exactly once, whichever process gets there
    first; that process edits the poll to its final results and posts them beside it."""

    def __init__(self, polls: PollService, live: LiveCounts, outbox: Outbox) -> None:
        self._polls = polls
        self._live = live
        self._outbox = outbox

    async def sweep(self) -> int:
        closed = await self._polls.close_due()
        for poll in closed:
            await self.announce(poll)
        return len(closed)

    async def announce(self, poll: Poll) -> None:
        ref = message_ref(poll)  # before the edit, which forgets it when the message is gone
        await self._live.show_now(poll)
        if ref is None:
            log.info("poll %s closed, but where it was posted is unknown", poll.id)
            return
        view = await self._polls.view(poll)
        where = Destination(
            platform=ref.platform,
            workspace=ref.workspace,
            enterprise=ref.enterprise,
            channel=ref.channel,
            thread=ref.thread,
        )
        await self._outbox.send(results_reply(view, "closed").addressed(where))
