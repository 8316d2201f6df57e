"""`forget me`: a person's data removed from every community of their workspace.

What is theirs alone goes (memberships, skills, RSVPs, rotation places, absences, welcomes,
mentor requests, helpful marks, stored conversations, kept posts, downloads). What counts
for everyone stays, with their id replaced by a pseudonym made at random for this one
forgetting (`forgotten-…`), which nothing links back to them: attendance, facilitated
meetings in the past, kudos, wins, shared resources, the activity log. Their votes in open
polls become the keyed hashes anonymous polls use, so every count stays the same."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

from sqlalchemy import String, cast, func, text, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.services.anonymity import VoterKeys
from bot.services.rotation import plan_facilitators
from bot.services.upcoming import local_day
from storage.database import Database
from storage.models import (
    Absence,
    Activity,
    Attendance,
    Community,
    ConversationReference,
    Delivery,
    Download,
    Expertise,
    ExpertiseTerm,
    FacilitatorPool,
    FacilitatorSkip,
    HealthDigest,
    HelpfulMark,
    Kudos,
    Member,
    MentorRequest,
    Occurrence,
    OnboardingText,
    PairGroup,
    PendingPost,
    Poll,
    PollVote,
    ProcessedEvent,
    Resource,
    Ritual,
    Role,
    Rsvp,
    Welcome,
    Win,
    Workspace,
)

PSEUDONYM_PREFIX = "forgotten-"
# The order the confirmation lists what was removed in.
KINDS = (
    "memberships",
    "skills",
    "rsvps",
    "attendance",
    "facilitation",
    "rotation",
    "absences",
    "pairing",
    "onboarding",
    "votes",
    "helpful_marks",
    "kudos",
    "wins",
    "resources",
    "polls",
    "activity",
    "conversations",
    "kept_posts",
    "downloads",
)


def pseudonym() -> str:
    """A stand-in for a forgotten person: random, so nothing leads back to them."""
    return PSEUDONYM_PREFIX + secrets.token_hex(6)


def scrub(value: Any, user_id: str, marker: str) -> Any:
    """JSON data with every mention of `user_id` in its strings replaced by `marker`."""
    if isinstance(value, str):
        return value.replace(user_id, marker)
    if isinstance(value, list):
        return [scrub(item, user_id, marker) for item in value]
    if isinstance(value, dict):
        return {
            scrub(key, user_id, marker): scrub(item, user_id, marker) for key, item in value.items()
        }
    return value


def _mentions(column: Any, user_id: str) -> ColumnElement[bool]:
    """Whether a text or JSON column mentions `user_id` anywhere (LIKE, escaped)."""
    return cast(column, String).contains(user_id, autoescape=True)


class ForgetService:
    """Removes one person's data from one workspace (Slack team, Teams tenant, console)."""

    def __init__(self, database: Database, clock: Clock, voter_keys: VoterKeys) -> None:
        self._database = database
        self._clock = clock
        self._voter_keys = voter_keys

    async def stewarded_alone(
        self, *, platform: str, workspace: str, user_id: str
    ) -> list[Community]:
        """The active communities of the workspace whose only steward is `user_id`: forgetting
        them leaves those without one (`forget me` says so before it is confirmed)."""
        steward = Member.__table__.alias("s")  # type: ignore[attr-defined]
        stewards = (
            select(func.count())
            .select_from(steward)
            .where(
                steward.c.community_id == Community.id,
                steward.c.role == Role.STEWARD,
                steward.c.active,
            )
            .scalar_subquery()
        )
        async with self._database.session() as session:
            found = await session.exec(
                select(Community)
                .join(Workspace, col(Workspace.id) == col(Community.workspace_id))
                .join(Member, col(Member.community_id) == col(Community.id))
                .where(
                    col(Workspace.platform) == platform,
                    col(Workspace.external_id) == workspace,
                    col(Community.archived_at).is_(None),
                    col(Member.user_id) == user_id,
                    col(Member.active),
                    col(Member.role) == Role.STEWARD,
                    stewards == 1,
                )
                .order_by(col(Community.name))
            )
            return list(found.all())

    async def forget(self, *, platform: str, workspace: str, user_id: str) -> dict[str, int]:
        """Forget `user_id` in the workspace; how many rows of each kind were removed or
        made anonymous (kinds with none are left out)."""
        # The voters' key is read (or made) first: inside the write transaction below a
        # second session would wait for the first on SQLite.
        await self._voter_keys.voter(0, "")
        marker = pseudonym()
        counts: Counter[str] = Counter()
        async with self._database.session(write=True) as session:
            found = (
                await session.exec(
                    select(Workspace.id).where(
                        col(Workspace.platform) == platform, col(Workspace.external_id) == workspace
                    )
                )
            ).first()
            if found is not None:
                forgetting = _Forgetting(session, found, user_id, marker, counts, self._clock)
                await forgetting.run(self._voter_keys)
            await _platform_records(session, platform, workspace, user_id, marker, counts)
        return {kind: counts[kind] for kind in KINDS if counts[kind]}


class _Forgetting:
    """One forgetting inside one transaction: the workspace's community data."""

    def __init__(
        self,
        session: AsyncSession,
        workspace_id: int,
        user_id: str,
        marker: str,
        counts: Counter[str],
        clock: Clock,
    ) -> None:
        self.session = session
        self.user = user_id
        self.marker = marker
        self.counts = counts
        self.now = clock.now()
        self.community_ids = select(Community.id).where(Community.workspace_id == workspace_id)
        self.rituals = select(Ritual.id).where(col(Ritual.community_id).in_(self.community_ids))
        self.occurrences = select(Occurrence.id).where(col(Occurrence.ritual_id).in_(self.rituals))
        self.resources = select(Resource.id).where(
            col(Resource.community_id).in_(self.community_ids)
        )
        self.workspace_id = workspace_id

    async def _run(self, statement: Any) -> int:
        result = await self.session.exec(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def _replace(self, model: Any, column: Any, scope: ColumnElement[bool]) -> int:
        """Replace the person's id with the marker wherever `column` holds exactly it."""
        return await self._run(
            update(model).where(scope, column == self.user).values({column.key: self.marker})
        )

    async def _replace_text(self, model: Any, columns: list[Any], scope: Any) -> int:
        """Mentions of the person's id inside free text become the marker; how many values
        changed."""
        changed = 0
        for column in columns:
            changed += await self._run(
                update(model)
                .where(scope, _mentions(column, self.user))
                .values({column.key: func.replace(column, self.user, self.marker)})
            )
        return changed

    async def run(self, voter_keys: VoterKeys) -> None:
        await self._membership()
        await self._rituals()
        await self._feedback(voter_keys)
        await self._library()
        await self._activity()
        await self._digests()

    async def _membership(self) -> None:
        in_workspace = col(Member.community_id).in_(self.community_ids)
        members = select(Member.id).where(in_workspace, col(Member.user_id) == self.user)
        skills = select(Expertise.id).where(col(Expertise.member_id).in_(members))
        await self._run(delete(ExpertiseTerm).where(col(ExpertiseTerm.expertise_id).in_(skills)))
        self.counts["skills"] += await self._run(
            delete(Expertise).where(col(Expertise.member_id).in_(members))
        )
        self.counts["memberships"] += await self._run(
            delete(Member).where(in_workspace, col(Member.user_id) == self.user)
        )
        absences = col(Absence.community_id).in_(self.community_ids)
        self.counts["absences"] += await self._run(
            delete(Absence).where(absences, col(Absence.user_id) == self.user)
        )
        await self._replace(Absence, col(Absence.set_by), absences)
        self.counts["onboarding"] += await self._run(
            delete(Welcome).where(
                col(Welcome.community_id).in_(self.community_ids), col(Welcome.user_id) == self.user
            )
        )
        self.counts["onboarding"] += await self._run(
            delete(MentorRequest).where(
                col(MentorRequest.community_id).in_(self.community_ids),
                col(MentorRequest.user_id) == self.user,
            )
        )
        await self._replace(
            OnboardingText,
            col(OnboardingText.updated_by),
            col(OnboardingText.community_id).in_(self.community_ids),
        )

    async def _rituals(self) -> None:
        occurrences = self.occurrences
        self.counts["rsvps"] += await self._run(
            delete(Rsvp).where(
                col(Rsvp.occurrence_id).in_(occurrences), col(Rsvp.user_id) == self.user
            )
        )
        attended = col(Attendance.occurrence_id).in_(occurrences)
        self.counts["attendance"] += await self._replace(
            Attendance, col(Attendance.user_id), attended
        )
        await self._replace(Attendance, col(Attendance.recorded_by), attended)
        self.counts["rotation"] += await self._run(
            delete(FacilitatorPool).where(
                col(FacilitatorPool.ritual_id).in_(self.rituals),
                col(FacilitatorPool.user_id) == self.user,
            )
        )
        self.counts["rotation"] += await self._run(
            delete(FacilitatorSkip).where(
                col(FacilitatorSkip.occurrence_id).in_(occurrences),
                col(FacilitatorSkip.user_id) == self.user,
            )
        )
        ours = col(Occurrence.ritual_id).in_(self.rituals)
        upcoming = ours & (col(Occurrence.starts_at) > self.now)
        theirs = (col(Occurrence.facilitator_id) == self.user) | (
            col(Occurrence.co_facilitator_id) == self.user
        )
        replan = set(
            (await self.session.exec(select(Occurrence.ritual_id).where(upcoming, theirs))).all()
        )
        # Meetings to come lose them as facilitator and the rotation plans them again
        # (they left its pool above); past ones keep a pseudonym, so "how many different
        # people facilitated" stays true.
        self.counts["facilitation"] += await self._run(
            update(Occurrence)
            .where(upcoming, col(Occurrence.facilitator_id) == self.user)
            .values(facilitator_id=None, facilitator_assigned=False, facilitator_confirmed=False)
        )
        self.counts["facilitation"] += await self._run(
            update(Occurrence)
            .where(upcoming, col(Occurrence.co_facilitator_id) == self.user)
            .values(co_facilitator_id=None)
        )
        for ritual_id in sorted(replan):
            ritual = await self.session.get(Ritual, ritual_id)
            assert ritual is not None
            coming = (
                await self.session.exec(
                    select(Occurrence).where(
                        col(Occurrence.ritual_id) == ritual_id, col(Occurrence.starts_at) > self.now
                    )
                )
            ).all()
            today = local_day(ritual, self.now)
            await plan_facilitators(self.session, ritual, list(coming), today=today)
        past = ours & (col(Occurrence.starts_at) <= self.now)
        self.counts["facilitation"] += await self._replace(
            Occurrence, col(Occurrence.facilitator_id), past
        )
        self.counts["facilitation"] += await self._replace(
            Occurrence, col(Occurrence.co_facilitator_id), past
        )
        await self._replace(
            Ritual, col(Ritual.created_by), col(Ritual.community_id).in_(self.community_ids)
        )
        await self._replace_text(
            Ritual,
            [col(Ritual.title), col(Ritual.agenda), col(Ritual.location)],
            col(Ritual.community_id).in_(self.community_ids),
        )
        pairs = (
            await self.session.exec(
                select(PairGroup).where(
                    col(PairGroup.occurrence_id).in_(occurrences),
                    _mentions(PairGroup.members, self.user),
                )
            )
        ).all()
        for pair in pairs:
            self.counts["pairing"] += 1
            others = [m for m in pair.members if m != self.user]
            if others:
                pair.members = scrub(others, self.user, self.marker)
                self.session.add(pair)
            else:
                await self.session.delete(pair)
        deliveries = (
            await self.session.exec(
                select(Delivery).where(
                    col(Delivery.occurrence_id).in_(occurrences),
                    _mentions(Delivery.message, self.user) | _mentions(Delivery.detail, self.user),
                )
            )
        ).all()
        for delivery in deliveries:
            delivery.message = scrub(delivery.message, self.user, self.marker)
            delivery.detail = delivery.detail.replace(self.user, self.marker)
            self.session.add(delivery)

    async def _feedback(self, voter_keys: VoterKeys) -> None:
        polls = col(Poll.community_id).in_(self.community_ids)
        self.counts["polls"] += await self._replace(Poll, col(Poll.created_by), polls)
        mentioned = (
            await self.session.exec(
                select(Poll).where(
                    polls, _mentions(Poll.question, self.user) | _mentions(Poll.options, self.user)
                )
            )
        ).all()
        for poll in mentioned:
            poll.question = poll.question.replace(self.user, self.marker)
            poll.options = scrub(poll.options, self.user, self.marker)
            self.session.add(poll)
        named = (
            await self.session.exec(
                select(PollVote.poll_id)
                .join(Poll, col(Poll.id) == PollVote.poll_id)
                .where(polls, col(Poll.anonymous).is_(False), col(PollVote.voter) == self.user)
                .distinct()
            )
        ).all()
        for poll_id in named:
            voter = await voter_keys.voter(poll_id, self.user)
            self.counts["votes"] += await self._run(
                update(PollVote)
                .where(col(PollVote.poll_id) == poll_id, col(PollVote.voter) == self.user)
                .values(voter=voter)
            )
        wins = col(Win.community_id).in_(self.community_ids)
        self.counts["wins"] += await self._replace(Win, col(Win.user_id), wins)
        await self._replace_text(Win, [col(Win.text)], wins)
        kudos = col(Kudos.community_id).in_(self.community_ids)
        self.counts["kudos"] += await self._replace(Kudos, col(Kudos.from_user), kudos)
        self.counts["kudos"] += await self._replace(Kudos, col(Kudos.to_user), kudos)
        await self._replace_text(Kudos, [col(Kudos.text)], kudos)

    async def _library(self) -> None:
        self.counts["helpful_marks"] += await self._run(
            delete(HelpfulMark).where(
                col(HelpfulMark.resource_id).in_(self.resources),
                col(HelpfulMark.user_id) == self.user,
            )
        )
        resources = col(Resource.community_id).in_(self.community_ids)
        self.counts["resources"] += await self._replace(
            Resource, col(Resource.shared_by), resources
        )
        changed = await self._replace_text(
            Resource,
            [
                col(Resource.title),
                col(Resource.note),
                col(Resource.summary),
                col(Resource.saved_text),
                col(Resource.search_text),
            ],
            resources,
        )
        # The search text is casefolded: the id may be in it that way too.
        folded = self.user.casefold()
        changed += await self._run(
            update(Resource)
            .where(resources, _mentions(Resource.search_text, folded))
            .values(search_text=func.replace(Resource.search_text, folded, self.marker))
        )
        if changed and self.session.bind is not None and self.session.bind.dialect.name == "sqlite":
            # FTS5 keeps deleted terms in old segments until they are merged.
            connection = await self.session.connection()
            await connection.execute(
                text("INSERT INTO library_search(library_search) VALUES ('optimize')")
            )
        sources = (
            await self.session.exec(
                select(Resource).where(
                    resources,
                    _mentions(Resource.source, self.user) | _mentions(Resource.links, self.user),
                )
            )
        ).all()
        for resource in sources:
            resource.source = scrub(resource.source, self.user, self.marker)
            resource.links = scrub(resource.links, self.user, self.marker)
            self.session.add(resource)

    async def _activity(self) -> None:
        ours = col(Activity.workspace_id) == self.workspace_id
        self.counts["activity"] += await self._replace(Activity, col(Activity.user_id), ours)
        rows = (
            await self.session.exec(
                select(Activity).where(ours, _mentions(Activity.detail, self.user))
            )
        ).all()
        for row in rows:
            row.detail = scrub(row.detail, self.user, self.marker)
            self.session.add(row)

    async def _digests(self) -> None:
        """Whom the monthly digests went to (kept so none is sent twice): their key becomes
        the pseudonym."""
        ours = col(HealthDigest.community_id).in_(self.community_ids)
        rows = (
            await self.session.exec(
                select(HealthDigest).where(ours, _mentions(HealthDigest.posts, self.user))
            )
        ).all()
        for row in rows:
            row.posts = scrub(row.posts, self.user, self.marker)
            self.session.add(row)


async def _platform_records(
    session: AsyncSession,
    platform: str,
    workspace: str,
    user_id: str,
    marker: str,
    counts: Counter[str],
) -> None:
    """What adapters keep about the person: stored conversations (their personal chat goes,
    other conversations forget them as last sender), posts kept for retry to or about them,
    redelivery ids naming them, and files waiting for them."""
    references = (
        await session.exec(
            select(ConversationReference).where(
                col(ConversationReference.platform) == platform,
                col(ConversationReference.workspace) == workspace,
                _mentions(ConversationReference.key, user_id)
                | _mentions(ConversationReference.reference, user_id),
            )
        )
    ).all()
    for row in references:
        counts["conversations"] += 1
        if user_id in row.key or row.kind == "personal":
            await session.delete(row)
            continue
        reference = dict(row.reference)
        if (reference.get("user") or {}).get("id") == user_id:
            reference["user"] = None
        row.reference = scrub(reference, user_id, marker)
        session.add(row)
    posts = (
        await session.exec(
            select(PendingPost).where(
                col(PendingPost.platform) == platform,
                col(PendingPost.workspace) == workspace,
                _mentions(PendingPost.payload, user_id) | _mentions(PendingPost.target, user_id),
            )
        )
    ).all()
    for post in posts:
        counts["kept_posts"] += 1
        to = post.payload.get("to") or {}
        if to.get("user") == user_id or (post.target or {}).get("channel") == "@" + user_id:
            await session.delete(post)  # a post to them: nobody else would see it
            continue
        post.payload = scrub(post.payload, user_id, marker)
        post.target = scrub(post.target, user_id, marker)
        session.add(post)
    await session.exec(
        delete(ProcessedEvent).where(
            col(ProcessedEvent.platform) == platform, _mentions(ProcessedEvent.event_id, user_id)
        )
    )
    result = await session.exec(
        delete(Download).where(
            col(Download.platform) == platform,
            col(Download.workspace) == workspace,
            col(Download.user_id) == user_id,
        )
    )
    counts["downloads"] += int(result.rowcount or 0)
