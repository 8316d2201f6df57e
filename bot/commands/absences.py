"""`away`: say when you are away (rotation and pairing pass you over), or that you are back;
stewards can say it for someone else. Alone, it lists who is away."""

from __future__ import annotations

from bot.commands.reply_data import community_data, user_data
from bot.commands.rituals import no_options
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import UserRef
from bot.replies import Reply
from bot.services.absences import AbsenceService, AwayChange
from storage.models import Role

BACK_WORDS = ("off", "back")


class AbsenceCommands:
    def __init__(self, absences: AbsenceService) -> None:
        self._absences = absences

    def specs(self) -> list[CommandSpec]:
        return [CommandSpec(name="away", handler=self.away, needs_community=True, mentions=True)]

    async def away(self, inv: Invocation) -> Reply:
        no_options(inv)
        community = inv.require_community()
        users, words = inv.command.users, inv.command.words
        if len(users) > 1:
            raise UserError("rotation_one_person", usage="away")
        for_others = bool(users) and users[0].id != inv.origin.user
        if for_others and (inv.caller is None or inv.caller.role != Role.STEWARD):
            raise UserError("away_for_others", usage="away")
        if not users and not words:
            periods = await self._absences.listing(community)
            return Reply(
                kind="away",
                data={
                    "community": community_data(community),
                    "change": "list",
                    "periods": [
                        {
                            "person": user_data(p.user_id, p.name),
                            "first": p.first.isoformat(),
                            "last": p.last.isoformat(),
                        }
                        for p in periods
                    ],
                },
            )
        who = users[0] if users else UserRef(id=inv.origin.user, name=inv.origin.display_name)
        text = " ".join(words)
        if text.lower() in BACK_WORDS:
            change = await self._absences.come_back(community, inv.origin, who)
        else:
            change = await self._absences.set_away(community, inv.origin, who, text)
        return self._changed(inv, change)

    @staticmethod
    def _changed(inv: Invocation, change: AwayChange) -> Reply:
        period = change.period
        return Reply(
            kind="away",
            data={
                "community": community_data(inv.require_community()),
                "change": "set" if period is not None else "back",
                "person": user_data(change.user_id, change.name),
                "yourself": change.user_id == inv.origin.user,
                "first": None if period is None else period.first.isoformat(),
                "last": None if period is None else period.last.isoformat(),
                "ended": change.ended,
            },
        )
