"""Posts kept by the outbox for a retry, loaded in bulk (not through failed sends), for the
/healthz tests and benchmark."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.outbox import reply_to_dict
from bot.replies import Destination, Reply
from storage.database import Database
from storage.models import PendingPost

CHUNK = 2000


def kept_posts(count: int, now: datetime, *, outcome: str = "") -> list[dict[str, Any]]:
    """`count` posts as the outbox keeps them after a failed send, in 100 channels of one
    workspace: waiting (`outcome` empty) for a retry due an hour or two after `now`, or ended
    with `outcome` an hour ago."""
    rows = []
    for n in range(count):
        to = Destination(platform="slack", workspace="T0001", channel=f"C{n % 100:04d}")
        reply = Reply(kind="reminder", data={"ritual": f"Ritual {n}", "minutes": 15}, to=to)
        rows.append(
            {
                "platform": "slack",
                "workspace": "T0001",
                "operation": "send",
                "payload": reply_to_dict(reply),
                "target": None,
                "attempts": 1 + n % 7,
                "last_error": "ratelimited",
                "created_at": now - timedelta(minutes=n % 600),
                "next_attempt_at": now + timedelta(hours=1, seconds=n % 3600),
                "outcome": outcome,
                "finished_at": now - timedelta(hours=1) if outcome else None,
            }
        )
    return rows


async def keep(database: Database, count: int, now: datetime, *, outcome: str = "") -> None:
    """`count` kept posts (see `kept_posts`) inserted in bulk."""
    rows = kept_posts(count, now, outcome=outcome)
    for start in range(0, len(rows), CHUNK):
        async with database.engine.begin() as connection:
            await connection.execute(insert(PendingPost), rows[start : start + CHUNK])
