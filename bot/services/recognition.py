"""Wins and kudos: what members celebrate and whom they thank, kept for the community's
record (and its analytics later)."""

from __future__ import annotations

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin, UserRef
from bot.services.activity import record
from storage.database import Database
from storage.models import Community, Kudos, Win

TEXT_MAX = 1000


def _checked(text: str, command: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserError("recognition_text_missing", usage=command)
    if len(cleaned) > TEXT_MAX:
        raise UserError("recognition_text_too_long", usage=command, limit=TEXT_MAX)
    return cleaned


class RecognitionService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def share_win(self, community: Community, origin: Origin, text: str) -> Win:
        text = _checked(text, "win")
        now = self._clock.now()
        assert community.id is not None
        win = Win(community_id=community.id, user_id=origin.user, text=text, created_at=now)
        async with self._database.session() as session:
            session.add(win)
            record(session, community, origin.user, "win.shared", now, length=len(text))
        return win

    async def give_kudos(
        self, community: Community, origin: Origin, to: UserRef, text: str
    ) -> Kudos:
        if to.id == origin.user:
            raise UserError("kudos_to_self", usage="kudos")
        text = _checked(text, "kudos")
        now = self._clock.now()
        assert community.id is not None
        kudos = Kudos(
            community_id=community.id,
            from_user=origin.user,
            to_user=to.id,
            text=text,
            created_at=now,
        )
        async with self._database.session() as session:
            session.add(kudos)
            record(session, community, origin.user, "kudos.given", now, to=to.id)
        return kudos
