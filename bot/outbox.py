"""The outbound port: how the core posts, edits and deletes on its own, on any platform.

A post or edit that fails is kept in the database and retried with backoff. Retrying is
safe with several copbot processes on one database: a process claims a kept row before it
sends it (PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite a conditional `UPDATE`), and records
how it ended and the platform's message id after."""

from __future__ import annotations

import dataclasses
import logging
import types
import typing
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, update
from sqlmodel import col, delete, select

from bot.clock import Clock
from bot.replies import Destination, MessageRef, Reply
from storage.database import Database
from storage.models import PendingPost

log = logging.getLogger(__name__)

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = 8  # then the post is given up, with a log line
CLAIM_LEASE = timedelta(minutes=2)  # a claimed row whose process died is free again after it
BATCH = 50
KEEP_FINISHED = timedelta(days=7)


class MessageGone(Exception):
    """The message to edit or delete no longer exists (deleted, or its channel is gone)."""


class NotPosted(Exception):
    """The platform refused a post, so it certainly did not go out (a refusal, not a lost
    connection): sending it again cannot make a duplicate."""


class ChatPlatform(Protocol):
    """What every adapter implements so the core can post without being asked.

    A platform that can find a post again by its `Reply.key` also implements `PostFinder`
    (an optional lookup; Slack can, Teams and the console cannot)."""

    platform: str

    async def send(self, reply: Reply) -> MessageRef | None:
        """Deliver `reply` to `reply.to`; the posted message's ref, when it has one."""
        ...

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        """Replace the message `ref` with `reply`; `MessageGone` when it no longer exists."""
        ...

    async def delete(self, ref: MessageRef) -> None:
        """Delete the message `ref`; `MessageGone` when it no longer exists."""
        ...


class PostFinder(Protocol):
    """The optional lookup of a `ChatPlatform`: a post found again by its idempotency key."""

    async def find(self, key: str, to: Destination, since: datetime) -> MessageRef | None:
        """The post to `to` carrying `key`, made at `since` or later; None when there is none."""
        ...


# Serialising replies for the database -------------------------------------------------------


@runtime_checkable
class ThreadReader(Protocol):
    """A platform that can read a message and its thread (Slack's conversations.replies)."""

    async def thread_text(self, ref: MessageRef) -> list[str]:
        """The message's text, then its thread's replies' text, oldest first."""
        ...


def to_plain(value: Any) -> Any:
    """A reply (or ref) as JSON-ready data: dataclasses become dicts, tuples lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, typing.Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    return value


def from_plain(cls: type[Any], data: Any) -> Any:
    """Rebuild a dataclass of type `cls` from `to_plain` output, guided by its type hints,
    so that every field comes back, including ones added later."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            values[field.name] = _coerce(hints[field.name], data[field.name])
    return cls(**values)


def _coerce(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_coerce(item, v) for v in value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_plain(hint, value)
    if isinstance(hint, type) and issubclass(hint, str) and hint is not str:
        return hint(value)  # StrEnum
    return value


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(reply)
    return plain


def reply_from_dict(data: dict[str, Any]) -> Reply:
    reply: Reply = from_plain(Reply, data)
    return reply


def ref_from_dict(data: dict[str, Any]) -> MessageRef:
    ref: MessageRef = from_plain(MessageRef, data)
    return ref


# The outbox ------------------------------------------------------------------------------


class Outbox:
    """Routes posts and edits to the adapter of their platform; a failure is kept and retried.

    Posts to a platform that is not running here are not kept: nothing could deliver them."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._platforms: dict[str, ChatPlatform] = {}

    def register(self, platform: ChatPlatform) -> None:
        self._platforms[platform.platform] = platform

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._platforms)

    async def send(self, reply: Reply) -> MessageRef | None:
        """Post `reply` to `reply.to`; its ref, or None when it was kept for a retry."""
        to = reply.to
        if to is None:
            raise ValueError("a post needs a destination")
        platform = self._platform(to.platform, reply.kind)
        if platform is None:
            return None
        try:
            return await platform.send(reply)
        except Exception as exc:
            log.warning("post of %s to %s failed, kept for retry: %s", reply.kind, to, exc)
            await self._keep("send", to.platform, to.workspace, reply, None, str(exc))
            return None

    async def post_once(self, reply: Reply) -> MessageRef | None:
        """Post `reply` to `reply.to` and keep nothing when it fails: for callers that record
        and retry themselves because a post must never go out twice (deliveries). Raises what
        the platform raised; `NotPosted` when it surely did not post (also when the
        platform is not running here)."""
        to = reply.to
        if to is None:
            raise ValueError("a post needs a destination")
        platform = self._platforms.get(to.platform)
        if platform is None:
            raise NotPosted(f"{to.platform} is not running here")
        return await platform.send(reply)

    def can_find(self, platform: str) -> bool:
        """Whether `platform` runs here and can find a post again by its key."""
        return callable(getattr(self._platforms.get(platform), "find", None))

    async def find(self, key: str, to: Destination, since: datetime) -> MessageRef | None:
        """The post carrying `key` sent to `to` since `since`, on a platform that can look."""
        platform = self._platforms.get(to.platform)
        if platform is None or not self.can_find(to.platform):
            raise LookupError(f"{to.platform} cannot find posts here")
        finder: PostFinder = platform  # type: ignore[assignment]
        return await finder.find(key, to, since)

    async def update(self, ref: MessageRef, reply: Reply) -> bool:
        """Replace the message `ref` with `reply`. False when the message is gone (the caller
        should forget the ref); a failure for any other reason is kept and retried."""
        return await self._edit("update", ref, reply)

    async def delete(self, ref: MessageRef) -> bool:
        """Delete the message `ref`; False when it was already gone."""
        return await self._edit("delete", ref, None)

    async def thread_text(self, ref: MessageRef) -> list[str]:
        """The text of message `ref` and of its thread's replies, on platforms that can read
        them (`ThreadReader`); empty elsewhere."""
        platform = self._platforms.get(ref.platform)
        if not isinstance(platform, ThreadReader):
            return []
        return await platform.thread_text(ref)

    async def _edit(self, operation: str, ref: MessageRef, reply: Reply | None) -> bool:
        platform = self._platform(ref.platform, operation)
        if platform is None:
            return False
        try:
            await self._apply(platform, operation, reply, ref)
        except MessageGone:
            log.info("%s of %s skipped: the message is gone", operation, ref)
            return False
        except Exception as exc:
            log.warning("%s of %s failed, kept for retry: %s", operation, ref, exc)
            await self._keep(operation, ref.platform, ref.workspace, reply, ref, str(exc))
        return True

    def _platform(self, name: str, what: str) -> ChatPlatform | None:
        platform = self._platforms.get(name)
        if platform is None:
            log.info("%s for %s not sent: %s is not running here", what, name, name)
        return platform

    @staticmethod
    async def _apply(
        platform: ChatPlatform, operation: str, reply: Reply | None, ref: MessageRef | None
    ) -> MessageRef | None:
        if operation == "send":
            assert reply is not None
            return await platform.send(reply)
        assert ref is not None
        if operation == "update":
            assert reply is not None
            await platform.update(ref, reply)
        else:
            await platform.delete(ref)
        return ref

    async def _keep(
        self,
        operation: str,
        platform: str,
        workspace: str,
        reply: Reply | None,
        ref: MessageRef | None,
        error: str,
    ) -> None:
        if reply is not None and reply.attachment is not None:
            # A file (a person's export) is not copied into the database to be retried: it
            # would outlive its purpose there. Asking again makes a fresh one.
            log.warning("%s with a file to %s not kept for retry", reply.kind, workspace)
            return
        now = self._clock.now()
        async with self._database.session() as session:
            session.add(
                PendingPost(
                    platform=platform,
                    workspace=workspace,
                    operation=operation,
                    payload=reply_to_dict(reply) if reply is not None else {},
                    target=to_plain(ref) if ref is not None else None,
                    attempts=1,
                    last_error=error[:1000],
                    created_at=now,
                    next_attempt_at=now + RETRY_DELAYS[0],
                )
            )

    # Retrying ------------------------------------------------------------------------------

    async def retry_pending(self) -> int:
        """Claim and try kept posts whose time has come; returns how many went out.

        Only posts for platforms running here are claimed; another process may run others."""
        if not self._platforms:
            return 0
        delivered = 0
        while True:
            claimed = await self._claim()
            if not claimed:
                return delivered
            for pending in claimed:
                delivered += await self._retry(pending)
            if len(claimed) < BATCH:
                return delivered

    async def _claim(self) -> list[PendingPost]:
        now = self._clock.now()
        due = (
            (col(PendingPost.outcome) == "")
            & (col(PendingPost.next_attempt_at) <= now)
            & col(PendingPost.platform).in_(self.platforms)
            & (col(PendingPost.claimed_until).is_(None) | (col(PendingPost.claimed_until) < now))
        )
        lease = now + CLAIM_LEASE
        async with self._database.session() as session:
            if self._database.backend == "postgresql":
                rows = (
                    await session.exec(
                        select(PendingPost)
                        .where(due)
                        .order_by(col(PendingPost.id))
                        .limit(BATCH)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                for row in rows:
                    row.claimed_until = lease
                    session.add(row)
                return list(rows)
            # SQLite: one writer at a time; a conditional UPDATE claims each row at most once.
            candidates = (
                await session.exec(
                    select(PendingPost.id).where(due).order_by(col(PendingPost.id)).limit(BATCH)
                )
            ).all()
            claimed = []
            for row_id in candidates:
                result = await session.exec(
                    update(PendingPost)
                    .where(col(PendingPost.id) == row_id, due)
                    .values(claimed_until=lease)
                )
                if result.rowcount == 1:
                    claimed.append(row_id)
            if not claimed:
                return []
            rows = (
                await session.exec(select(PendingPost).where(col(PendingPost.id).in_(claimed)))
            ).all()
            return list(rows)

    async def _retry(self, pending: PendingPost) -> int:
        reply = reply_from_dict(pending.payload) if pending.payload else None
        ref = ref_from_dict(pending.target) if pending.target else None
        platform = self._platforms[pending.platform]
        now = self._clock.now()
        try:
            posted = await self._apply(platform, pending.operation, reply, ref)
        except MessageGone:
            await self._finish(pending, "gone", now)
            return 0
        except Exception as exc:
            attempts = pending.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                log.warning(
                    "giving up %s %s after %s attempts: %s",
                    pending.operation,
                    pending.id,
                    attempts,
                    exc,
                )
                await self._finish(
                    pending, "gave_up", now, last_error=str(exc)[:1000], attempts=attempts
                )
                return 0
            log.info("retry %s of %s %s failed: %s", attempts, pending.operation, pending.id, exc)
            delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            await self._set(
                pending,
                attempts=attempts,
                last_error=str(exc)[:1000],
                next_attempt_at=now + delay,
                claimed_until=None,
            )
            return 0
        await self._finish(pending, "sent", now, message_id=posted.message_id if posted else None)
        return 1

    async def _finish(
        self, pending: PendingPost, outcome: str, now: datetime, **values: Any
    ) -> None:
        await self._set(pending, outcome=outcome, finished_at=now, claimed_until=None, **values)

    async def _set(self, pending: PendingPost, **values: Any) -> None:
        async with self._database.session() as session:
            await session.exec(
                update(PendingPost).where(col(PendingPost.id) == pending.id).values(**values)
            )

    async def pending_count(self, *, at_most: int | None = None) -> int:
        """How many kept posts still wait; with `at_most`, counted no further than that, so
        the count reads at most that many entries of `ix_pending_posts_due`."""
        waiting = select(PendingPost.outcome).where(PendingPost.outcome == "")
        if at_most is not None:
            # In the index's order, so that walking it and stopping at the limit is the cheapest
            # plan: PostgreSQL would otherwise read every waiting entry into a bitmap first.
            waiting = waiting.order_by(col(PendingPost.next_attempt_at)).limit(at_most)
        query = select(func.count()).select_from(waiting.subquery())
        async with self._database.read() as session:
            return int((await session.exec(query)).one())

    async def forget_finished(self) -> int:
        """Drop the records of kept posts that ended over a week ago."""
        cutoff = self._clock.now() - KEEP_FINISHED
        async with self._database.session() as session:
            result = await session.exec(
                delete(PendingPost).where(
                    col(PendingPost.outcome) != "", col(PendingPost.finished_at) < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)


__all__ = [
    "ChatPlatform",
    "Destination",
    "MessageGone",
    "MessageRef",
    "NotPosted",
    "Outbox",
    "PostFinder",
]
