"""What the database says about communities, for tests to check after driving an adapter."""

from __future__ import annotations

from sqlmodel import col, select

from bot.app import Core
from storage.models import Member


async def members_of(core: Core) -> dict[str, str]:
    """Every active membership as user id -> role."""
    async with core.database.session() as session:
        rows = (await session.exec(select(Member).where(col(Member.active)))).all()
    return {m.user_id: m.role for m in rows}
