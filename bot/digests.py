"""The monthly digest: once a month each community's stewards and sponsors get its health by
direct message (the figures, what changed since the month before, a sentence to forward),
exactly once across processes and restarts. The rows and their claims are in
`services/digests.py`; the scheduler only wakes this runner up (hourly)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from sqlmodel import col, select

from bot import health_messages
from bot.clock import Clock
from bot.delivery_messages import direct
from bot.outbox import NotPosted, Outbox
from bot.services import digests as rows
from bot.services.digests import DigestClaim
from bot.services.health import HealthService, Period
from storage.database import Database
from storage.models import Member, Role

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
READERS = (Role.STEWARD, Role.SPONSOR)


class DigestRunner:
    """Plans, claims, sends and records the monthly digests; see the module docstring."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        outbox: Outbox,
        health: HealthService,
        *,
        lease: timedelta = LEASE,
        batch: int = 20,
    ) -> None:
        self._database = database
        self._clock = clock
        self._outbox = outbox
        self._health = health
        self._lease = lease
        self._batch = batch  # digests claimed at a time

    async def run(self) -> int:
        """Send the digests of the month just ended that are due here; how many went out."""
        now = self._clock.now()
        period = rows.last_month(now)
        month = rows.month_key(period)
        async with self._database.session(write=True) as session:
            await rows.plan(session, period)
        sent = 0
        while True:
            async with self._database.session(write=True) as session:
                claims = await rows.claim(
                    session,
                    month=month,
                    now=now,
                    lease=self._lease,
                    platforms=self._outbox.platforms,
                    limit=self._batch,
                )
            if not claims:
                break
            for claim in claims:
                try:
                    sent += await self._send(claim, period)
                except Exception:
                    log.exception("the digest of community %s failed", claim.community.id)
        await self._health.forget_expired_links()
        return sent

    async def _send(self, claim: DigestClaim, period: Period) -> int:
        digest, community, workspace = claim.digest, claim.community, claim.workspace
        write = partial(self._record, claim)
        async with self._database.session() as session:
            readers = (
                await session.exec(
                    select(Member.user_id)
                    .where(
                        Member.community_id == community.id,
                        col(Member.role).in_(READERS),
                        col(Member.active),
                    )
                    .order_by(col(Member.joined_at), col(Member.id))
                )
            ).all()
        if not readers:
            await write(dict(digest.posts), finished=rows.SKIPPED)
            return 0
        report = await self._health.report(community, period)
        chart = await self._health.chart_link(report, workspace.platform)
        posts: dict[str, Any] = dict(digest.posts)
        can_find = self._outbox.can_find(workspace.platform)
        sent = 0
        for reader in readers:
            reply = health_messages.digest(
                report,
                chart_url=chart,
                to=direct(workspace, reader),
                key=f"digest:{digest.id}:{reader}",
            )
            assert reply.key is not None and reply.to is not None
            state = posts.get(reader)
            if state in (rows.SENT, rows.UNKNOWN, rows.REFUSED):
                continue
            if state == rows.POSTING:
                # An earlier attempt died mid-send: look before sending again.
                if not can_find:
                    posts[reader] = rows.UNKNOWN
                    await write(posts)
                    continue
                since = digest.claimed_at or self._clock.now()
                if await self._outbox.find(reply.key, reply.to, since - self._lease) is not None:
                    posts[reader] = rows.SENT
                    await write(posts)
                    continue
            posts[reader] = rows.POSTING
            if not await write(posts):
                return sent  # another process took the row over
            try:
                await self._outbox.post_once(reply)
            except NotPosted as exc:
                log.warning("digest %s refused: %s", reply.key, exc)
                posts[reader] = rows.REFUSED
                await write(posts)
                continue
            except Exception as exc:
                log.warning("digest %s: the post may or may not be out: %s", reply.key, exc)
                if not can_find:
                    posts[reader] = rows.UNKNOWN
                    await write(posts)
                    continue
                giving_up = digest.attempts >= rows.MAX_ATTEMPTS
                await write(posts, finished=rows.GAVE_UP if giving_up else None)
                return sent  # the lease runs out, then a later run looks it up
            posts[reader] = rows.SENT
            sent += 1
            await write(posts)
        await write(posts, finished=rows.SENT)
        return sent

    async def _record(
        self, claim: DigestClaim, posts: dict[str, Any], *, finished: str | None = None
    ) -> bool:
        async with self._database.session() as session:
            return await rows.record(
                session,
                claim.digest,
                posts,
                finished=finished,
                now=self._clock.now(),
            )
