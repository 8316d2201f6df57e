"""Files served under an unguessable link for a short while (an export on Teams, where a bot
cannot simply upload a file), each kept with the person it was made for."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, delete, select

from bot.clock import Clock
from bot.replies import Attachment
from storage.database import Database
from storage.models import Download

LIFETIME = timedelta(hours=1)
TOKEN_BYTES = 32  # 43 URL-safe characters: not guessable, not enumerable


@dataclass(frozen=True, kw_only=True)
class Offered:
    """A stored file's token and when its link stops working."""

    token: str
    expires_in: timedelta


class DownloadService:
    """Stores a file for one person and hands it out by token until it expires."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def offer(
        self, *, platform: str, workspace: str, user: str, attachment: Attachment
    ) -> Offered:
        """Keep `attachment` for `user` for `LIFETIME`; the token of its link."""
        now = self._clock.now()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with self._database.session() as session:
            session.add(
                Download(
                    token=token,
                    platform=platform,
                    workspace=workspace,
                    user_id=user,
                    filename=attachment.filename,
                    media_type=attachment.media_type,
                    content=attachment.content,
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
            )
        return Offered(token=token, expires_in=LIFETIME)

    async def fetch(self, token: str) -> Attachment | None:
        """The file behind `token`, or None when it is unknown or has expired."""
        query = select(Download).where(
            Download.token == token, col(Download.expires_at) > self._clock.now()
        )
        async with self._database.session() as session:
            found = (await session.exec(query)).first()
        if found is None:
            return None
        return Attachment(
            filename=found.filename, media_type=found.media_type, content=found.content
        )

    async def forget_expired(self) -> int:
        """Drop expired files (upkeep); returns how many."""
        async with self._database.session() as session:
            result = await session.exec(
                delete(Download).where(col(Download.expires_at) <= self._clock.now())
            )
        return int(result.rowcount or 0)
