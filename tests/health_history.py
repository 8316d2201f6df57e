"""Test helpers: a community's history written as rows (meetings, who came, pulses, wins,
kudos, resources, activity), so health tests construct exactly the past they need."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.app import Core
from storage.models import (
    Activity,
    Attendance,
    Community,
    Kudos,
    Member,
    Occurrence,
    Poll,
    PollVote,
    Resource,
    Ritual,
    Role,
    Win,
)
from tests.ritual_rows import a_community, a_ritual

PULSE_OPTIONS = ["great", "useful", "meh", "not useful"]


class History:
    """`await History.start(core, now)`, then write the past with its methods."""

    def __init__(self, core: Core, community: Community, now: datetime) -> None:
        self.core = core
        self.community = community
        self.now = now
        self._rituals: dict[int, Ritual] = {}
        self._polls = 0
        self._resources = 0

    @classmethod
    async def start(
        cls,
        core: Core,
        now: datetime,
        *,
        members: dict[str, str] | None = None,
        since: timedelta = timedelta(days=400),
        platform: str = "test",
    ) -> History:
        """A community (created `since` before `now`) with `members` joined then."""
        community = await a_community(
            core.database,
            now=now - since,
            platform=platform,
            members=members or {"alice": Role.STEWARD, "kai": Role.SPONSOR, "bob": Role.CORE},
        )
        return cls(core, community, now)

    async def ritual(self, number: int = 1, *, rotate: bool = False, title: str = "") -> Ritual:
        ritual = await a_ritual(
            self.core.database,
            self.community,
            now=self.now - timedelta(days=400),
            number=number,
            rotate=rotate,
            title=title or f"Ritual {number}",
        )
        self._rituals[number] = ritual
        return ritual

    async def member(self, user: str, *, days_ago: float, role: str = Role.MEMBER) -> None:
        async with self.core.database.session() as session:
            session.add(
                Member(
                    community_id=self.community.id,
                    user_id=user,
                    display_name=user.title(),
                    role=role,
                    joined_at=self.now - timedelta(days=days_ago),
                )
            )

    async def meeting(
        self,
        *,
        days_ago: float,
        came: list[str] | int = 0,
        ritual: int = 1,
        facilitator: str | None = None,
        pulse: list[int] | None = None,
        status: str = "scheduled",
    ) -> Occurrence:
        """A meeting of ritual #`ritual` `days_ago` (negative: ahead), who came (names, or
        a number of made-up people), who led it, and its pulse votes (options 1 to 4)."""
        if ritual not in self._rituals:
            await self.ritual(ritual)
        starts = self.now - timedelta(days=days_ago)
        people = [f"guest{i}" for i in range(came)] if isinstance(came, int) else list(came)
        async with self.core.database.session() as session:
            occurrence = Occurrence(
                ritual_id=self._rituals[ritual].id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                recurrence_id=starts.strftime("%Y%m%dT%H%M%S"),
                status=status,
                facilitator_id=facilitator,
            )
            session.add(occurrence)
            await session.flush()
            for person in people:
                session.add(
                    Attendance(
                        occurrence_id=occurrence.id,
                        user_id=person,
                        recorded_by="alice",
                        at=starts + timedelta(hours=2),
                    )
                )
            if pulse is not None:
                self._polls += 1
                poll = Poll(
                    community_id=self.community.id,
                    number=self._polls,
                    question="How was it?",
                    options=PULSE_OPTIONS,
                    anonymous=True,
                    created_by="copbot",
                    created_at=starts + timedelta(hours=1),
                    occurrence_id=occurrence.id,
                )
                session.add(poll)
                await session.flush()
                for index, option in enumerate(pulse):
                    session.add(
                        PollVote(
                            poll_id=poll.id,
                            voter=f"h:{occurrence.id}:{index}",
                            option=option,
                            chosen=True,
                            at=starts + timedelta(hours=1, minutes=index),
                        )
                    )
        return occurrence

    async def vote(
        self, occurrence: Occurrence, voter: str, option: int, *, chosen: bool, minutes: int
    ) -> None:
        """A pulse vote row as of `minutes` after the meeting began."""
        async with self.core.database.session() as session:
            poll = (
                await session.exec(select(Poll).where(Poll.occurrence_id == occurrence.id))
            ).one()
            session.add(
                PollVote(
                    poll_id=poll.id,
                    voter=voter,
                    option=option,
                    chosen=chosen,
                    at=occurrence.starts_at + timedelta(minutes=minutes),
                )
            )

    async def win(self, user: str, *, days_ago: float) -> None:
        async with self.core.database.session() as session:
            session.add(
                Win(
                    community_id=self.community.id,
                    user_id=user,
                    text="shipped it",
                    created_at=self.now - timedelta(days=days_ago),
                )
            )

    async def kudos(self, user: str, to: str, *, days_ago: float) -> None:
        async with self.core.database.session() as session:
            session.add(
                Kudos(
                    community_id=self.community.id,
                    from_user=user,
                    to_user=to,
                    text="thanks",
                    created_at=self.now - timedelta(days=days_ago),
                )
            )

    async def resource(self, user: str, *, days_ago: float, status: str = "published") -> None:
        self._resources += 1
        async with self.core.database.session() as session:
            session.add(
                Resource(
                    community_id=self.community.id,
                    number=self._resources,
                    title=f"Resource {self._resources}",
                    shared_by=user,
                    status=status,
                    created_at=self.now - timedelta(days=days_ago),
                )
            )

    async def activity(self, user: str, *, days_ago: float, action: str = "member.joined") -> None:
        async with self.core.database.session() as session:
            session.add(
                Activity(
                    workspace_id=self.community.workspace_id,
                    community_id=self.community.id,
                    user_id=user,
                    action=action,
                    detail={},
                    at=self.now - timedelta(days=days_ago),
                )
            )
