"""`stats [days=90]`: a community's health for its stewards, core team and sponsors, with a
chart link where chat clients can fetch one."""

from __future__ import annotations

from bot import health_messages
from bot.clock import Clock
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.replies import Reply
from bot.services.health import DAYS_DEFAULT, DAYS_LEAST, DAYS_MOST, HealthService, Period
from storage.models import Role

HEALTH_ROLES = frozenset({Role.STEWARD, Role.CORE, Role.SPONSOR})


def days_of(inv: Invocation) -> int:
    """The period asked for: `days=30`, or `30` alone; 90 days by default."""
    words, options = inv.command.words, inv.command.options
    given = options.get("days") or (words[0] if words else None)
    text = (given or "").strip().lower().removesuffix("d")
    if len(words) > (0 if "days" in options else 1) or (
        given is not None and (not text.isdigit() or not DAYS_LEAST <= int(text) <= DAYS_MOST)
    ):
        typed = (*words, *(f"days={value}" for key, value in options.items() if key == "days"))
        shown = " ".join(typed)
        raise UserError("stats_days", usage="stats", given=shown, least=DAYS_LEAST, most=DAYS_MOST)
    return DAYS_DEFAULT if given is None else int(text)


class HealthCommands:
    def __init__(self, health: HealthService, clock: Clock) -> None:
        self._health = health
        self._clock = clock

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="stats",
                handler=self.stats,
                needs_community=True,
                roles=HEALTH_ROLES,
                options=frozenset({"days"}),
            )
        ]

    async def stats(self, inv: Invocation) -> Reply:
        community = inv.require_community()
        period = Period.last_days(self._clock.now(), days_of(inv))
        report = await self._health.report(community, period)
        chart = await self._health.chart_link(report, inv.origin.platform)
        return health_messages.stats(report, chart_url=chart)
