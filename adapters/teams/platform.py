"""The Teams side of the core's `ChatPlatform` port: posts from stored conversation references."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams import translate
from adapters.teams.references import ReferenceStore, conversation_key, user_key
from adapters.teams.render import CardRenderer
from bot.replies import Reply

log = logging.getLogger(__name__)

CHANNEL_ID = "msteams"


def reference_from(data: dict[str, Any]) -> ConversationReference:
    reference: ConversationReference = ConversationReference().deserialize(data)
    return reference


def reference_of(activity: Activity, tenant: str) -> ConversationReference:
    """Where to post into the activity's conversation later: the channel itself, not a thread."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    reference.conversation.id = translate.channel_key(activity)
    reference.conversation.tenant_id = tenant
    return reference


class TeamsPlatform:
    """Delivers core posts: to a channel or chat by its stored reference, to a user in their
    personal chat with the bot (created through the Connector when none is stored yet)."""

    platform = translate.PLATFORM

    def __init__(
        self,
        adapter: CloudAdapter,
        references: ReferenceStore,
        renderer: CardRenderer,
        *,
        app_id: str = "",
    ) -> None:
        self._adapter = adapter
        self._references = references
        self._renderer = renderer
        self._app_id = app_id

    async def send(self, reply: Reply) -> str | None:
        """Post `reply` to `reply.to`; raises when it cannot, so the outbox keeps it."""
        to = reply.to
        if to is None:
            raise ValueError("a Teams post needs a destination")
        if to.user:
            reference = await self.personal_chat(to.workspace, to.user)
        elif to.channel:
            stored = await self._references.get(to.workspace, conversation_key(to.channel))
            if stored is None:
                raise LookupError(f"no Teams conversation {to.channel} known in {to.workspace}")
            reference = reference_from(stored)
            if to.thread:
                reference.conversation.id = f"{to.channel}{translate.THREAD_MARKER}{to.thread}"
        else:
            raise ValueError("a Teams post needs a channel or a user")
        return await self.post(reference, self._renderer.to_activity(reply))

    async def post(self, reference: ConversationReference, activity: Activity) -> str | None:
        """Send one activity into the referenced conversation, outside any turn."""
        sent: list[str | None] = []

        async def deliver(turn_context: TurnContext) -> None:
            # The proactive turn carries a made-up activity id; without clearing it the post
            # would go out as a reply to a message that does not exist.
            turn_context.activity.id = None
            response = await turn_context.send_activity(activity)
            sent.append(response.id if response else None)

        await self._adapter.continue_conversation(reference, deliver, self._app_id)
        return sent[0] if sent else None

    async def personal_chat(self, workspace: str, user_id: str) -> ConversationReference:
        """The user's 1:1 chat with the bot; created (and stored) from any reference of the
        tenant, which supplies the service URL and the bot's account."""
        stored = await self._references.get(workspace, user_key(user_id))
        if stored is not None:
            return reference_from(stored)
        known = await self._references.latest(workspace)
        if known is None:
            raise LookupError(f"no Teams conversation known in tenant {workspace}")
        base = reference_from(known)
        parameters = ConversationParameters(
            is_group=False,
            bot=base.bot,
            members=[ChannelAccount(id=user_id)],
            tenant_id=workspace,
            channel_data={"tenant": {"id": workspace}},
        )
        created: list[ConversationReference] = []

        async def remember(turn_context: TurnContext) -> None:
            created.append(TurnContext.get_conversation_reference(turn_context.activity))

        await self._adapter.create_conversation(
            self._app_id,
            remember,
            parameters,
            base.channel_id or CHANNEL_ID,
            base.service_url,
            None,
        )
        if not created:
            raise LookupError(f"Teams did not create a chat with {user_id}")
        reference = created[0]
        reference.activity_id = None
        reference.bot = base.bot
        reference.user = ChannelAccount(id=user_id)
        reference.conversation.conversation_type = translate.PERSONAL
        reference.conversation.tenant_id = workspace
        await self._references.save(
            workspace, user_key(user_id), translate.PERSONAL, reference.serialize()
        )
        log.info("created a personal chat with %s in %s", user_id, workspace)
        return reference
