"""Posting to Slack on the core's behalf: Web API clients and the `ChatPlatform` port."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import SlackRenderer
from adapters.slack.translate import PLATFORM
from bot.outbox import MessageGone
from bot.replies import MessageRef, Reply

log = logging.getLogger(__name__)

# Retries slack_sdk makes itself on 429 (honouring Retry-After) before a post counts as
# failed and the Outbox keeps it for later.
RATE_LIMIT_RETRIES = 3
# What Slack answers for an edit of a message (or in a channel) that no longer exists.
GONE_ERRORS = frozenset(
    {"message_not_found", "channel_not_found", "cant_update_message", "cant_delete_message"}
)

TokenLookup = Callable[[str, str | None], Awaitable[str | None]]


def make_client(base_url: str, token: str | None = None) -> AsyncWebClient:
    """A Web API client that waits out rate limits (429) and retries nothing else.

    Slack removes no duplicate posts, and slack_sdk's default handler retries a request on a
    dropped connection, which can post a message twice; the Outbox retries what failed.
    Bolt's per-request clients inherit these handlers and the base URL."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


class SlackPlatform:
    """The core's outbound port for Slack: posts a reply to a channel or a user's DMs.

    A post that still fails after slack_sdk's retries raises, so the Outbox keeps it."""

    platform = PLATFORM

    def __init__(self, *, base_url: str, token_for: TokenLookup, renderer: SlackRenderer) -> None:
        self._base_url = base_url
        self._token_for = token_for
        self._renderer = renderer
        self._clients: dict[str, AsyncWebClient] = {}

    async def client_for(self, workspace: str, enterprise: str | None = None) -> AsyncWebClient:
        token = await self._token_for(workspace, enterprise)
        if not token:
            raise LookupError(f"copbot is not installed in Slack workspace {workspace}")
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(self._base_url, token)
        return client

    async def send(self, reply: Reply) -> MessageRef | None:
        """Post `reply` to `reply.to`; the posted message's channel and `ts`."""
        to = reply.to
        if to is None or not (to.channel or to.user):
            raise ValueError("a Slack post needs a channel or a user")
        try:
            client = await self.client_for(to.workspace, to.enterprise)
            channel = to.channel
            if channel is None:
                assert to.user is not None
                opened = await client.conversations_open(users=to.user)
                channel = str(opened["channel"]["id"])
            args: dict[str, Any] = {"channel": channel, **self._renderer.to_message(reply)}
            if to.thread:
                args["thread_ts"] = to.thread
            posted = await client.chat_postMessage(**args)
        except Exception as exc:
            log.warning(
                "Slack post of %s to %s failed: %s",
                reply.kind,
                {"workspace": to.workspace, "channel": to.channel, "user": to.user},
                exc,
            )
            raise
        ts = str(posted.get("ts") or "")
        if not ts:
            return None
        posted_in = str(posted.get("channel") or channel)
        for name in reply.reactions:
            # The post went out: a reaction that fails is logged, never a reason to post again.
            try:
                await client.reactions_add(channel=posted_in, timestamp=ts, name=name)
            except Exception as exc:
                log.warning("could not add :%s: to %s/%s: %s", name, posted_in, ts, exc)
        return MessageRef(
            platform=PLATFORM,
            workspace=to.workspace,
            enterprise=to.enterprise,
            channel=posted_in,
            message_id=ts,
            thread=to.thread,
        )

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        """`chat.update` of the message `ref` with `reply`."""
        client = await self.client_for(ref.workspace, ref.enterprise)
        message = self._renderer.to_message(reply)
        with _gone_when_missing(ref):
            await client.chat_update(channel=ref.channel, ts=ref.message_id, **message)

    async def delete(self, ref: MessageRef) -> None:
        """`chat.delete` of the message `ref`."""
        client = await self.client_for(ref.workspace, ref.enterprise)
        with _gone_when_missing(ref):
            await client.chat_delete(channel=ref.channel, ts=ref.message_id)


@contextmanager
def _gone_when_missing(ref: MessageRef) -> Iterator[None]:
    try:
        yield
    except SlackApiError as exc:
        if exc.response.get("error") in GONE_ERRORS:
            raise MessageGone(str(ref)) from exc
        raise
