"""Polls: creating them, counting votes exactly, closing them once.

A vote is kept per (poll, voter, option) as "chosen or not, as of the time of the latest
event about it", written with an upsert that only a newer event can change. So the tally
is the same whatever order reactions arrive in, however often one is delivered, and however
many arrive at once. With one choice per person (not `multi`), a person's vote is the
chosen option they chose last: adding a second reaction moves the vote, taking it back
returns the vote to the reaction still there."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Update,
    distinct,
    exists,
    false,
    func,
    literal,
    true,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import MessageRef, Origin, ReactionChanged
from bot.services.activity import record
from bot.services.anonymity import VoterKeys
from storage.database import Database, insert_for
from storage.models import Activity, Community, Poll, PollVote, UTCDateTime, Workspace

# Slack's emoji for the options, in order; a reaction with one of these names is a vote.
OPTION_REACTIONS = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "keycap_ten",
)
MIN_OPTIONS, MAX_OPTIONS = 2, len(OPTION_REACTIONS)
QUESTION_MAX = 300
OPTION_MAX = 100
SHORTEST_OPEN = timedelta(minutes=1)
LONGEST_OPEN = timedelta(days=90)
FACTS_KEPT = 1000  # posted polls whose facts a process remembers
NUMBER_ATTEMPTS = 5  # tries to take the next #number when others take it at the same time
_STEP = timedelta(microseconds=1)
_CLOSES = re.compile(
    r"(?:(?P<w>\d{1,2})w)?(?:(?P<d>\d{1,3})d)?(?:(?P<h>\d{1,4})h)?(?:(?P<m>\d{1,6})m)?"
)


def parse_closes(text: str) -> timedelta:
    """How long a poll stays open: `2d`, `1w`, `3h`, `90m`, `1d12h`."""
    compact = "".join(text.lower().split())
    match = _CLOSES.fullmatch(compact) if compact else None
    if match is None:
        raise UserError("poll_closes_unreadable", usage="poll", text=text.strip())
    length = timedelta(
        weeks=int(match["w"] or 0),
        days=int(match["d"] or 0),
        hours=int(match["h"] or 0),
        minutes=int(match["m"] or 0),
    )
    if not SHORTEST_OPEN <= length <= LONGEST_OPEN:
        raise UserError(
            "poll_closes_out_of_range", usage="poll", text=text.strip(), longest="90 days"
        )
    return length


@dataclass(frozen=True, kw_only=True)
class PollDraft:
    """A poll as typed, before it is checked."""

    question: str
    options: tuple[str, ...]
    anonymous: bool = False
    hidden: bool = False
    multi: bool = False
    closes_in: timedelta | None = None

    def validated(self) -> PollDraft:
        question = " ".join(self.question.split())
        options = tuple(" ".join(option.split()) for option in self.options)
        if not question:
            raise UserError("poll_question_missing", usage="poll")
        if len(question) > QUESTION_MAX:
            raise UserError("poll_question_too_long", usage="poll", limit=QUESTION_MAX)
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS or not all(options):
            raise UserError(
                "poll_option_count",
                usage="poll",
                given=len([o for o in options if o]),
                least=MIN_OPTIONS,
                most=MAX_OPTIONS,
            )
        seen: set[str] = set()
        for option in options:
            if len(option) > OPTION_MAX:
                raise UserError(
                    "poll_option_too_long", usage="poll", option=option[:20], limit=OPTION_MAX
                )
            if option.casefold() in seen:
                raise UserError("poll_option_twice", usage="poll", option=option)
            seen.add(option.casefold())
        return PollDraft(
            question=question,
            options=options,
            anonymous=self.anonymous,
            hidden=self.hidden,
            multi=self.multi,
            closes_in=self.closes_in,
        )


@dataclass(frozen=True, kw_only=True)
class Tally:
    """Votes per option (in the options' order) and how many people voted."""

    counts: tuple[int, ...]
    voters: int


@dataclass(frozen=True, kw_only=True)
class PollView:
    """A poll with its current tally."""

    poll: Poll
    tally: Tally

    @property
    def ref(self) -> MessageRef | None:
        return message_ref(self.poll)


@dataclass(frozen=True, kw_only=True)
class PollFacts:
    """What never changes about a posted poll (whether it is open does)."""

    id: int
    number: int
    options: int
    anonymous: bool
    hidden: bool
    community_id: int
    workspace_id: int


@dataclass(frozen=True, kw_only=True)
class Choice:
    """What a person has chosen in a poll after pressing or typing a vote."""

    poll: Poll
    options: tuple[int, ...]  # numbered from 1; empty when they took their vote back


def message_ref(poll: Poll) -> MessageRef | None:
    """The posted poll's ref, when it was posted."""
    if not (poll.message_platform and poll.message_workspace and poll.message_channel):
        return None
    if not poll.message_id:
        return None
    return MessageRef(
        platform=poll.message_platform,
        workspace=poll.message_workspace,
        enterprise=poll.message_enterprise,
        channel=poll.message_channel,
        message_id=poll.message_id,
        thread=poll.message_thread,
    )


def option_of_reaction(reaction: str) -> int | None:
    """The option number a reaction stands for (`one` is 1), or None."""
    return OPTION_REACTIONS.index(reaction) + 1 if reaction in OPTION_REACTIONS else None


def current_choices(rows: Sequence[tuple[str, int, datetime]], multi: bool) -> dict[str, list[int]]:
    """Chosen (voter, option, at) rows as each voter's vote: every chosen option with
    `multi`, otherwise the one chosen last (the lower number when two tie)."""
    by_voter: dict[str, list[tuple[datetime, int]]] = {}
    for voter, option, at in rows:
        by_voter.setdefault(voter, []).append((at, -option))
    if multi:
        return {v: sorted(-o for _, o in chosen) for v, chosen in by_voter.items()}
    return {v: [-max(chosen)[1]] for v, chosen in by_voter.items()}


class PollService:
    """Owns polls and their votes; every vote is an idempotent upsert."""

    def __init__(self, database: Database, clock: Clock, keys: VoterKeys) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._facts: OrderedDict[tuple[str, str, str, str], PollFacts] = OrderedDict()

    # Creating and finding ----------------------------------------------------------------

    async def create(self, community: Community, origin: Origin, draft: PollDraft) -> Poll:
        """A new poll with the community's next number."""
        return await self._numbered(community, draft.validated(), creator=origin.user)

    async def pulse(
        self, community: Community, occurrence_id: int, draft: PollDraft, *, creator: str = ""
    ) -> Poll:
        """The pulse poll of meeting `occurrence_id`: made the first time it is asked for,
        the same poll after that (a retried delivery, another process)."""
        return await self._numbered(
            community, draft.validated(), creator=creator, occurrence_id=occurrence_id
        )

    async def _numbered(
        self,
        community: Community,
        draft: PollDraft,
        *,
        creator: str,
        occurrence_id: int | None = None,
    ) -> Poll:
        """A new poll with the community's next number (tried again when another poll took
        the number meanwhile). For a meeting's pulse, the meeting's poll if it has one."""
        assert community.id is not None
        for attempt in range(NUMBER_ATTEMPTS):
            now = self._clock.now()
            try:
                async with self._database.session() as session:
                    if occurrence_id is not None:
                        found = (
                            await session.exec(
                                select(Poll).where(Poll.occurrence_id == occurrence_id)
                            )
                        ).first()
                        if found is not None:
                            return found
                    highest = (
                        await session.exec(
                            select(func.max(Poll.number)).where(Poll.community_id == community.id)
                        )
                    ).one()
                    poll = Poll(
                        community_id=community.id,
                        number=(highest or 0) + 1,
                        question=draft.question,
                        options=list(draft.options),
                        anonymous=draft.anonymous,
                        hidden=draft.hidden,
                        multi=draft.multi,
                        created_by=creator,
                        created_at=now,
                        closes_at=now + draft.closes_in if draft.closes_in else None,
                        occurrence_id=occurrence_id,
                    )
                    session.add(poll)
                    await session.flush()
                    meeting = {} if occurrence_id is None else {"occurrence": occurrence_id}
                    record(
                        session,
                        community,
                        creator,
                        "poll.created",
                        now,
                        poll=poll.number,
                        options=len(draft.options),
                        anonymous=draft.anonymous,
                        **meeting,
                    )
                    return poll
            except IntegrityError:  # the number (or the meeting's pulse) was taken meanwhile
                if attempt == NUMBER_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def pulse_of(self, occurrence_id: int) -> Poll | None:
        """The pulse poll of meeting `occurrence_id`, once it was made."""
        async with self._database.session() as session:
            return (
                await session.exec(select(Poll).where(Poll.occurrence_id == occurrence_id))
            ).first()

    async def attach_message(self, poll: Poll, ref: MessageRef | None) -> None:
        """Remember where the poll was posted (None: forget it, the message is gone)."""
        values = {
            "message_platform": ref.platform if ref else None,
            "message_workspace": ref.workspace if ref else None,
            "message_enterprise": ref.enterprise if ref else None,
            "message_channel": ref.channel if ref else None,
            "message_id": ref.message_id if ref else None,
            "message_thread": ref.thread if ref else None,
        }
        async with self._database.session() as session:
            await session.exec(update(Poll).where(col(Poll.id) == poll.id).values(**values))
        for name, value in values.items():
            setattr(poll, name, value)

    async def by_number(self, community: Community, number: int) -> Poll:
        query = select(Poll).where(Poll.community_id == community.id, Poll.number == number)
        async with self._database.session() as session:
            poll = (await session.exec(query)).first()
        if poll is None:
            raise UserError("poll_unknown", number=number)
        return poll

    async def get(self, poll_id: int) -> Poll | None:
        async with self._database.session() as session:
            return await session.get(Poll, poll_id)

    async def in_workspace_of(self, origin: Origin, poll_id: int) -> Poll | None:
        """Poll `poll_id` when it belongs to the origin's workspace (a button's value is
        only trusted that far)."""
        query = (
            select(Poll)
            .join(Community, col(Community.id) == Poll.community_id)
            .join(Workspace, col(Workspace.id) == Community.workspace_id)
            .where(
                Poll.id == poll_id,
                Workspace.platform == origin.platform,
                Workspace.external_id == origin.workspace,
            )
        )
        async with self._database.session() as session:
            return (await session.exec(query)).first()

    # Voting ------------------------------------------------------------------------------

    async def react(self, event: ReactionChanged, *, added: bool) -> PollFacts | None:
        """A reaction on a posted poll as a vote; None when it is not one (not a poll, not
        an option's emoji, an anonymous or closed poll)."""
        option = option_of_reaction(event.reaction)
        if option is None:
            return None
        facts = await self._facts_of(event.message)
        if facts is None or facts.anonymous or option > facts.options:
            return None
        at = event.at or self._clock.now()
        # A write session: on a SQLite file it runs on the event loop's thread, taking turns
        # with this process's other writers (the event ledger's) instead of sleeping in
        # SQLite's busy handler on aiosqlite's thread.
        async with self._database.session(write=True) as session:
            if not await self._set(
                session, facts.id, event.origin.user, option, added, at, only_open=True
            ):
                return None  # nothing new (a copy, an older event) or the poll is closed
            # The activity log's row, as record() writes it, from what is known already.
            session.add(
                Activity(
                    workspace_id=facts.workspace_id,
                    community_id=facts.community_id,
                    user_id=event.origin.user,
                    action="poll.voted",
                    detail={"poll": facts.number, "option": option, "chosen": added},
                    at=self._clock.now(),
                )
            )
        return facts

    async def _facts_of(self, ref: MessageRef) -> PollFacts | None:
        """What never changes about the poll posted as `ref` (None: not a poll), remembered
        per process so that a burst of reactions costs no lookup each."""
        key = (ref.platform, ref.workspace, ref.channel, ref.message_id)
        facts = self._facts.get(key)
        if facts is not None:
            self._facts.move_to_end(key)
            return facts
        query = (
            sa_select(
                col(Poll.id),
                col(Poll.number),
                col(Poll.options),
                col(Poll.anonymous),
                col(Poll.hidden),
                col(Poll.community_id),
                col(Community.workspace_id),
            )
            .join(Community, col(Community.id) == Poll.community_id)
            .where(
                col(Poll.message_channel) == ref.channel,
                col(Poll.message_id) == ref.message_id,
                col(Poll.message_platform) == ref.platform,
                col(Poll.message_workspace) == ref.workspace,
            )
        )
        async with self._database.session() as session:
            # sqlmodel's exec() is typed for up to four columns; it runs any select.
            found = (await session.exec(query)).first()  # type: ignore[call-overload]
        if found is None:
            return None  # not remembered: the poll's ref may be about to be stored
        poll_id, number, options, anonymous, hidden, community_id, workspace_id = found
        assert poll_id is not None
        facts = PollFacts(
            id=poll_id,
            number=number,
            options=len(options),
            anonymous=anonymous,
            hidden=hidden,
            community_id=community_id,
            workspace_id=workspace_id,
        )
        self._facts[key] = facts
        if len(self._facts) > FACTS_KEPT:
            self._facts.popitem(last=False)
        return facts

    async def choose(self, poll: Poll, origin: Origin, option: int) -> Choice:
        """A pressed or typed vote for `option`: chosen, or taken back when it was already
        chosen; with one choice per person, choosing another moves the vote."""
        if not 1 <= option <= len(poll.options):
            raise UserError(
                "poll_option_unknown", number=poll.number, option=option, most=len(poll.options)
            )
        assert poll.id is not None
        voter = await self._keys.voter(poll.id, origin.user) if poll.anonymous else origin.user
        now = self._clock.now()
        async with self._database.session() as session:
            fresh = await session.get(Poll, poll.id)
            community = await session.get(Community, poll.community_id)
            assert fresh is not None and community is not None
            if fresh.closed_at is not None:
                raise UserError("poll_closed", number=poll.number)
            rows = (
                await session.exec(
                    select(PollVote.option, PollVote.chosen, PollVote.at).where(
                        PollVote.poll_id == poll.id, PollVote.voter == voter
                    )
                )
            ).all()
            # Presses are handled as they come, but a reaction's time is the platform's and
            # may run ahead of this clock: a press must still count as later. An anonymous
            # vote keeps no time of day (it could be matched with who was active then), only
            # its order: the poll's start plus a step per change.
            start = poll.created_at if poll.anonymous else now
            at = max([start, *(row_at + _STEP for _, _, row_at in rows)])
            chosen = {o for o, c, _ in rows if c}
            if poll.multi:
                changes = {option: option not in chosen}
                after = sorted((chosen - {option}) | ({option} if changes[option] else set()))
            else:
                mine = current_choices([(voter, o, a) for o, c, a in rows if c], multi=False)
                if mine.get(voter) == [option]:  # pressing your vote again takes it back
                    changes, after = dict.fromkeys(chosen, False), []
                else:
                    changes = {**dict.fromkeys(chosen, False), option: True}
                    after = [option]
            for number, value in changes.items():
                await self._set(session, poll.id, voter, number, value, at)
            record(
                session,
                community,
                "" if poll.anonymous else origin.user,  # an anonymous vote names nobody
                "poll.voted",
                now,
                poll=poll.number,
                **({} if poll.anonymous else {"option": option, "chosen": option in after}),
            )
        return Choice(poll=poll, options=tuple(after))

    async def _set(
        self,
        session: AsyncSession,
        poll_id: int,
        voter: str,
        option: int,
        chosen: bool,
        at: datetime,
        *,
        only_open: bool = False,
    ) -> bool:
        """Record (voter, option) as chosen or not as of `at`, unless a later event is
        recorded already (at the same instant, taking back wins); with `only_open`, only
        while the poll is open, checked in the same statement. True when it changed."""
        row = sa_select(
            literal(poll_id, Integer()),
            literal(voter, String()),
            literal(option, Integer()),
            literal(chosen, Boolean()),
            literal(at, UTCDateTime()),
        )
        is_open = exists().where(col(Poll.id) == poll_id, col(Poll.closed_at).is_(None))
        # SQLite reads `INSERT … SELECT … ON CONFLICT` only with a WHERE in the SELECT.
        row = row.where(is_open if only_open else true())
        insert = insert_for(self._database.backend, PollVote).from_select(
            ["poll_id", "voter", "option", "chosen", "at"], row
        )
        newer = (col(PollVote.at) < insert.excluded.at) | (
            (col(PollVote.at) == insert.excluded.at)
            & (insert.excluded.chosen == false())
            & (col(PollVote.chosen) == true())
        )
        statement = insert.on_conflict_do_update(
            index_elements=["poll_id", "voter", "option"],
            set_={"chosen": insert.excluded.chosen, "at": insert.excluded.at},
            where=(newer & is_open) if only_open else newer,
        )
        result = await session.exec(statement)
        return bool(result.rowcount)

    # Counting and closing ----------------------------------------------------------------

    async def tally(self, poll: Poll) -> Tally:
        """Votes per option, counted by the database: with one choice each, a person's vote
        is their chosen option with the latest time (the lower number on a tie), as
        `current_choices` says."""
        chosen = (col(PollVote.poll_id) == poll.id) & col(PollVote.chosen)
        async with self._database.session() as session:
            if poll.multi:
                per_option = (
                    select(col(PollVote.option), func.count())
                    .where(chosen)
                    .group_by(col(PollVote.option))
                )
            else:
                latest = (
                    select(
                        PollVote.option,
                        func.row_number()
                        .over(
                            partition_by=col(PollVote.voter),
                            order_by=(col(PollVote.at).desc(), col(PollVote.option)),
                        )
                        .label("rank"),
                    )
                    .where(chosen)
                    .subquery()
                )
                per_option = (
                    select(latest.c.option, func.count())
                    .where(latest.c.rank == 1)
                    .group_by(latest.c.option)
                )
            rows = (await session.exec(per_option)).all()
            voters = (
                await session.exec(select(func.count(distinct(col(PollVote.voter)))).where(chosen))
            ).one()
        counts = [0] * len(poll.options)
        for option, count in rows:
            if 1 <= option <= len(counts):
                counts[option - 1] = int(count)
        return Tally(counts=tuple(counts), voters=int(voters))

    async def view(self, poll: Poll) -> PollView:
        return PollView(poll=poll, tally=await self.tally(poll))

    async def close(self, poll: Poll) -> bool:
        """Close the poll now; False when it was closed already (by anyone, anywhere)."""
        now = self._clock.now()
        async with self._database.session() as session:
            result = await session.exec(self._closing(poll, now))
        if result.rowcount != 1:
            return False
        poll.closed_at = now
        return True

    async def close_due(self) -> list[Poll]:
        """Close every poll whose time has come; the ones this process closed (each is closed
        by exactly one process, however many sweep at once)."""
        now = self._clock.now()
        due = select(Poll).where(col(Poll.closed_at).is_(None), col(Poll.closes_at) <= now)
        async with self._database.session() as session:
            candidates = (await session.exec(due)).all()
        closed = []
        for poll in candidates:
            if await self.close(poll):
                closed.append(poll)
        return closed

    @staticmethod
    def _closing(poll: Poll, now: datetime) -> Update:
        return (
            update(Poll)
            .where(col(Poll.id) == poll.id, col(Poll.closed_at).is_(None))
            .values(closed_at=now)
        )
