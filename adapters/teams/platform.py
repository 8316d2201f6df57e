"""The Teams side of the core's `ChatPlatform` port: posts from stored conversation references."""

from __future__ import annotations

import logging
import pickle
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
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
from adapters.teams.references import (
    KNOWN_REFERENCES,
    ReferenceStore,
    conversation_key,
    user_key,
)
from adapters.teams.render import CardRenderer
from adapters.teams.sending import http_status
from bot.outbox import MessageGone, NotPosted
from bot.replies import MessageRef, Reply

log = logging.getLogger(__name__)

CHANNEL_ID = "msteams"


def reference_from(data: dict[str, Any]) -> ConversationReference:
    reference: ConversationReference = ConversationReference().deserialize(data)
    return reference


_SERIALIZED: OrderedDict[bytes, dict[str, Any]] = OrderedDict()


def serialized(reference: ConversationReference) -> dict[str, Any]:
    """`reference.serialize()`, kept for a reference seen before (found by its pickle, which
    only an equal reference gives): msrest took a tenth of a Teams turn to serialise the
    reference every message in a conversation carries alike. Read it, do not change it."""
    key = pickle.dumps(reference, protocol=pickle.HIGHEST_PROTOCOL)
    found = _SERIALIZED.get(key)
    if found is None:
        found = _SERIALIZED[key] = reference.serialize()
        if len(_SERIALIZED) > KNOWN_REFERENCES:
            _SERIALIZED.popitem(last=False)
    else:
        _SERIALIZED.move_to_end(key)
    return found


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

    async def send(self, reply: Reply) -> MessageRef | None:
        """Post `reply` to `reply.to`; raises when it cannot, so the outbox keeps it:
        `NotPosted` when the Connector refused (an answer below 500) or nothing is known
        about where to post. Teams cannot find a post again, so `reply.key` is not sent."""
        to = reply.to
        if to is None:
            raise ValueError("a Teams post needs a destination")
        try:
            if to.user:
                reference = await self.personal_chat(to.workspace, to.user)
                channel = reference.conversation.id
            elif to.channel:
                reference = await self._channel_reference(to.workspace, to.channel, to.thread)
                channel = to.channel
            else:
                raise ValueError("a Teams post needs a channel or a user")
            activity_id = await self.post(reference, self._renderer.to_activity(reply))
        except LookupError as exc:
            raise NotPosted(str(exc)) from exc
        except Exception as exc:
            # An answer below 500 (a refusal, a rate limit) means the post is not out.
            status = http_status(exc)
            if status is not None and status < HTTPStatus.INTERNAL_SERVER_ERROR:
                raise NotPosted(str(exc)) from exc
            raise
        if not activity_id:
            return None
        return MessageRef(
            platform=translate.PLATFORM,
            workspace=to.workspace,
            channel=channel,
            message_id=activity_id,
            thread=None if to.user else to.thread,
        )

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        """Replace the card of activity `ref` (`PUT .../activities/{id}`)."""
        activity = self._renderer.to_activity(reply)
        activity.id = ref.message_id

        async def edit(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._in_conversation_of(ref, edit)

    async def delete(self, ref: MessageRef) -> None:
        """Delete activity `ref` (`DELETE .../activities/{id}`)."""

        async def remove(turn_context: TurnContext) -> None:
            await turn_context.delete_activity(ref.message_id)

        await self._in_conversation_of(ref, remove)

    async def _in_conversation_of(
        self, ref: MessageRef, callback: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        reference = await self._channel_reference(ref.workspace, ref.channel, ref.thread)
        try:
            await self._adapter.continue_conversation(reference, callback, self._app_id)
        except Exception as exc:
            if http_status(exc) == HTTPStatus.NOT_FOUND:
                raise MessageGone(str(ref)) from exc
            raise

    async def _channel_reference(
        self, workspace: str, channel: str, thread: str | None
    ) -> ConversationReference:
        """A reference into `channel` (a team channel, group chat or personal chat), from the
        one stored for it or, for a chat copbot created, from any of the tenant's."""
        stored = await self._references.get(workspace, conversation_key(channel))
        if stored is None:
            stored = await self._references.latest(workspace)
        if stored is None:
            raise LookupError(f"no Teams conversation {channel} known in {workspace}")
        reference = reference_from(stored)
        reference.conversation.id = channel
        if thread:
            reference.conversation.id = f"{channel}{translate.THREAD_MARKER}{thread}"
        return reference

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
