"""Onboarding: welcoming people who join a community's channel (once each), the stewards'
own welcome text, and newcomers' wishes for a peer mentor."""

from __future__ import annotations

import string
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin
from bot.services.activity import record
from storage.database import Database, insert_for
from storage.models import Community, MentorRequest, OnboardingText, Welcome, Workspace

PLACEHOLDERS = ("name", "domain", "mission", "stewards")
TEXT_MAX = 2000


@dataclass(frozen=True, kw_only=True)
class Segment:
    """A piece of a welcome text: words as the steward wrote them, or a placeholder
    (`field`) that each surface fills in with the community's value, escaped for it."""

    text: str = ""
    field: str | None = None


def parse_welcome(text: str) -> list[Segment]:
    """A welcome text as segments. `{name}`, `{domain}`, `{mission}` and `{stewards}` are
    placeholders, `{{` and `}}` literal braces; anything else in braces is refused."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise UserError("onboarding_braces", usage="onboarding") from None
    segments: list[Segment] = []
    for literal, field, spec, conversion in parts:
        if literal:
            segments.append(Segment(text=literal))
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            written = "{" + field + (f"!{conversion}" if conversion else "")
            written += (f":{spec}" if spec else "") + "}"
            raise UserError(
                "onboarding_placeholder_unknown",
                usage="onboarding",
                placeholder=written,
                known=list(PLACEHOLDERS),
            )
        segments.append(Segment(field=field))
    return segments


class OnboardingService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def first_welcome(self, community: Community, origin: Origin) -> bool:
        """Record that `origin.user` is welcomed to `community`; False when they were before
        (a platform re-sending the join, or someone leaving and joining the channel again)."""
        now = self._clock.now()
        statement = (
            insert_for(self._database.backend, Welcome)
            .values(community_id=community.id, user_id=origin.user, welcomed_at=now)
            .on_conflict_do_nothing(index_elements=["community_id", "user_id"])
        )
        async with self._database.session() as session:
            result = await session.exec(statement)
            first = bool(result.rowcount)
            if first:
                record(session, community, origin.user, "member.welcomed", now)
        return first

    async def text_of(self, community: Community) -> str | None:
        """The stewards' welcome text, or None for the standard one."""
        query = select(OnboardingText.text).where(OnboardingText.community_id == community.id)
        async with self._database.session() as session:
            return (await session.exec(query)).first()

    async def set_text(self, community: Community, origin: Origin, text: str) -> str:
        text = text.strip()
        if not text:
            raise UserError("onboarding_text_missing", usage="onboarding")
        if len(text) > TEXT_MAX:
            raise UserError("onboarding_text_too_long", usage="onboarding", limit=TEXT_MAX)
        parse_welcome(text)
        now = self._clock.now()
        assert community.id is not None
        async with self._database.session() as session:
            stored = await session.get(OnboardingText, community.id)
            if stored is None:
                stored = OnboardingText(community_id=community.id, text=text, updated_by="")
            stored.text, stored.updated_by, stored.updated_at = text, origin.user, now
            session.add(stored)
            record(session, community, origin.user, "onboarding.edited", now, length=len(text))
        return text

    async def wish_mentor(self, community: Community, origin: Origin) -> bool:
        """Record a wish for a peer mentor; False when it was recorded before."""
        now = self._clock.now()
        dialect = postgresql if self._database.backend == "postgresql" else sqlite
        statement = (
            dialect.insert(MentorRequest)  # type: ignore[attr-defined]
            .values(community_id=community.id, user_id=origin.user, requested_at=now)
            .on_conflict_do_nothing(index_elements=["community_id", "user_id"])
        )
        async with self._database.session() as session:
            result = await session.exec(statement)
            first = bool(result.rowcount)
            if first:
                record(session, community, origin.user, "mentor.requested", now)
        return first

    async def community_for(self, origin: Origin, community_id: int) -> Community | None:
        """Community `community_id` when it is in the origin's workspace (a button's value is
        only trusted that far)."""
        query = (
            select(Community)
            .join(Workspace, col(Workspace.id) == Community.workspace_id)
            .where(
                Community.id == community_id,
                Workspace.platform == origin.platform,
                Workspace.external_id == origin.workspace,
            )
        )
        async with self._database.session() as session:
            return (await session.exec(query)).first()
