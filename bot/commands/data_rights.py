"""Data rights: `export` (a community's data as CSV files, for its stewards) and `forget me`
(a person's data removed from every community of their workspace, once they confirm)."""

from __future__ import annotations

from bot.commands.reply_data import community_data
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.replies import Attachment, Button, Reply, Visibility
from bot.services.export import MEDIA_TYPE, ExportService
from bot.services.forgetting import KINDS, ForgetService
from bot.vocabulary import CONFIRM_WORD
from storage.models import Role

FORGET = "forget me"
FORGET_LABEL = "Yes, forget me"


class DataRightsCommands:
    def __init__(self, export: ExportService, forgetting: ForgetService) -> None:
        self._export = export
        self._forgetting = forgetting

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="export",
                handler=self.export,
                needs_community=True,
                roles=frozenset({Role.STEWARD}),
                words=False,
            ),
            CommandSpec(name=FORGET, handler=self.forget, scoped=False),
        ]

    async def export(self, inv: Invocation) -> Reply:
        """The zip goes to the steward alone: their DMs (Slack), a link only they are sent
        (Teams), a file (console)."""
        community = inv.require_community()
        made = await self._export.export(community)
        return Reply(
            kind="export_ready",
            data={
                "community": community_data(community),
                "filename": made.filename,
                "files": [{"name": name, "rows": rows} for name, rows in made.rows.items()],
                "size_kb": max(1, round(len(made.content) / 1024)),
            },
            visibility=Visibility.DIRECT,
            attachment=Attachment(
                filename=made.filename, media_type=MEDIA_TYPE, content=made.content
            ),
        )

    async def forget(self, inv: Invocation) -> Reply:
        words = tuple(word.lower() for word in inv.command.words)
        if words and words != (CONFIRM_WORD,):
            raise UserError("forget_me_how", usage=FORGET)
        origin = inv.origin
        if not words:
            alone = await self._forgetting.stewarded_alone(
                platform=origin.platform, workspace=origin.workspace, user_id=origin.user
            )
            return Reply(
                kind="forget_confirm",
                data={
                    "command": f"{FORGET} {CONFIRM_WORD}",
                    "stewarded_alone": [community_data(c) for c in alone],
                },
                buttons=(
                    Button(
                        label=FORGET_LABEL,
                        action="command",
                        value=f"{FORGET} {CONFIRM_WORD}",
                        style="danger",
                    ),
                ),
            )
        removed = await self._forgetting.forget(
            platform=origin.platform, workspace=origin.workspace, user_id=origin.user
        )
        return Reply(
            kind="forgotten",
            data={
                "removed": [
                    {"kind": kind, "count": removed[kind]} for kind in KINDS if kind in removed
                ],
                "total": sum(removed.values()),
            },
        )
