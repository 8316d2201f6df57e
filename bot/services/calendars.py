"""The unguessable link of each community's calendar feed."""

from __future__ import annotations

import secrets

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CommunityCalendar


async def calendar_secret(session: AsyncSession, community_id: int) -> str:
    """The secret in the community's feed URL, made on first use (once, even when two
    processes ask at the same moment)."""
    query = select(CommunityCalendar.secret).where(CommunityCalendar.community_id == community_id)
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.exec(
        dialect.insert(CommunityCalendar)  # type: ignore[attr-defined]
        .values(community_id=community_id, secret=secrets.token_urlsafe(24))
        .on_conflict_do_nothing(index_elements=["community_id"])
    )
    return (await session.exec(query)).one()


async def calendar_secrets(session: AsyncSession, community_ids: set[int]) -> dict[int, str]:
    """`calendar_secret` for many communities in three statements (reminders to many)."""
    query = select(CommunityCalendar.community_id, CommunityCalendar.secret).where(
        col(CommunityCalendar.community_id).in_(community_ids)
    )
    found = dict((await session.exec(query)).all())
    missing = community_ids - set(found)
    if missing:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.exec(
            dialect.insert(CommunityCalendar)  # type: ignore[attr-defined]
            .values([{"community_id": c, "secret": secrets.token_urlsafe(24)} for c in missing])
            .on_conflict_do_nothing(index_elements=["community_id"])
        )
        found = dict((await session.exec(query)).all())
    return found


def feed_url(public_url: str, secret: str) -> str:
    """The community's feed: `<COPBOT_PUBLIC_URL>/calendar/<secret>.ics`."""
    return f"{public_url.rstrip('/')}/calendar/{secret}.ics"


def occurrence_url(public_url: str, secret: str, occurrence_id: int) -> str:
    """One meeting's .ics (an "Add to calendar" link)."""
    return f"{public_url.rstrip('/')}/calendar/{secret}/{occurrence_id}.ics"
