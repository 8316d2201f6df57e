"""Row locks for transactions that check a rule and then write, so that concurrent requests
take turns instead of both passing the check (two last stewards leaving at once).

Use them inside `Database.session(write=True)`. PostgreSQL locks the row with
`FOR NO KEY UPDATE` (rows referring to it can still be inserted); SQLite renders no lock
clause, as its write session already holds the database's write lock."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import UserError
from storage.models import Community, Workspace

# Built once, each with its id bound per call: building a statement costs more than running it.
_COMMUNITY = select(Community).where(Community.id == bindparam("community"))
_LOCKED_COMMUNITY = _COMMUNITY.with_for_update(key_share=True)
_SHARED_COMMUNITY = _COMMUNITY.with_for_update(read=True)


async def lock_workspace(session: AsyncSession, workspace_id: int) -> Workspace:
    """The workspace, locked: set-ups in one workspace check names and channels in turn."""
    query = select(Workspace).where(Workspace.id == workspace_id).with_for_update(key_share=True)
    return (await session.exec(query)).one()


async def lock_community(session: AsyncSession, community_id: int | None) -> Community:
    """The community read afresh and locked: changes to its membership happen in turn."""
    return (await session.exec(_LOCKED_COMMUNITY, params={"community": community_id})).one()


async def lock_active_community(session: AsyncSession, community_id: int | None) -> Community:
    """Like `lock_community`, refusing a community archived meanwhile."""
    community = await lock_community(session, community_id)
    if community.archived_at is not None:
        raise UserError("community_archived", name=community.name)
    return community


async def share_active_community(session: AsyncSession, community_id: int | None) -> Community:
    """The community read afresh under a shared lock (`FOR SHARE` on PostgreSQL), refusing
    one archived meanwhile: joins run side by side, while a leave or an archive, which lock
    it as above, waits for them (and they for it)."""
    community = (await session.exec(_SHARED_COMMUNITY, params={"community": community_id})).one()
    if community.archived_at is not None:
        raise UserError("community_archived", name=community.name)
    return community
