"""Many communities loaded in bulk (not through commands), for statement-count tests and the
scale benchmark: each with its members and their skills, made findable as `skills` would."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlmodel import col, select

from storage.database import Database
from storage.models import Community, Expertise, ExpertiseTerm, Member, Workspace
from storage.search_terms import terms_of

SKILLS = (
    "Python", "SQL", "machine learning", "forecasting", "dbt", "Kubernetes", "Go", "Rust",
    "time-series forecasting", "statistics", "product discovery", "UX research", "Terraform",
    "data visualisation", "accessibility", "TypeScript", "React", "incident response",
    "observability", "PostgreSQL", "Spark", "Airflow", "causal inference", "A/B testing",
)  # fmt: skip
CHUNK = 2000
WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def workspace_id(database: Database, platform: str, external_id: str) -> int:
    """The id of a workspace, created if it does not exist yet."""
    async with database.engine.begin() as session:
        query = select(Workspace.id).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
        found = (await session.execute(query)).scalar()
        if found is not None:
            return int(found)
        await session.execute(
            insert(Workspace).values(platform=platform, external_id=external_id, created_at=WHEN)
        )
        return int((await session.execute(query)).scalar_one())


async def _insert(database: Database, table: type, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with database.engine.begin() as session:
            await session.execute(insert(table), rows[start : start + CHUNK])


async def seed(
    database: Database,
    workspace: int,
    count: int,
    *,
    members: int = 10,
    skills: int = 3,
    prefix: str = "bulk",
) -> None:
    """`count` communities in `workspace`, channels `<prefix>-<n>`, with `members` members
    each (user ids shared across communities, as people join several) and `skills` skills."""
    await _insert(
        database,
        Community,
        [
            {
                "workspace_id": workspace,
                "name": f"{prefix} {n:05d}",
                "name_key": f"{prefix} {n:05d}",
                "kind": "cop",
                "domain": "",
                "mission": "",
                "channel_id": f"{prefix}-{n}",
                "channel_name": f"{prefix}-{n}",
                "timezone": "UTC",
                "created_at": WHEN,
            }
            for n in range(count)
        ],
    )
    ours = (col(Community.workspace_id) == workspace) & col(Community.channel_id).startswith(
        f"{prefix}-"
    )
    async with database.engine.begin() as session:
        ids = (
            (await session.execute(select(Community.id).where(ours).order_by(col(Community.id))))
            .scalars()
            .all()
        )
    await _insert(
        database,
        Member,
        [
            {
                "community_id": community_id,
                "user_id": f"U{(n * 7 + m) % 5000:05d}",
                "display_name": f"person {(n * 7 + m) % 5000}",
                "role": "steward" if m == 0 else "member",
                "active": True,
                "joined_at": WHEN,
            }
            for n, community_id in enumerate(ids)
            for m in range(members)
        ],
    )
    async with database.engine.begin() as session:
        people = (
            await session.execute(
                select(Member.id, Member.community_id)
                .join(Community, col(Community.id) == Member.community_id)
                .where(ours)
            )
        ).all()
    await _insert(
        database,
        Expertise,
        [
            {
                "member_id": member_id,
                "tag": SKILLS[(member_id + s * 5) % len(SKILLS)].casefold(),
                "label": SKILLS[(member_id + s * 5) % len(SKILLS)],
            }
            for member_id, _ in people
            for s in range(skills)
        ],
    )
    community_of = dict(people)
    async with database.engine.begin() as session:
        saved = (
            await session.execute(
                select(Expertise.id, Expertise.member_id, Expertise.tag)
                .join(Member, col(Member.id) == Expertise.member_id)
                .join(Community, col(Community.id) == Member.community_id)
                .where(ours)
            )
        ).all()
    await _insert(
        database,
        ExpertiseTerm,
        [
            {
                "expertise_id": expertise_id,
                "workspace_id": workspace,
                "community_id": community_of[member_id],
                "term": term,
            }
            for expertise_id, member_id, tag in saved
            for term in sorted(terms_of(tag))
        ],
    )
