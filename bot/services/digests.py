"""The monthly digest as rows: one per (community, month), planned by any process, claimed
before it is sent and recorded after, so each goes out once across processes and restarts.

The claim follows the deliveries' pattern (`deliveries.py`): PostgreSQL `FOR UPDATE SKIP
LOCKED`, SQLite the write lock first, each with a lease. Each recipient's state is written
before their post (`posting`) and after it (`sent`), so a claim that ended mid-send is
looked up, not sent blind, by whichever process claims the row next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.health import Period
from storage.database import insert_for
from storage.models import Community, HealthDigest, Workspace

POSTING = "posting"  # a post on its way: its outcome is unknown until recorded
SENT = "sent"
UNKNOWN = "unknown"  # a post that may be out, on a platform that cannot look
REFUSED = "refused"  # the platform surely did not post it (not tried again)
SKIPPED = "skipped"
GAVE_UP = "gave_up"
MAX_ATTEMPTS = 5


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def previous_month(start: datetime) -> datetime:
    return month_start(start - timedelta(days=1))


def last_month(now: datetime) -> Period:
    """The calendar month before `now`'s (UTC), compared with the month before it."""
    until = month_start(now)
    since = previous_month(until)
    return Period(before=previous_month(since), since=since, until=until)


def month_key(period: Period) -> str:
    return f"{period.since.year:04d}-{period.since.month:02d}"


@dataclass(frozen=True, kw_only=True)
class DigestClaim:
    digest: HealthDigest
    community: Community
    workspace: Workspace


async def plan(session: AsyncSession, period: Period) -> int:
    """A row for the month of `period` for every community that lived through it and has
    none yet; how many were added."""
    month = month_key(period)
    have = select(HealthDigest.community_id).where(HealthDigest.month == month)
    missing = (
        await session.exec(
            select(Community.id).where(
                col(Community.archived_at).is_(None),
                col(Community.created_at) < period.until,
                col(Community.id).not_in(have),
            )
        )
    ).all()
    if not missing:
        return 0
    rows: list[dict[str, Any]] = [
        {"community_id": cid, "month": month, "outcome": "", "posts": {}, "attempts": 0}
        for cid in missing
    ]
    statement = insert_for(session.get_bind().dialect.name, HealthDigest).values(rows)
    await session.exec(statement.on_conflict_do_nothing(index_elements=["community_id", "month"]))
    return len(rows)


def _claimable(now: datetime) -> Any:
    return col(HealthDigest.sent_at).is_(None) & or_(
        col(HealthDigest.claimed_until).is_(None), col(HealthDigest.claimed_until) < now
    )


async def claim(
    session: AsyncSession,
    *,
    month: str,
    now: datetime,
    lease: timedelta,
    platforms: tuple[str, ...],
    limit: int = 20,
) -> list[DigestClaim]:
    """Claim up to `limit` unsent digests of `month` for `platforms` until `now + lease`.
    On SQLite the session must hold the write lock (`session(write=True)`)."""
    if not platforms:
        return []
    query = (
        select(HealthDigest, Community, Workspace)
        .join(Community, col(Community.id) == HealthDigest.community_id)
        .join(Workspace, col(Workspace.id) == Community.workspace_id)
        .where(HealthDigest.month == month, _claimable(now))
        .where(col(Workspace.platform).in_(platforms))
        .order_by(col(HealthDigest.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=HealthDigest)  # type: ignore[arg-type]
    found = (await session.exec(query)).all()
    claims = []
    for digest, community, workspace in found:
        result = await session.exec(
            update(HealthDigest)  # type: ignore[call-overload]
            .where(col(HealthDigest.id) == digest.id, _claimable(now))
            .values(claimed_at=now, claimed_until=now + lease, attempts=digest.attempts + 1)
        )
        if result.rowcount == 1:
            digest.claimed_at, digest.claimed_until = now, now + lease
            digest.attempts += 1
            claims.append(DigestClaim(digest=digest, community=community, workspace=workspace))
    return claims


async def record(
    session: AsyncSession,
    digest: HealthDigest,
    posts: dict[str, Any],
    *,
    finished: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Write the recipients' states while the claim is ours (True when it still was); with
    `finished`, the digest is over."""
    values: dict[str, Any] = {"posts": dict(posts)}
    if finished is not None:
        values.update(sent_at=now, outcome=finished)
    result = await session.exec(
        update(HealthDigest)  # type: ignore[call-overload]
        .where(
            col(HealthDigest.id) == digest.id,
            # The claim is ours while no later claim has counted another attempt.
            col(HealthDigest.attempts) == digest.attempts,
            col(HealthDigest.sent_at).is_(None),
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)
