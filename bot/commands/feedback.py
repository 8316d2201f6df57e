"""The feedback features assembled: polls, wins and kudos, onboarding. The core registers
their commands and handlers; the composition root runs their jobs on the scheduler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.commands.onboarding import OnboardingCommands
from bot.commands.poll_posts import LiveCounts, PollClosing
from bot.commands.polls import PollCommands
from bot.commands.pulses import Pulses
from bot.commands.recognition import RecognitionCommands
from bot.commands.spec import CommandSpec
from bot.handlers import EventHandlers
from bot.outbox import Outbox
from bot.services.anonymity import VoterKeys
from bot.services.communities import CommunityService
from bot.services.membership import MembershipService
from bot.services.onboarding import OnboardingService
from bot.services.polls import PollService
from bot.services.recognition import RecognitionService
from bot.settings import Settings
from storage.database import Database

LIVE_COUNTS_SECONDS = 1.0  # how often changed polls are looked at (each edited every 3 s)
CLOSING_SWEEP_SECONDS = 15.0

Job = Callable[[], Awaitable[object]]


class Feedback:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        clock: Clock,
        outbox: Outbox,
        communities: CommunityService,
        membership: MembershipService,
    ) -> None:
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.polls = PollService(database, clock, VoterKeys(database, secret))
        self.live_counts = LiveCounts(self.polls, outbox, clock)
        self.closing = PollClosing(self.polls, self.live_counts, outbox)
        self.pulses = Pulses(self.polls)
        self.recognition = RecognitionService(database, clock)
        self.onboarding = OnboardingService(database, clock)
        self._poll_commands = PollCommands(self.polls, self.live_counts, outbox)
        self._onboarding_commands = OnboardingCommands(self.onboarding, communities, membership)
        self._groups = (
            self._poll_commands,
            RecognitionCommands(self.recognition),
            self._onboarding_commands,
        )

    def specs(self) -> list[CommandSpec]:
        return [spec for group in self._groups for spec in group.specs()]

    def register(self, handlers: EventHandlers) -> None:
        self._poll_commands.register(handlers)
        self._onboarding_commands.register(handlers)

    def jobs(self) -> list[tuple[str, float, Job]]:
        """(name, every so many seconds, job) for the scheduler."""
        return [
            ("poll live counts", LIVE_COUNTS_SECONDS, self.live_counts.flush),
            ("polls closing", CLOSING_SWEEP_SECONDS, self.closing.sweep),
        ]
