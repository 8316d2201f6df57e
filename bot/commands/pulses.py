"""The post-session pulse: as a meeting ends, "How was <title>?" in the community's channel,
an anonymous poll (great / useful / meh / not useful) tied to the meeting that closes on its
own. The delivery runner decides when and sends it once; this makes the poll and its post."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.commands.poll_posts import poll_message
from bot.delivery_messages import channel_of
from bot.outbox import ref_from_dict
from bot.replies import Reply
from bot.services.deliveries import Claim
from bot.services.polls import PollDraft, PollService
from bot.vocabulary import PULSE_OPTIONS, PULSE_QUESTION

PULSE_OPEN = timedelta(days=2)  # how long people have to answer


def pulse_draft(title: str, *, open_for: timedelta = PULSE_OPEN) -> PollDraft:
    """The pulse of a meeting of `title`: options in the order analytics rely on."""
    return PollDraft(
        question=PULSE_QUESTION.format(title=title),
        options=PULSE_OPTIONS,
        anonymous=True,
        closes_in=open_for,
    )


class Pulses:
    """Makes each meeting's pulse poll once and remembers where it was posted."""

    def __init__(self, polls: PollService, *, open_for: timedelta = PULSE_OPEN) -> None:
        self._polls = polls
        self._open_for = open_for

    async def message(self, claim: Claim) -> Reply:
        assert claim.occurrence.id is not None
        poll = await self._polls.pulse(
            claim.community,
            claim.occurrence.id,
            pulse_draft(claim.ritual.title, open_for=self._open_for),
        )
        view = await self._polls.view(poll)
        return poll_message(view).addressed(channel_of(claim.community, claim.workspace))

    async def posted(self, claim: Claim, ref: dict[str, Any] | None) -> None:
        assert claim.occurrence.id is not None
        poll = await self._polls.pulse_of(claim.occurrence.id)
        if poll is not None and ref is not None:
            await self._polls.attach_message(poll, ref_from_dict(ref))
