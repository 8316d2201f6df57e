"""The activity log: one row per thing that happened, for analytics later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, Community


def record(
    session: AsyncSession,
    community: Community,
    user_id: str,
    action: str,
    at: datetime,
    **detail: Any,
) -> None:
    """Add an activity row about `community` to the session's transaction."""
    session.add(
        Activity(
            workspace_id=community.workspace_id,
            community_id=community.id,
            user_id=user_id,
            action=action,
            detail=detail,
            at=at,
        )
    )
