"""Showing the core's answers where a Slack request came from, as each visibility asks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import SlackRenderer, to_modal
from bot.events import Origin
from bot.outbox import Outbox
from bot.replies import Destination, Reply, Visibility

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """Where a request came from and the ways Slack gave us to answer there."""

    origin: Origin
    client: AsyncWebClient
    respond: AsyncRespond | None = None  # the request's response_url, when it has one
    trigger_id: str | None = None  # lets us open a modal within 3 s of the request


class Delivery:
    """USER answers go ephemeral, CHANNEL ones to the conversation, DIRECT ones to the DMs.

    Channel and DM posts go through the Outbox, so a post Slack refuses is kept and retried."""

    def __init__(self, renderer: SlackRenderer, outbox: Outbox) -> None:
        self._renderer = renderer
        self._outbox = outbox

    async def answer(self, reply: Reply, where: Conversation) -> None:
        try:
            await self._answer(reply, where)
        except Exception:
            origin = where.origin
            log.exception(
                "could not show a %s reply to %s in %s/%s",
                reply.kind,
                origin.user,
                origin.workspace,
                origin.channel,
            )

    async def open_form(self, reply: Reply, where: Conversation) -> bool:
        """Open the reply's form as a modal; False when Slack gave no trigger or refused."""
        if reply.form is None or not where.trigger_id:
            return False
        form = reply.form
        channel_name = None if form.channel else where.origin.channel_name
        view = to_modal(
            form, channel=form.channel or where.origin.channel, channel_name=channel_name
        )
        try:
            await where.client.views_open(trigger_id=where.trigger_id, view=view)
        except Exception as exc:
            log.warning("views.open failed, showing the form as text: %s", exc)
            return False
        return True

    async def _answer(self, reply: Reply, where: Conversation) -> None:
        origin = where.origin
        if reply.form is not None and await self.open_form(reply, where):
            return
        message = self._renderer.to_message(reply)
        if reply.visibility is Visibility.DIRECT:
            await self._outbox.send(reply.addressed(Destination.direct(origin)))
        elif reply.visibility is Visibility.CHANNEL:
            if where.respond is not None and not origin.is_direct:
                await where.respond(**message, response_type="in_channel", replace_original=False)
            else:
                await self._outbox.send(reply.addressed(Destination.channel_of(origin)))
        elif origin.is_direct:
            await where.client.chat_postMessage(channel=origin.channel, **message)
        elif where.respond is not None:
            await where.respond(**message, response_type="ephemeral", replace_original=False)
        else:
            try:
                await where.client.chat_postEphemeral(
                    channel=origin.channel, user=origin.user, **message
                )
            except Exception as exc:  # e.g. not_in_channel: the person still gets the answer
                log.info("ephemeral answer failed (%s), sending it as a DM", exc)
                await self._outbox.send(reply.addressed(Destination.direct(origin)))
