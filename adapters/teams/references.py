"""Stored Teams conversation references: where the bot can post later, kept in the database."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.clock import Clock
from storage.database import Database
from storage.models import ConversationReference

PLATFORM = "teams"
# References this process saved or found unchanged, so an activity in a known conversation
# costs no database round trip (every activity carries its reference). Each is trusted for a
# few minutes only: another process may have changed or deleted the row (an uninstall).
KNOWN_REFERENCES = 4096
KNOWN_SECONDS = 300.0


def conversation_key(conversation_id: str) -> str:
    return "conversation:" + conversation_id


def user_key(user_id: str) -> str:
    """The key of a user's personal (1:1) chat with the bot."""
    return "user:" + user_id


def _by_key(workspace: str, key: str) -> SelectOfScalar[ConversationReference]:
    return select(ConversationReference).where(
        ConversationReference.platform == PLATFORM,
        ConversationReference.workspace == workspace,
        ConversationReference.key == key,
    )


class ReferenceStore:
    """Upserts and reads reference JSON by (tenant, key); the reference is botbuilder's shape."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._known: OrderedDict[tuple[str, str], tuple[float, str, dict[str, Any]]] = OrderedDict()

    async def save(self, workspace: str, key: str, kind: str, reference: dict[str, Any]) -> None:
        """Insert or update; a concurrent insert of the same key is retried as an update.
        A reference this process already stored as it is now is not read again."""
        known = self._known.get((workspace, key))
        now = time.monotonic()
        if known is not None and known[0] > now and known[1:] == (kind, reference):
            return
        for attempt in range(2):
            try:
                await self._upsert(workspace, key, kind, reference)
                break
            except IntegrityError:
                if attempt:
                    raise
        self._known[(workspace, key)] = (now + KNOWN_SECONDS, kind, reference)
        self._known.move_to_end((workspace, key))
        if len(self._known) > KNOWN_REFERENCES:
            self._known.popitem(last=False)

    async def _upsert(self, workspace: str, key: str, kind: str, reference: dict[str, Any]) -> None:
        async with self._database.session() as session:
            row = (await session.exec(_by_key(workspace, key))).first()
            if row is None:
                row = ConversationReference(
                    platform=PLATFORM,
                    workspace=workspace,
                    key=key,
                    kind=kind,
                    reference=reference,
                    updated_at=self._clock.now(),
                )
            elif row.reference == reference and row.kind == kind:
                return
            else:
                row.kind, row.reference, row.updated_at = kind, reference, self._clock.now()
            session.add(row)

    async def get(self, workspace: str, key: str) -> dict[str, Any] | None:
        async with self._database.session() as session:
            row = (await session.exec(_by_key(workspace, key))).first()
        return dict(row.reference) if row else None

    async def latest(self, workspace: str) -> dict[str, Any] | None:
        """The most recently seen reference of a tenant (its service URL and the bot's id)."""
        async with self._database.session() as session:
            row = (
                await session.exec(
                    select(ConversationReference)
                    .where(
                        ConversationReference.platform == PLATFORM,
                        ConversationReference.workspace == workspace,
                    )
                    .order_by(col(ConversationReference.updated_at).desc())
                    .limit(1)
                )
            ).first()
        return dict(row.reference) if row else None

    async def delete(self, workspace: str, key: str) -> bool:
        self._known.pop((workspace, key), None)
        async with self._database.session() as session:
            row = (await session.exec(_by_key(workspace, key))).first()
            if row is None:
                return False
            await session.delete(row)
        return True
