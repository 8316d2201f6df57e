"""Test helpers: a community and its rituals as rows (the `ritual` commands come from
another branch), and a chat platform that records what the core posts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.outbox import MessageGone, NotPosted
from bot.replies import Destination, MessageRef, Reply
from rituals.schedule import Schedule, parse_schedule
from storage.database import Database
from storage.models import Community, Delivery, Member, Occurrence, Ritual, Role, Workspace

AGENDA = "Frame the topic\nWalk through it\nQuestions"


async def a_community(
    database: Database,
    *,
    platform: str = "test",
    workspace: str = "W1",
    channel: str = "C1",
    name: str = "Data Science",
    now: datetime,
    members: dict[str, str] | None = None,
) -> Community:
    """A community bound to `channel`, with `members` (user id -> role; default a steward)."""
    async with database.session() as session:
        found = (
            await session.exec(
                select(Workspace).where(
                    Workspace.platform == platform, Workspace.external_id == workspace
                )
            )
        ).first()
        if found is None:
            found = Workspace(platform=platform, external_id=workspace, created_at=now)
            session.add(found)
            await session.flush()
        assert found.id is not None
        community = Community(
            workspace_id=found.id,
            name=name,
            name_key=name.casefold(),
            channel_id=channel,
            channel_name=channel.lower(),
            created_at=now,
        )
        session.add(community)
        await session.flush()
        assert community.id is not None
        for user, role in (members or {"alice": Role.STEWARD}).items():
            session.add(
                Member(
                    community_id=community.id,
                    user_id=user,
                    display_name=user.title(),
                    role=role,
                    joined_at=now,
                )
            )
    return community


async def a_ritual(
    database: Database,
    community: Community,
    *,
    now: datetime,
    phrase: str | None = None,
    schedule: Schedule | None = None,
    number: int = 1,
    title: str = "Deep dive",
    template: str = "deep-dive",
    reminders: list[int] | None = None,
    rotate: bool = False,
    location: str = "https://meet.example.org/ds",
    duration: int = 60,
    zone: str = "Europe/Berlin",
) -> Ritual:
    """A ritual as the `ritual add` command would store it."""
    if schedule is None:
        schedule = parse_schedule(
            phrase or "every week on tue at 15:00", default_zone=zone, now=now
        )
    assert community.id is not None
    ritual = Ritual(
        community_id=community.id,
        number=number,
        template=template,
        title=title,
        agenda=AGENDA,
        location=location,
        schedule=schedule.to_json(),
        duration_minutes=duration,
        reminders=[60] if reminders is None else reminders,
        rotate=rotate,
        uid=f"r{community.id}-{number}@copbot.test",
        created_by="alice",
        created_at=now,
        updated_at=now,
    )
    async with database.session() as session:
        session.add(ritual)
    return ritual


async def deliveries(database: Database) -> list[Delivery]:
    async with database.session() as session:
        found = await session.exec(select(Delivery).order_by(Delivery.due_at, Delivery.kind))
        return list(found.all())


async def first_rows(database: Database) -> dict[str, Delivery]:
    """kind -> row, for the soonest meeting."""
    rows = await deliveries(database)
    async with database.session() as session:
        first = (
            await session.exec(select(Occurrence.id).order_by(col(Occurrence.starts_at)))
        ).first()
    return {d.kind: d for d in rows if d.occurrence_id == first}


async def outcomes(database: Database) -> dict[str, str]:
    """kind -> outcome, for the soonest meeting."""
    return {kind: row.outcome for kind, row in (await first_rows(database)).items()}


class RecordingPlatform:
    """A chat platform that records posts and edits; `finds` makes it able to look posts up
    by key (like Slack), `refuse` / `break_next` make sends fail definitely / ambiguously."""

    def __init__(self, name: str = "test", *, finds: bool = False) -> None:
        self.platform = name
        self.sent: list[Reply] = []
        self.updated: list[tuple[MessageRef, Reply]] = []
        self.refuse = 0
        self.break_next = 0
        self.lookups: list[str] = []
        if finds:
            self.find = self._find  # type: ignore[method-assign]

    def _ref(self, reply: Reply, number: int) -> MessageRef:
        to = reply.to
        assert to is not None
        return MessageRef(
            platform=self.platform,
            workspace=to.workspace,
            channel=to.channel or "@" + (to.user or ""),
            message_id=f"m{number}",
        )

    async def send(self, reply: Reply) -> MessageRef:
        if self.refuse:
            self.refuse -= 1
            raise NotPosted("refused")
        self.sent.append(reply)
        if self.break_next:
            self.break_next -= 1
            raise ConnectionResetError("the answer was lost")
        return self._ref(reply, len(self.sent))

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        if not ref.message_id.startswith("m"):
            raise MessageGone(ref.message_id)
        self.updated.append((ref, reply))

    async def delete(self, ref: MessageRef) -> None:
        raise MessageGone(ref.message_id)

    async def _find(self, key: str, to: Destination, since: datetime) -> MessageRef | None:
        self.lookups.append(key)
        for number, reply in enumerate(self.sent, start=1):
            if reply.key == key and reply.to == to:
                return self._ref(reply, number)
        return None

    def kinds(self) -> list[str]:
        return [reply.kind for reply in self.sent]


def in_minutes(now: datetime, minutes: float) -> dict[str, Any]:
    """A one-off schedule (to the second) `minutes` from `now`, in UTC."""
    start = (now + timedelta(minutes=minutes)).replace(tzinfo=None, microsecond=0)
    return {"schedule": Schedule(start=start, zone="UTC"), "zone": "UTC"}
