"""The outbound port: how the core posts on its own, to a channel or a user's DMs."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any, Protocol

from sqlmodel import col, select

from bot.clock import Clock
from bot.replies import Button, Destination, Form, Reply, Visibility
from storage.database import Database
from storage.models import PendingPost

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))


class ChatPlatform(Protocol):
    """What every adapter implements so the core can post without being asked."""

    platform: str

    async def send(self, reply: Reply) -> str | None:
        """Deliver `reply` to `reply.to`; returns the platform's message id, if any."""
        ...


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    return asdict(reply)


def reply_from_dict(data: dict[str, Any]) -> Reply:
    return Reply(
        kind=data["kind"],
        data=data.get("data") or {},
        visibility=Visibility(data.get("visibility", Visibility.USER)),
        buttons=tuple(Button(**b) for b in data.get("buttons") or ()),
        to=Destination(**data["to"]) if data.get("to") else None,
        form=Form(**data["form"]) if data.get("form") else None,
    )


class Outbox:
    """Routes posts to the adapter of their platform; a failed post is kept and retried."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._platforms: dict[str, ChatPlatform] = {}

    def register(self, platform: ChatPlatform) -> None:
        self._platforms[platform.platform] = platform

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._platforms)

    async def send(self, reply: Reply) -> str | None:
        """Post `reply` to `reply.to`; on failure keep it for `retry_pending`."""
        if reply.to is None:
            raise ValueError("a post needs a destination")
        try:
            return await self._deliver(reply)
        except Exception as exc:
            log.warning(
                "post to %s failed, kept for retry: %s",
                reply.to,
                exc,
                exc_info=not isinstance(exc, LookupError),
            )
            await self._keep(reply, str(exc))
            return None

    async def retry_pending(self) -> int:
        """Try every kept post whose time has come; returns how many went out."""
        now = self._clock.now()
        async with self._database.session() as session:
            due = (
                await session.exec(
                    select(PendingPost)
                    .where(col(PendingPost.next_attempt_at) <= now)
                    .order_by(col(PendingPost.id))
                )
            ).all()
        delivered = 0
        for pending in due:
            reply = reply_from_dict(pending.payload)
            try:
                await self._deliver(reply)
            except Exception as exc:
                log.warning("retry %s of post %s failed: %s", pending.attempts + 1, pending.id, exc)
                delay = RETRY_DELAYS[min(pending.attempts, len(RETRY_DELAYS) - 1)]
                async with self._database.session() as session:
                    pending.attempts += 1
                    pending.last_error = str(exc)[:1000]
                    pending.next_attempt_at = now + delay
                    session.add(pending)
                continue
            delivered += 1
            async with self._database.session() as session:
                await session.delete(await session.get(PendingPost, pending.id))
        return delivered

    async def pending_count(self) -> int:
        async with self._database.session() as session:
            return len((await session.exec(select(PendingPost))).all())

    async def _deliver(self, reply: Reply) -> str | None:
        assert reply.to is not None
        platform = self._platforms.get(reply.to.platform)
        if platform is None:
            raise LookupError(f"no adapter running for {reply.to.platform}")
        return await platform.send(reply)

    async def _keep(self, reply: Reply, error: str) -> None:
        assert reply.to is not None
        now = self._clock.now()
        async with self._database.session() as session:
            session.add(
                PendingPost(
                    platform=reply.to.platform,
                    workspace=reply.to.workspace,
                    payload=reply_to_dict(reply),
                    attempts=1,
                    last_error=error[:1000],
                    created_at=now,
                    next_attempt_at=now + RETRY_DELAYS[0],
                )
            )
