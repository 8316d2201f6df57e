"""`win` and `kudos`: celebrating in the channel, and telling the person thanked."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.polls import members_only
from bot.commands.reply_data import community_data, user_data
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.parsing import ParsedCommand
from bot.replies import Destination, Reply, Visibility
from bot.services.recognition import RecognitionService


def said(command: ParsedCommand) -> str:
    """The text of a command's arguments; a person mentioned in it is named, not dropped."""
    return " ".join(a if isinstance(a, str) else "@" + a.label for a in command.args)


class RecognitionCommands:
    def __init__(self, recognition: RecognitionService) -> None:
        self._recognition = recognition

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(name="win", handler=self.win, needs_community=True, mentions=True),
            CommandSpec(name="kudos", handler=self.kudos, needs_community=True, mentions=True),
        ]

    async def win(self, inv: Invocation) -> Reply:
        community = members_only(inv, "win")
        origin = inv.origin
        win = await self._recognition.share_win(community, origin, said(inv.command))
        return Reply(
            kind="win",
            data={
                "community": community_data(community),
                "author": user_data(origin.user, origin.display_name),
                "text": win.text,
            },
            visibility=Visibility.CHANNEL,
        )

    async def kudos(self, inv: Invocation) -> Sequence[Reply]:
        community = members_only(inv, "kudos")
        origin, command = inv.origin, inv.command
        if len(command.users) != 1:
            raise UserError("kudos_one_person", usage="kudos")
        to = command.users[0]
        kudos = await self._recognition.give_kudos(community, origin, to, command.rest)
        data = {
            "community": community_data(community),
            "sender": user_data(origin.user, origin.display_name),
            "receiver": user_data(to.id, to.name),
            "text": kudos.text,
        }
        return [
            Reply(kind="kudos", data=data, visibility=Visibility.CHANNEL),
            Reply(
                kind="kudos_notice",
                data=data,
                visibility=Visibility.DIRECT,
                to=Destination.direct(origin, user=to.id),
            ),
        ]
