"""Bolt listeners: acknowledge within Slack's 3 s, hand neutral events to the router, answer."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.delivery import Conversation, Delivery
from adapters.slack.platform import thread_text
from adapters.slack.render import SlackRenderer
from bot.events import HomeOpened, MemberJoined, MessageSaved, Origin, ReactionChanged
from bot.replies import Reply, Visibility
from bot.router import Router
from bot.vocabulary import SETUP_FIELDS

log = logging.getLogger(__name__)

COMMAND = "/cop"
# How long the ack waits for the router before answering "working on it": Slack allows 3 s
# for the whole round trip, and the answer still has to travel back.
ACK_DEADLINE_SECONDS = 2.0
WORKING_ON_IT = "Working on it…"
# Events are acked at once and handled after; at most this many at a time, the rest wait
# their turn here. Unbounded, a burst (votes on a poll) waited for database connections
# instead, whose wait times out (30 s), and those events were lost after their ack.
EVENT_WORKERS = 4

Work = asyncio.Task[list[Reply]]


async def ack_only(ack: AsyncAck) -> None:
    await ack()


class SlackListeners:
    """The Bolt side of the adapter: every request is acknowledged within Slack's 3 s.

    Events and button presses are acked at once and handled by Bolt lazy listeners. A slash
    command or modal submission runs the router inside its ack (for at most the deadline), so
    the answer usually travels in the ack itself; whatever is left (slow work, extra replies)
    follows in a background task, which, unlike a lazy listener, costs nothing when unused."""

    def __init__(
        self,
        *,
        router: Router,
        renderer: SlackRenderer,
        delivery: Delivery,
        ack_deadline: float = ACK_DEADLINE_SECONDS,
    ) -> None:
        self._router = router
        self._renderer = renderer
        self._delivery = delivery
        self._ack_deadline = ack_deadline
        self._follow_ups: set[asyncio.Task[Any]] = set()
        self._event_turns = asyncio.Semaphore(EVENT_WORKERS)

    def register(self, app: AsyncApp) -> None:
        app.command(COMMAND)(self.on_command)
        for event in ("member_joined_channel", "reaction_added", "reaction_removed", "message"):
            app.event(event)(ack=ack_only, lazy=[self.on_event])
        app.event("app_home_opened")(ack=ack_only, lazy=[self.on_home_opened])
        app.action(re.compile(".+"))(ack=ack_only, lazy=[self.on_action])
        app.view(re.compile(".+"))(self.on_form)  # the router knows copbot's forms
        app.shortcut(translate.SAVE_SHORTCUT)(self.on_save_shortcut)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let answers still on their way go out, and events still being handled finish
        (on shutdown)."""
        if self._follow_ups:
            await asyncio.wait(set(self._follow_ups), timeout=timeout)

    def _handling(self) -> None:
        """Count the running lazy listener (Bolt's own task) among the work `drain` waits for."""
        task = asyncio.current_task()
        if task is not None:
            self._follow_ups.add(task)
            task.add_done_callback(self._follow_ups.discard)

    # Slash command -------------------------------------------------------------------------

    async def on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> None:
        event = translate.to_command_event(command)
        where = Conversation(
            origin=event.origin,
            client=client,
            respond=respond,
            trigger_id=command.get("trigger_id"),
        )
        work, replies = await self._start(self._router.handle(event))
        if replies is None:
            await ack(text=WORKING_ON_IT, response_type="ephemeral")
            self._follow_up(work, 0, where)
            return
        first = replies[0] if replies else None
        if first is not None and first.form is not None:
            if await self._delivery.open_form(first, where):
                await ack()
            else:
                await ack(**self._renderer.to_message(first), response_type="ephemeral")
            self._follow_up(work, 1, where)
        elif first is not None and first.visibility is not Visibility.DIRECT:
            response_type = "in_channel" if first.visibility is Visibility.CHANNEL else "ephemeral"
            await ack(**self._renderer.to_message(first), response_type=response_type)
            self._follow_up(work, 1, where)
        else:
            await ack()
            self._follow_up(work, 0, where)

    # Events ------------------------------------------------------------------------------

    async def on_event(
        self, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        self._handling()
        event = translate.to_event(body)
        if event is None:
            return
        if (
            isinstance(event, MemberJoined | ReactionChanged)
            and event.origin.user == context.bot_user_id
        ):
            return  # copbot itself was added to a channel, or reacted to its own post
        async with self._event_turns:
            replies = await self._router.handle(event)
        for reply in replies:
            await self._delivery.answer(reply, Conversation(origin=event.origin, client=client))

    async def on_home_opened(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._handling()
        event = translate.to_event(body)
        if isinstance(event, HomeOpened):
            await self._show_home(event, client)

    async def _show_home(self, event: HomeOpened, client: AsyncWebClient) -> None:
        for reply in await self._router.handle(event):
            if reply.kind == "home":
                try:
                    await client.views_publish(
                        user_id=event.origin.user, view=self._renderer.to_home_view(reply)
                    )
                except Exception:
                    log.exception("could not publish the home of %s", event.origin.user)
            else:
                await self._delivery.answer(reply, Conversation(origin=event.origin, client=client))

    # Interactivity ------------------------------------------------------------------------

    async def on_action(
        self, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None
    ) -> None:
        self._handling()
        event = translate.to_interaction_event(body)
        if event is None:
            return
        where = Conversation(
            origin=event.origin,
            client=client,
            respond=respond if body.get("response_url") else None,
            trigger_id=body.get("trigger_id"),
        )
        for reply in await self._router.handle(event):
            await self._delivery.answer(reply, where)
        view = body.get("view") or {}
        if view.get("type") == "home":  # show what the press changed
            home = Origin(
                platform=translate.PLATFORM,
                workspace=event.origin.workspace,
                enterprise=event.origin.enterprise,
                channel=event.origin.user,
                user=event.origin.user,
                user_name=event.origin.user_name,
                is_direct=True,
            )
            await self._show_home(HomeOpened(origin=home), client)

    async def on_form(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        event = translate.to_interaction_event(body)
        if event is None:
            await ack()
            return
        where = Conversation(origin=event.origin, client=client)
        work, replies = await self._start(self._router.handle(event))
        if replies and replies[0].kind in ("error", "oops"):
            error = replies[0]
            # A modal shows an error under the field it is about; one about the whole
            # form goes under the first field.
            state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
            fields = list(state) or list(SETUP_FIELDS)
            field = str(error.data.get("field") or fields[0])
            message = self._renderer.plain(error)
            await ack(
                response_action="errors",
                errors={field if field in fields else fields[0]: message[:150]},
            )
            self._follow_up(work, 1, where)
            return
        await ack()
        self._follow_up(work, 0, where)

    async def on_save_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """ "Save to library" on a message: its thread read, a draft made, the modal opened."""
        await ack()
        event = translate.to_interaction_event(body)
        if not isinstance(event, MessageSaved) or event.message is None:
            return
        ref = event.message
        try:
            texts = await thread_text(client, ref.channel, ref.message_id, ref.thread)
        except Exception as exc:  # e.g. not_in_channel: the message itself still makes a draft
            log.info("could not read the thread of %s: %s", ref, exc)
            texts = [event.text]
        event = dataclasses.replace(event, thread=tuple(texts[1:]) if texts else ())
        where = Conversation(origin=event.origin, client=client, trigger_id=body.get("trigger_id"))
        for reply in await self._router.handle(event):
            await self._delivery.answer(reply, where)

    # Answers that follow an ack ---------------------------------------------------------

    async def _start(self, coroutine: Any) -> tuple[Work, list[Reply] | None]:
        """Run the router, waiting at most the ack deadline (it goes on running after)."""
        work: Work = asyncio.ensure_future(coroutine)
        done, _ = await asyncio.wait({work}, timeout=self._ack_deadline)
        return work, (work.result() if done else None)

    def _follow_up(self, work: Work, shown: int, where: Conversation) -> None:
        """Deliver the replies after the first `shown` once `work` is done."""
        if work.done() and len(work.result()) <= shown:
            return
        task = asyncio.ensure_future(self._deliver_rest(work, shown, where))
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def _deliver_rest(self, work: Work, shown: int, where: Conversation) -> None:
        for reply in (await work)[shown:]:
            await self._delivery.answer(reply, where)
