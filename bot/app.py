"""The core's assembly: storage, services, registries and the router, from settings.

The composition root (`copbot/app.py`) builds this first, then the scheduler, the adapters
and the upkeep around it; tests build it alone with their own database and clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.commands.absences import AbsenceCommands
from bot.commands.community import CommunityCommands
from bot.commands.data_rights import DataRightsCommands
from bot.commands.feedback import Feedback
from bot.commands.health import HealthCommands
from bot.commands.help import HelpCommands
from bot.commands.home import HomeView
from bot.commands.library import LibraryCommands
from bot.commands.membership import MembershipCommands
from bot.commands.menu import MenuCommands
from bot.commands.registry import CommandRegistry
from bot.commands.reminders import ReminderCommands
from bot.commands.rituals import RitualCommands
from bot.commands.rotation import RotationCommands
from bot.deliveries import DeliveryRunner
from bot.digests import DigestRunner
from bot.handlers import EventHandlers
from bot.outbox import Outbox
from bot.router import Router
from bot.services.absences import AbsenceService
from bot.services.anonymity import VoterKeys
from bot.services.communities import CommunityService
from bot.services.downloads import DownloadService
from bot.services.export import ExportService
from bot.services.forgetting import ForgetService
from bot.services.health import HealthService
from bot.services.ledger import EventLedger
from bot.services.library import LibraryService
from bot.services.membership import MembershipService
from bot.services.menu import MenuService
from bot.services.rituals import RitualService
from bot.services.rotation import RotationService, facilitator_planner
from bot.services.rsvps import RsvpService
from bot.settings import Settings
from storage.database import Database


@dataclass(frozen=True, kw_only=True)
class Core:
    """Everything an adapter needs from the core, built once per process (or per test)."""

    settings: Settings
    database: Database
    clock: Clock
    router: Router
    handlers: EventHandlers
    outbox: Outbox
    ledger: EventLedger
    communities: CommunityService
    membership: MembershipService
    library: LibraryService
    deliveries: DeliveryRunner
    rituals: RitualService
    rotation: RotationService
    absences: AbsenceService
    feedback: Feedback
    downloads: DownloadService
    health: HealthService
    digests: DigestRunner


def build_core(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
) -> Core:
    """Wire the core together; nothing is started or opened yet."""
    database = database or Database(settings.database_url)
    clock = clock or SystemClock()
    communities = CommunityService(database, clock, default_timezone=settings.timezone)
    membership = MembershipService(database, clock)
    rituals = RitualService(database, clock, base_url=settings.base_url)
    rotation = RotationService(database, clock)
    absences = AbsenceService(database, clock)
    outbox = Outbox(database, clock)
    deliveries = DeliveryRunner(database, clock, outbox, public_url=settings.base_url)
    deliveries.on_occurrences(facilitator_planner(clock))
    health = HealthService(database, clock, public_url=settings.public_url)
    registry = CommandRegistry()
    handlers = EventHandlers()
    community_commands = CommunityCommands(communities, membership)
    library = LibraryService(database, clock)
    library_commands = LibraryCommands(library, communities, outbox)
    reminder_commands = ReminderCommands(deliveries, RsvpService(database, clock), rituals, clock)
    feedback = Feedback(
        settings=settings,
        database=database,
        clock=clock,
        outbox=outbox,
        communities=communities,
        membership=membership,
    )
    deliveries.on_pulse(feedback.pulses)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    data_rights = DataRightsCommands(
        ExportService(database, clock),
        ForgetService(database, clock, VoterKeys(database, secret)),
    )
    for group in (
        HelpCommands(registry),
        community_commands,
        MembershipCommands(communities, membership),
        library_commands,
        reminder_commands,
        RitualCommands(rituals, clock),
        RotationCommands(rotation, clock),
        AbsenceCommands(absences),
        feedback,
        data_rights,
        HealthCommands(health, clock),
    ):
        for spec in group.specs():
            registry.add(spec)
    menu = MenuCommands(MenuService(database, membership, rituals, library), registry, communities)
    for spec in menu.specs():
        registry.add(spec)
    community_commands.register(handlers)
    library_commands.register(handlers)
    reminder_commands.register(handlers)
    feedback.register(handlers)
    menu.register(handlers)
    handlers.on_home(HomeView(communities, membership, menu=menu.for_user).for_user)
    ledger = EventLedger(database, clock)
    router = Router(
        registry=registry,
        handlers=handlers,
        communities=communities,
        ledger=ledger,
        outbox=outbox,
    )
    return Core(
        settings=settings,
        database=database,
        clock=clock,
        router=router,
        handlers=handlers,
        outbox=outbox,
        ledger=ledger,
        communities=communities,
        membership=membership,
        library=library,
        deliveries=deliveries,
        rituals=rituals,
        rotation=rotation,
        absences=absences,
        feedback=feedback,
        downloads=DownloadService(database, clock),
        health=health,
        digests=DigestRunner(database, clock, outbox, health),
    )


@asynccontextmanager
async def running_core(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    upgrade: bool = True,
) -> AsyncIterator[Core]:
    """Build the core, bring the database schema up to date, and close it on exit."""
    core = build_core(settings, database=database, clock=clock)
    try:
        if upgrade:
            await core.database.upgrade()
        yield core
    finally:
        await core.database.close()
