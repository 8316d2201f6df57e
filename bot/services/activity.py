"""The activity log: one row per thing that happened, for analytics later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity


def record(
    session: AsyncSession,
    *,
    workspace_id: int,
    community_id: int | None,
    user_id: str,
    action: str,
    at: datetime,
    **detail: Any,
) -> None:
    """Add an activity row to the session's transaction."""
    session.add(
        Activity(
            workspace_id=workspace_id,
            community_id=community_id,
            user_id=user_id,
            action=action,
            detail=detail,
            at=at,
        )
    )
