"""One Teams turn: remember where the bot is, hand neutral events to the router, show replies."""

from __future__ import annotations

import dataclasses
import logging

from botbuilder.core import Bot, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from adapters.downloads import download_url
from adapters.teams import translate
from adapters.teams.platform import TeamsPlatform, reference_of, serialized
from adapters.teams.references import ReferenceStore, conversation_key, user_key
from adapters.teams.render import Addressee, CardRenderer
from bot.app import Core
from bot.errors import UserError
from bot.events import Origin
from bot.replies import Destination, Reply, Visibility
from bot.router import error_reply

log = logging.getLogger(__name__)

SAVE_TITLE = "Save to library"


class TurnHandler(Bot):
    """The botbuilder `Bot` behind /api/messages; translation and rendering live elsewhere."""

    def __init__(
        self,
        core: Core,
        platform: TeamsPlatform,
        references: ReferenceStore,
        renderer: CardRenderer,
    ) -> None:
        self._core = core
        self._platform = platform
        self._references = references
        self._renderer = renderer

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        await self.remember(activity)
        if activity.type == ActivityTypes.installation_update:
            await self._installation(activity)
            return
        if activity.type == ActivityTypes.invoke:
            await self._invoke(context)
            return
        if activity.type == ActivityTypes.conversation_update and activity.members_added:
            await self._name_newcomers(context)
        for event in translate.to_events(activity):
            for reply in await self._core.router.handle(event):
                await self._answer(context, event.origin, reply)

    async def _invoke(self, context: TurnContext) -> None:
        """Invokes wait for their answer in the HTTP response: "Save to library" gets its
        task module (the draft card, then the outcome); any other invoke an empty 200."""
        event = translate.to_save_event(context.activity)
        replies = await self._core.router.handle(event) if event is not None else []
        body = self._renderer.to_task_module(replies, title=SAVE_TITLE)
        await context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )

    async def remember(self, activity: Activity) -> None:
        """Store (upsert) the conversation's reference, and the user's if it is their 1:1 chat."""
        if not activity.conversation or not activity.service_url:
            return
        tenant = translate.tenant_of(activity)
        reference = serialized(reference_of(activity, tenant))
        kind = translate.conversation_type(activity)
        channel = translate.channel_key(activity)
        await self._references.save(tenant, conversation_key(channel), kind, reference)
        sender = activity.from_property
        if kind == translate.PERSONAL and sender and sender.id and sender.id != _bot_id(activity):
            await self._references.save(tenant, user_key(sender.id), kind, reference)

    async def _installation(self, activity: Activity) -> None:
        tenant = translate.tenant_of(activity)
        channel = translate.channel_key(activity)
        if activity.action in ("remove", "remove-upgrade"):
            await self._references.delete(tenant, conversation_key(channel))
        log.info(
            "Teams app %s in %s %s (tenant %s)",
            activity.action,
            translate.conversation_type(activity),
            channel,
            tenant,
        )

    async def _name_newcomers(self, context: TurnContext) -> None:
        """membersAdded carries ids only; ask the Connector for names (an id will do)."""
        bot_id = _bot_id(context.activity)
        named: list[ChannelAccount] = []
        for member in context.activity.members_added or []:
            if member.name or member.id == bot_id:
                named.append(member)
                continue
            try:
                found = await TeamsInfo.get_member(context, member.id)
            except Exception as exc:
                log.info("could not look up new member %s: %s", member.id, exc)
                named.append(member)
                continue
            named.append(ChannelAccount(id=member.id, name=found.name or ""))
        context.activity.members_added = named

    async def _answer(self, context: TurnContext, origin: Origin, reply: Reply) -> None:
        """Teams has no ephemeral messages: "only you" replies go to the personal chat when
        there is one, otherwise into the thread, addressed to the person with a mention."""
        reply = await self._with_link(origin, reply)
        if origin.is_direct or reply.visibility is Visibility.CHANNEL:
            await self._reply_here(context, origin, reply)
            return
        to_user = Destination.direct(origin)
        if reply.visibility is Visibility.DIRECT or await self._references.get(
            origin.workspace, user_key(origin.user)
        ):
            await self._core.outbox.send(reply.addressed(to_user))
            return
        addressee = Addressee(id=origin.user, name=origin.display_name)
        await self._reply_here(context, origin, reply, addressee=addressee)

    async def _with_link(self, origin: Origin, reply: Reply) -> Reply:
        """A reply's file, kept for an hour under an unguessable link for this person (a bot
        can attach files only in a personal chat, after a consent card); the reply carries
        the link instead."""
        attachment = reply.attachment
        if attachment is None:
            return reply
        public_url = self._core.settings.public_url
        if not public_url:
            return error_reply(UserError("export_needs_public_url"))
        offered = await self._core.downloads.offer(
            platform=origin.platform,
            workspace=origin.workspace,
            user=origin.user,
            attachment=attachment,
        )
        data = {
            **reply.data,
            "link": download_url(public_url, offered.token),
            "expires_minutes": int(offered.expires_in.total_seconds() // 60),
        }
        return dataclasses.replace(reply, data=data, attachment=None)

    async def _reply_here(
        self,
        context: TurnContext,
        origin: Origin,
        reply: Reply,
        *,
        addressee: Addressee | None = None,
    ) -> None:
        try:
            await context.send_activity(self._renderer.to_activity(reply, addressee=addressee))
        except Exception as exc:
            # The Connector did not take the answer; post it later rather than lose it.
            log.warning("answer in %s failed, handing it to the outbox: %s", origin.channel, exc)
            where = (
                Destination.direct(origin) if origin.is_direct else Destination.channel_of(origin)
            )
            await self._core.outbox.send(reply.addressed(where))


def _bot_id(activity: Activity) -> str | None:
    return getattr(activity.recipient, "id", None)
