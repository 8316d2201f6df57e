"""Posting to Slack on the core's behalf: Web API clients and the `ChatPlatform` port."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.pacing import PostPacer
from adapters.slack.render import SlackRenderer
from adapters.slack.translate import PLATFORM
from bot.outbox import MessageGone, NotPosted
from bot.replies import Destination, MessageRef, Reply

log = logging.getLogger(__name__)

# Retries slack_sdk makes itself on 429 (honouring Retry-After) before a post counts as
# failed and the Outbox keeps it for later.
RATE_LIMIT_RETRIES = 8
# Spreads the requests a rate limit held back over a few milliseconds once it lifts.
RATE_LIMIT_SPREAD_SECONDS = 0.05
# Every post copbot makes for a delivery carries this message metadata, so that after a crash
# it can be found again (`conversations.history` with `include_all_metadata`).
DELIVERY_EVENT = "copbot_delivery"
# How far before the claim a lookup starts reading history (clocks are never quite equal).
LOOKUP_MARGIN = timedelta(minutes=1)
LOOKUP_PAGES = 5
HTTP_TIMEOUT = 30  # seconds for one Web API call (slack_sdk's default)
# What Slack answers for an edit of a message (or in a channel) that no longer exists.
GONE_ERRORS = frozenset(
    {"message_not_found", "channel_not_found", "cant_update_message", "cant_delete_message"}
)

TokenLookup = Callable[[str, str | None], Awaitable[str | None]]


class RateLimitGate(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 for its Retry-After, and holds every request to the same method that
    is refused meanwhile until that same moment: one wait per burst, not a second or two of
    random extra for each request (slack_sdk's own handler adds up to a second of jitter)."""

    def __init__(self, max_retry_count: int = RATE_LIMIT_RETRIES) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._reopens: dict[str, float] = {}  # request URL -> event loop time it opens again

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate limited without a response")
        state.next_attempt_requested = True
        loop = asyncio.get_running_loop()
        url = request.url.split("?", 1)[0]
        reopens = max(self._reopens.get(url, 0.0), loop.time() + _retry_after(response.headers))
        self._reopens[url] = reopens
        wait = reopens - loop.time() + random.uniform(0, RATE_LIMIT_SPREAD_SECONDS)
        await asyncio.sleep(max(wait, 0.0))
        state.increment_current_attempt()


def _retry_after(headers: Any) -> float:
    """Seconds from a Retry-After header (slack_sdk gives lists of values or plain values)."""
    for name, values in dict(headers).items():
        if name.lower() == "retry-after" and values:
            value = values[0] if isinstance(values, list | tuple) else values
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return 1.0


def _refused(error: Exception) -> bool:
    """Whether Slack (or our own lookup of the workspace) surely refused a post: an answer
    below 500 says nothing was posted; a lost connection or a server error might have."""
    if isinstance(error, LookupError):
        return True
    return isinstance(error, SlackApiError) and error.response.status_code < 500


def make_client(
    base_url: str, token: str | None = None, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """A Web API client that waits out rate limits (429) and retries nothing else.

    Slack removes no duplicate posts, and slack_sdk's default handler retries a request on a
    dropped connection, which can post a message twice; the Outbox retries what failed.
    Bolt's per-request clients inherit these handlers and the base URL. With `session`, its
    connections are kept and reused (else slack_sdk opens a new one for every call)."""
    return AsyncWebClient(
        token=token, base_url=base_url, session=session, retry_handlers=[RateLimitGate()]
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
        self._posters: dict[str, AsyncWebClient] = {}
        self._tokens: dict[str, str] = {}  # workspace -> its token, as last looked up
        self._pacers: dict[str, PostPacer] = {}
        self._http: aiohttp.ClientSession | None = None

    async def client_for(self, workspace: str, enterprise: str | None = None) -> AsyncWebClient:
        token = await self._token_for(workspace, enterprise)
        if not token:
            raise LookupError(f"copbot is not installed in Slack workspace {workspace}")
        if self._http is None or self._http.closed:
            # One connection pool for the platform's posts (reminders go out by the hundred).
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT))
            self._clients.clear()
            self._posters.clear()
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(self._base_url, token, session=self._http)
            # Posts wait out 429s through the workspace's pacer, not inside slack_sdk.
            self._posters[token] = AsyncWebClient(
                token=token, base_url=self._base_url, session=self._http, retry_handlers=[]
            )
        self._tokens[workspace] = token
        return client

    async def close(self) -> None:
        """Close the kept connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def send(self, reply: Reply) -> MessageRef | None:
        """Post `reply` to `reply.to`; the posted message's channel and `ts`. A reply with a
        `key` carries it as message metadata, so `find` can find the post again.

        Raises `NotPosted` when Slack refused (it answered, so nothing was posted)."""
        to = reply.to
        if to is None or not (to.channel or to.user):
            raise ValueError("a Slack post needs a channel or a user")
        try:
            client = await self.client_for(to.workspace, to.enterprise)
            channel = await self._channel(client, to)
            if reply.attachment is not None:
                await self._upload(client, channel, reply)
                return None
            args: dict[str, Any] = {"channel": channel, **self._renderer.to_message(reply)}
            if to.thread:
                args["thread_ts"] = to.thread
            if reply.key:
                args["metadata"] = {
                    "event_type": DELIVERY_EVENT,
                    "event_payload": {"delivery_id": reply.key},
                }
            posted = await self._post(to.workspace, args)
        except Exception as exc:
            log.warning(
                "Slack post of %s to %s failed: %s",
                reply.kind,
                {"workspace": to.workspace, "channel": to.channel, "user": to.user},
                exc,
            )
            if _refused(exc):
                raise NotPosted(str(exc)) from exc
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

    async def _upload(self, client: AsyncWebClient, channel: str, reply: Reply) -> None:
        """The reply's file shared in `channel` with the reply's text as its comment
        (files.uploadV2: files.getUploadURLExternal, the bytes, files.completeUploadExternal)."""
        attachment = reply.attachment
        assert attachment is not None
        await client.files_upload_v2(
            channel=channel,
            content=attachment.content,
            filename=attachment.filename,
            title=attachment.filename,
            initial_comment=self._renderer.text(reply),
        )

    async def thread_text(self, ref: MessageRef) -> list[str]:
        """The text of message `ref`, then of the rest of its thread (`conversations.replies`)."""
        client = await self.client_for(ref.workspace, ref.enterprise)
        return await thread_text(client, ref.channel, ref.message_id, ref.thread)

    async def _post(self, workspace: str, args: dict[str, Any]) -> Any:
        """`chat.postMessage`, paced per workspace; a 429 is waited out (Retry-After) up to
        `RATE_LIMIT_RETRIES` times, then raised."""
        client = self._posters[self._tokens[workspace]]
        pacer = self._pacers.setdefault(workspace, PostPacer())
        channel = str(args["channel"])
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            started = await pacer.turn(channel)
            try:
                posted = await client.chat_postMessage(**args)
            except SlackApiError as exc:
                if exc.response.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
                    raise
                pacer.refused(channel, started, _retry_after(exc.response.headers))
                continue
            pacer.accepted(channel, started)
            return posted
        raise AssertionError("unreachable")

    async def find(self, key: str, to: Destination, since: datetime) -> MessageRef | None:
        """The post to `to` whose metadata carries `key`, made since `since`: read from
        `conversations.history` (or the thread's replies). For recovery only: apps outside
        the Marketplace may read history once a minute."""
        client = await self.client_for(to.workspace, to.enterprise)
        channel = await self._channel(client, to)
        args: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{(since - LOOKUP_MARGIN).timestamp():.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        for _ in range(LOOKUP_PAGES):
            if to.thread:
                page = await client.conversations_replies(ts=to.thread, **args)
            else:
                page = await client.conversations_history(**args)
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == DELIVERY_EVENT and (
                    str(payload.get("delivery_id")) == key
                ):
                    return MessageRef(
                        platform=PLATFORM,
                        workspace=to.workspace,
                        enterprise=to.enterprise,
                        channel=channel,
                        message_id=str(message["ts"]),
                        thread=to.thread,
                    )
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
            args["cursor"] = cursor
        return None

    @staticmethod
    async def _channel(client: AsyncWebClient, to: Destination) -> str:
        """The conversation to post in: the channel, or the user's DM (opened if need be)."""
        if to.channel:
            return to.channel
        assert to.user is not None
        opened = await client.conversations_open(users=to.user)
        return str(opened["channel"]["id"])

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


async def thread_text(
    client: AsyncWebClient, channel: str, ts: str, thread_ts: str | None = None
) -> list[str]:
    """Message `ts` first, then the other messages of its thread, oldest first."""
    answer = await client.conversations_replies(channel=channel, ts=thread_ts or ts, limit=200)
    messages = [m for m in answer.get("messages") or [] if isinstance(m, dict)]
    first = [str(m.get("text") or "") for m in messages if m.get("ts") == ts]
    rest = [str(m.get("text") or "") for m in messages if m.get("ts") != ts]
    return [t for t in first + rest if t.strip()]


@contextmanager
def _gone_when_missing(ref: MessageRef) -> Iterator[None]:
    try:
        yield
    except SlackApiError as exc:
        if exc.response.get("error") in GONE_ERRORS:
            raise MessageGone(str(ref)) from exc
        raise
