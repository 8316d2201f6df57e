"""Posting to Slack on the core's behalf: Web API clients and the `ChatPlatform` port."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import SlackRenderer
from adapters.slack.translate import PLATFORM
from bot.replies import Reply

log = logging.getLogger(__name__)

# Retries slack_sdk makes itself (429 honours Retry-After) before a post counts as failed
# and the Outbox keeps it for later.
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2

TokenLookup = Callable[[str, str | None], Awaitable[str | None]]


def make_client(base_url: str, token: str | None = None) -> AsyncWebClient:
    """A Web API client that waits out rate limits and retries server and connection errors.

    Listing the handlers replaces slack_sdk's default, so the connection handler is listed too;
    Bolt's per-request clients inherit these handlers and the base URL."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
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

    async def send(self, reply: Reply) -> str | None:
        """Post `reply` to `reply.to`; returns the message's `ts`."""
        to = reply.to
        if to is None or not (to.channel or to.user):
            raise ValueError("a Slack post needs a channel or a user")
        try:
            client = await self.client_for(to.workspace)
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
        return str(posted.get("ts") or "") or None
