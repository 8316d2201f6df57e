"""`rotation #N …`: who facilitates a ritual's coming meetings, and the changes each person
makes to their own turns (a steward assigns anyone). Typed in a direct message (a button on
a DM runs one), a rotation command finds the caller's community itself."""

from __future__ import annotations

from datetime import date

from bot.clock import Clock
from bot.commands.reply_data import community_data
from bot.commands.ritual_data import meeting_data, person, ritual_data
from bot.commands.rituals import (
    STEWARDS_AND_CORE,
    count_of,
    meeting_day,
    no_options,
    ritual_number,
)
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import UserRef
from bot.replies import Button, Destination, Reply, Visibility
from bot.services.rotation import SHOWN, RotationService, RotationView
from storage.models import Community

MOST = 52  # meetings `rotation #N <count>` shows at most


class RotationCommands:
    def __init__(self, rotation: RotationService, clock: Clock) -> None:
        self._rotation = rotation
        self._clock = clock

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(name="rotation", handler=self.show),
            CommandSpec(name="rotation skip", handler=self.skip),
            CommandSpec(name="rotation swap", handler=self.swap, mentions=True),
            CommandSpec(name="rotation volunteer", handler=self.volunteer),
            CommandSpec(
                name="rotation optout", handler=self.opt_out, aliases=("rotation opt-out",)
            ),
            CommandSpec(name="rotation optin", handler=self.opt_in, aliases=("rotation opt-in",)),
            CommandSpec(name="rotation confirm", handler=self.confirm),
            CommandSpec(
                name="rotation cofacilitator",
                handler=self.co_facilitator,
                aliases=("rotation co-facilitator",),
            ),
            CommandSpec(
                name="rotation assign",
                handler=self.assign,
                needs_community=True,
                roles=STEWARDS_AND_CORE,
                mentions=True,
            ),
            CommandSpec(name="rotation history", handler=self.history),
        ]

    async def show(self, inv: Invocation) -> Reply:
        number, words = self._number(inv)
        if len(words) > 1:
            raise UserError("count_invalid", usage="rotation", text=" ".join(words), most=MOST)
        count = count_of(words[0], "rotation", most=MOST) if words else SHOWN
        community = await self._community(inv, number)
        return self._reply(community, await self._rotation.show(community, number, count))

    async def skip(self, inv: Invocation) -> list[Reply]:
        number, day = self._number_and_day(inv)
        community = await self._community(inv, number, day)
        view = await self._rotation.skip(community, inv.origin, number, day)
        return self._with_notice(inv, community, view)

    async def swap(self, inv: Invocation) -> list[Reply]:
        other = self._one_person(inv)
        number, day = self._number_and_day(inv)
        community = await self._community(inv, number, day)
        view = await self._rotation.swap(community, inv.origin, number, other, day)
        return self._with_notice(inv, community, view)

    async def volunteer(self, inv: Invocation) -> Reply:
        number = self._number_only(inv)
        community = await self._community(inv, number)
        return self._reply(community, await self._rotation.volunteer(community, inv.origin, number))

    async def opt_in(self, inv: Invocation) -> Reply:
        number = self._number_only(inv)
        community = await self._community(inv, number)
        view = await self._rotation.volunteer(community, inv.origin, number, change="opted_in")
        return self._reply(community, view)

    async def opt_out(self, inv: Invocation) -> Reply:
        number = self._number_only(inv)
        community = await self._community(inv, number)
        return self._reply(community, await self._rotation.opt_out(community, inv.origin, number))

    async def confirm(self, inv: Invocation) -> Reply:
        number, day = self._number_and_day(inv)
        community = await self._community(inv, number, day)
        view = await self._rotation.confirm(community, inv.origin, number, day)
        return self._reply(community, view)

    async def co_facilitator(self, inv: Invocation) -> list[Reply]:
        number = self._number_only(inv)
        community = await self._community(inv, number)
        view = await self._rotation.ask_co_facilitator(community, inv.origin, number)
        return self._with_notice(inv, community, view)

    async def assign(self, inv: Invocation) -> list[Reply]:
        who = self._one_person(inv)
        number, day = self._number_and_day(inv)
        community = inv.require_community()
        view = await self._rotation.assign(community, inv.origin, number, who, day)
        return self._with_notice(inv, community, view)

    async def history(self, inv: Invocation) -> Reply:
        number = self._number_only(inv)
        community = await self._community(inv, number)
        ledger = await self._rotation.history(community, number)
        names = ledger.names
        return Reply(
            kind="rotation_history",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "ritual": ritual_data(ledger.ritual, now=self._clock.now()),
                "people": [
                    {
                        "person": person(line.user_id, names),
                        "times": line.times,
                        "last": None if line.last is None else line.last.isoformat(),
                        "in_pool": line.pickable,
                        "away": line.away,
                    }
                    for line in ledger.people
                ],
                "recent": [meeting_data(row, ledger.ritual, names) for row in ledger.recent],
            },
        )

    # Parsing ---------------------------------------------------------------------------

    @staticmethod
    def _number(inv: Invocation) -> tuple[int, list[str]]:
        no_options(inv)
        words = list(inv.command.words)
        return ritual_number(words[0] if words else None, inv.command.verb), words[1:]

    def _number_only(self, inv: Invocation) -> int:
        number, rest = self._number(inv)
        if rest or inv.command.users:
            raise UserError("ritual_number_only", usage=inv.command.verb)
        return number

    def _number_and_day(self, inv: Invocation) -> tuple[int, date | None]:
        number, rest = self._number(inv)
        if len(rest) > 1:
            raise UserError("ritual_one_date", usage=inv.command.verb)
        return number, meeting_day(rest[0], self._clock) if rest else None

    @staticmethod
    def _one_person(inv: Invocation) -> UserRef:
        users = inv.command.users
        if len(users) != 1:
            raise UserError("rotation_one_person", usage=inv.command.verb)
        return users[0]

    async def _community(self, inv: Invocation, number: int, day: date | None = None) -> Community:
        """The channel's community, or in a direct message the caller's one with `#number`."""
        if inv.community is not None:
            return inv.community
        name = inv.command.verb
        if not inv.origin.is_direct:
            raise UserError("no_community_here", usage=name)
        found = await self._rotation.community_for(inv.origin, number, day)
        if found is None:
            raise UserError("run_in_channel", usage=name, command=name)
        return found[0]

    # Replies ---------------------------------------------------------------------------

    def _reply(self, community: Community, view: RotationView) -> Reply:
        ritual, names = view.ritual, view.names
        return Reply(
            kind="rotation",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "ritual": ritual_data(ritual, now=self._clock.now()),
                "change": view.change,
                "meeting": None
                if view.occurrence is None
                else meeting_data(view.occurrence, ritual, names),
                "person": person(view.person, names),
                "meetings": [meeting_data(row, ritual, names) for row in view.meetings],
            },
        )

    def _with_notice(
        self, inv: Invocation, community: Community, view: RotationView
    ) -> list[Reply]:
        """The answer, and a direct message to whoever the change gave a meeting to."""
        replies = [self._reply(community, view)]
        target, meeting = view.notify, view.occurrence
        if target is None or target == inv.origin.user or meeting is None:
            return replies
        ritual, names = view.ritual, view.names
        # The meeting the notified person now has: theirs after a swap, else the one changed.
        mine = next(
            (
                row
                for row in view.meetings
                if target in (row.facilitator_id, row.co_facilitator_id)
                and row.starts_at >= meeting.starts_at
            ),
            meeting,
        )
        data = meeting_data(mine, ritual, names)
        role = "co_facilitator" if mine.co_facilitator_id == target else "facilitator"
        buttons: tuple[Button, ...] = ()
        if role == "facilitator":
            command = f"rotation #{ritual.number}"
            buttons = (
                Button(
                    label="I'll do it",
                    action="command",
                    value=f"{command} confirm {data['day']}",
                    style="primary",
                ),
                Button(
                    label="Can't make it", action="command", value=f"{command} skip {data['day']}"
                ),
            )
        replies.append(
            Reply(
                kind="facilitator_notice",
                data={
                    "community": community_data(community),
                    "zone": community.timezone,
                    "ritual": ritual_data(ritual, now=self._clock.now()),
                    "meeting": data,
                    "role": role,
                    "change": view.change,
                    "by": person(inv.origin.user, {inv.origin.user: inv.origin.display_name}),
                },
                visibility=Visibility.DIRECT,
                to=Destination.direct(inv.origin, user=target),
                buttons=buttons,
            )
        )
        return replies
