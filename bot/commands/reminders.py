"""Reminders people act on: the RSVP buttons under a reminder and `ritual rsvp #N`, their typed
twin, and `ritual remind #N`, a steward's reminder of a ritual's next meeting posted now."""

from __future__ import annotations

from bot.clock import Clock
from bot.commands.rituals import meeting_day, no_options
from bot.commands.spec import CommandSpec, Invocation
from bot.deliveries import DeliveryRunner
from bot.delivery_messages import RSVP_ACTION, ritual_data, when_data, zone_of
from bot.errors import UserError
from bot.events import ButtonPressed
from bot.handlers import EventHandlers
from bot.replies import Reply, Visibility
from bot.services.rituals import RitualService
from bot.services.rsvps import ANSWERS, RsvpRecorded, RsvpService
from storage.models import Role


def ritual_number(text: str) -> int | None:
    """`#3` or `3` -> 3."""
    digits = text.strip().removeprefix("#")
    return int(digits) if digits.isdigit() and 0 < int(digits) < 1_000_000 else None


class ReminderCommands:
    def __init__(
        self, deliveries: DeliveryRunner, rsvps: RsvpService, rituals: RitualService, clock: Clock
    ) -> None:
        self._deliveries = deliveries
        self._rsvps = rsvps
        self._rituals = rituals
        self._clock = clock

    def register(self, handlers: EventHandlers) -> None:
        handlers.on_action(RSVP_ACTION, self.rsvp)

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="ritual remind",
                handler=self.remind,
                needs_community=True,
                roles=frozenset({Role.STEWARD, Role.CORE}),
            ),
            CommandSpec(name="ritual rsvp", handler=self.rsvp_typed, needs_community=True),
        ]

    async def remind(self, inv: Invocation) -> Reply:
        words = inv.command.words
        number = ritual_number(words[0]) if len(words) == 1 else None
        if number is None:
            raise UserError("remind_which", usage="ritual remind")
        reminded = await self._deliveries.remind_now(inv.require_community(), number)
        return Reply(
            kind="reminder_posted",
            data={
                "ritual": ritual_data(reminded.ritual),
                "when": when_data(reminded.occurrence.starts_at, zone_of(reminded.ritual)),
                "outcome": reminded.outcome,
            },
        )

    async def rsvp(self, event: ButtonPressed) -> Reply:
        """A going / maybe / can't press: stored, confirmed to the person alone, and the
        reminder's counts edited soon."""
        number, _, answer = event.value.partition(" ")
        if not number.isdigit():
            raise UserError("rsvp_meeting_gone")
        return await self._answered(await self._rsvps.answer(event.origin, int(number), answer))

    async def rsvp_typed(self, inv: Invocation) -> Reply:
        """`ritual rsvp #N going|maybe|no [YYYY-MM-DD]`: the buttons' answer, typed, for the
        ritual's next meeting or the one on that date."""
        no_options(inv)
        words = inv.command.words
        number = ritual_number(words[0]) if words else None
        if number is None or len(words) not in (2, 3) or words[1].lower() not in ANSWERS:
            raise UserError("rsvp_typed_unreadable", usage="ritual rsvp", answers=list(ANSWERS))
        day = meeting_day(words[2], self._clock) if len(words) == 3 else None
        meeting = await self._rituals.meeting_id(inv.require_community(), number, day)
        return await self._answered(await self._rsvps.answer(inv.origin, meeting, words[1].lower()))

    async def _answered(self, recorded: RsvpRecorded) -> Reply:
        assert recorded.occurrence.id is not None
        await self._deliveries.counts_changed(recorded.occurrence.id)
        return Reply(
            kind="rsvp_saved",
            data={
                "answer": recorded.answer,
                "ritual": ritual_data(recorded.ritual),
                "when": when_data(recorded.occurrence.starts_at, zone_of(recorded.ritual)),
                "counts": recorded.counts,
            },
            visibility=Visibility.USER,
        )
