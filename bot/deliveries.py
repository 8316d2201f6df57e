"""The delivery runner: everything copbot sends at a set time (reminders, start posts, the
facilitator's ask, the stewards' nudge, peer-mentoring pairs, the pulse), each exactly once.

The database is the truth (`bot/services/deliveries.py`); the alarm clock only wakes the
runner. A sweep every few seconds materialises meetings ahead, plans their rows and sends what
is due; an alarm set for the next due row makes a reminder go out on its second. Each send is
claimed, then posted through the platform with its delivery id as the idempotency key, then
recorded. A claim that ended without a record (the process died mid-send) is looked for on
platforms that can look (Slack) and not sent again on those that cannot (logged, outcome
"unknown"). Live RSVP counts are edited into the reminders, at most once every few seconds per
message."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import delivery_messages as messages
from bot.clock import Clock
from bot.errors import UserError
from bot.outbox import NotPosted, Outbox, ref_from_dict, to_plain
from bot.replies import Reply
from bot.services import deliveries as rows
from bot.services.calendars import calendar_secrets, occurrence_url
from bot.services.deliveries import Claim, DeliveryTimes, OccurrenceHook
from bot.services.occurrences import ensure_occurrences
from bot.services.pair_cycles import cycle_for
from bot.services.rsvps import counts as rsvp_counts
from bot.services.rsvps import no_answers
from rituals.recurrence import next_occurrence
from rituals.schedule import Schedule
from storage.database import Database
from storage.models import (
    Community,
    Delivery,
    Member,
    Occurrence,
    Ritual,
    Role,
)

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
Write = Callable[[AsyncSession], Awaitable[Any]]

SWEEP_SECONDS = 20.0  # how often rows are planned and due ones looked for
BATCH = 50  # deliveries claimed at a time
IN_FLIGHT = 200  # deliveries on their way at once, per process
REFRESH = timedelta(hours=1)  # an unchanged ritual's meetings are re-planned this often
EDIT_DELAY = timedelta(seconds=3)  # RSVP counts are edited into a message at most this often
STOP_GRACE_SECONDS = 10.0  # how long a stopping process waits for its runs to end
SWEEP_JOB = "deliveries:sweep"
WAKE_JOB = "deliveries:wake"
NEXT_JOB = "deliveries:next"
MANY_POSTS = (rows.NUDGE, rows.PAIRS)  # kinds that post to several people, one post each


class PulsePoster(Protocol):
    """What makes a meeting's pulse poll and its post (`bot/commands/pulses.py`)."""

    async def message(self, claim: Claim) -> Reply:
        """The pulse to post for the claimed meeting (its poll made on the first call)."""
        ...

    async def posted(self, claim: Claim, ref: dict[str, Any] | None) -> None:
        """The pulse went out as `ref` (a `to_plain` MessageRef; None: where is unknown)."""
        ...


class Alarm(Protocol):
    """What the runner needs of the scheduler (`rituals.scheduler.Scheduler`)."""

    def every(self, name: str, seconds: float, job: Job) -> None: ...

    def at(self, name: str, when: datetime, job: Job) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Reminded:
    """A reminder a steward asked for: the ritual, its meeting, whether it went out here."""

    ritual: Ritual
    occurrence: Occurrence
    outcome: str


@dataclass(kw_only=True)
class _Facts:
    """What a batch of claims needs from the database, read in one go."""

    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    names: dict[int, dict[str, str]] = field(default_factory=dict)  # community -> user -> name
    secrets: dict[int, str] = field(default_factory=dict)
    superseded: set[int] = field(default_factory=set)

    def names_in(self, community_id: int | None) -> dict[str, str]:
        return self.names.get(community_id or 0, {})


class DeliveryRunner:
    """Plans, claims, sends and records deliveries; see the module docstring."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        outbox: Outbox,
        *,
        public_url: str,
        times: DeliveryTimes | None = None,
        hooks: Sequence[OccurrenceHook] = (),
        pairing_seed: Callable[[Ritual, Occurrence], random.Random] | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._outbox = outbox
        self._public_url = public_url
        self.times = times or DeliveryTimes()
        self._hooks = list(hooks)
        self._pairing_seed = pairing_seed or _seeded
        self._pulses: PulsePoster | None = None
        self._alarm: Alarm | None = None
        self._lock = asyncio.Lock()
        self._edits: set[str] = set()  # message edits waiting for their alarm
        self._tasks: set[asyncio.Task[object]] = set()  # runs the alarm started
        self._writes: list[tuple[Write | rows.Outcome, asyncio.Future[Any]]] = []
        self._writer: asyncio.Future[None] | None = None

    def on_occurrences(self, hook: OccurrenceHook) -> None:
        """Run `hook(session, ritual, occurrences)` whenever meetings are materialised, in
        that transaction, before their deliveries are planned."""
        self._hooks.append(hook)

    def on_pulse(self, poster: PulsePoster) -> None:
        """Post meetings' pulses with `poster` (without one, pulses are skipped)."""
        self._pulses = poster

    # The alarm clock ---------------------------------------------------------------------

    def start(self, alarm: Alarm) -> None:
        """Sweep now and every `SWEEP_SECONDS` on `alarm`, and set it for each next due row."""
        self._alarm = alarm
        alarm.every(SWEEP_JOB, SWEEP_SECONDS, self.sweep)
        self.wake()

    def wake(self) -> None:
        """Sweep as soon as possible (a ritual was added or changed)."""
        if self._alarm is not None:
            self._alarm.at(WAKE_JOB, self._clock.now(), self._kick(self.sweep))

    def _kick(self, work: Job) -> Job:
        """An alarm job that starts `work` and returns at once. A one-off job of the same
        name set again while it still runs would be skipped by the scheduler (one instance
        per job), and `work` itself sets the next alarm."""

        async def kick() -> None:
            task = asyncio.ensure_future(work())
            self._tasks.add(task)
            task.add_done_callback(self._finished)

        return kick

    async def settle(self) -> None:
        """Wait for the runs the alarm has started to end."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """The runs the alarm has started (its scheduler stopped first) get up to `grace`
        seconds to end (a send cut short would go again later), then are cancelled: the
        database can close after."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in late:
            log.warning("deliveries: cancelling a run still going after %ss", grace)
            task.cancel()
        if late:
            await asyncio.wait(late)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("deliveries: a run failed", exc_info=task.exception())

    async def sweep(self) -> int:
        """Send what is due, plan the meetings ahead, and send what that made due; how many
        went out. (Planning many rituals takes a while: what is due already, after a restart
        say, does not wait for it.)"""
        sent = await self.run_due()
        await self.plan_ahead()
        return sent + await self.run_due()

    async def plan_ahead(self) -> int:
        """Materialise the meetings in the window ahead of every active ritual that changed,
        or was not planned for `REFRESH`, run the hooks, plan the rows; how many rituals.
        What was planned is recorded, so other processes and restarts skip it."""
        now = self._clock.now()
        start, end = now - self.times.start_grace, now + self.times.horizon
        async with self._database.session() as session:
            waiting = await rows.to_plan(session, now=now, refresh=REFRESH)
        planned = 0
        for ritual_id in waiting:
            try:
                async with self._database.session() as session:
                    meetings = await rows.materialise(
                        session,
                        ritual_id,
                        start=start,
                        end=end,
                        times=self.times,
                        now=now,
                        refresh=REFRESH,
                        hooks=self._hooks,
                    )
            except Exception:
                log.exception("could not plan the meetings of ritual %s", ritual_id)
                continue
            planned += meetings is not None
        return planned

    async def replan(self, ritual_ids: Sequence[int] | None = None) -> None:
        """Plan these rituals (default: all) again now, e.g. after something the hooks read
        changed without the ritual's `updated_at` or `sequence` changing."""
        async with self._database.session() as session:
            await rows.forget_plans(session, ritual_ids)
        self.wake()

    async def run_due(self) -> int:
        """Claim and send every due delivery for the platforms running here; how many were
        sent. One run at a time per process; other processes claim other rows.

        Up to `IN_FLIGHT` deliveries are on their way at once, claimed `BATCH` at a time as
        room frees, so sends held back by a rate limit do not stop the others."""
        async with self._lock:
            sent = 0
            flying: dict[asyncio.Task[int], int] = {}  # each send and its delivery's id
            keeping = asyncio.ensure_future(self._keep_leases(flying))
            more = True
            try:
                while True:
                    room = IN_FLIGHT - len(flying)
                    if more and (room >= BATCH or not flying):
                        claims = await self._claim(min(room, BATCH))
                        more = len(claims) == min(room, BATCH)
                        if claims:
                            async with self._database.session() as session:
                                facts = await self._facts(session, claims)
                            for claim in claims:
                                assert claim.delivery.id is not None
                                task = asyncio.ensure_future(self._deliver(claim, facts))
                                flying[task] = claim.delivery.id
                            continue
                    if not flying:
                        break
                    done, _ = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        del flying[task]
                        sent += task.result()
            finally:
                keeping.cancel()
            await self._set_alarm()
            return sent

    async def _keep_leases(self, flying: dict[asyncio.Task[int], int]) -> None:
        """While sends are on their way (held back by a rate limit, say), their leases are
        renewed: only a dead process's claims run out."""
        every = self.times.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            ids = list(flying.values())
            if ids:
                await self._write(
                    partial(rows.renew, ids=ids, until=self._clock.now() + self.times.lease)
                )

    async def _claim(self, limit: int) -> list[Claim]:
        async with self._database.session() as session:
            return await rows.claim(
                session,
                now=self._clock.now(),
                lease=self.times.lease,
                platforms=self._outbox.platforms,
                limit=limit,
            )

    async def _set_alarm(self) -> None:
        if self._alarm is None:
            return
        async with self._database.session() as session:
            when = await rows.next_due(session, self._outbox.platforms)
        if when is not None:
            self._alarm.at(NEXT_JOB, max(when, self._clock.now()), self._kick(self.run_due))

    # One delivery --------------------------------------------------------------------------

    async def _deliver(self, claim: Claim, facts: _Facts) -> int:
        """Decide, post and record one claimed delivery; 1 when it went out."""
        posting: list[bool] = []  # set while a post is on its way and not yet recorded
        try:
            return await self._attempt(claim, facts, posting)
        except Exception as exc:
            # A failure of ours (not the platform's): leave it for a retry, looked for first
            # when a post may have gone out.
            log.exception("delivery %s (%s) failed", claim.delivery.id, claim.delivery.kind)
            try:
                await self._write(
                    partial(
                        rows.release,
                        delivery=claim.delivery,
                        now=self._clock.now(),
                        detail=repr(exc),
                        unresolved=claim.unresolved_since is not None or bool(posting),
                        message=claim.delivery.message,
                    )
                )
            except Exception:  # the database is away: the lease runs out, then a retry
                log.exception("could not record the failure of delivery %s", claim.delivery.id)
            return 0

    async def _attempt(self, claim: Claim, facts: _Facts, posting: list[bool]) -> int:
        delivery = claim.delivery
        assert delivery.id is not None
        now = self._clock.now()
        platform = claim.workspace.platform
        can_find = self._outbox.can_find(platform)
        if claim.unresolved_since is not None and not can_find:
            log.warning(
                "delivery %s (%s) was claimed at %s and its result never recorded; %s cannot "
                "look posts up, so it is not sent again (outcome unknown)",
                delivery.id,
                delivery.kind,
                claim.unresolved_since.isoformat(),
                platform,
            )
            await self._finish(claim, rows.UNKNOWN, message=delivery.message, detail="unresolved")
            return 0
        reason: str | None = None
        if not rows.still_scheduled(claim.ritual, claim.occurrence):
            reason = "the meeting is no longer scheduled"
            await self._write(partial(rows.mark_removed, occurrence=claim.occurrence))
        else:
            reason = rows.skip_reason(
                claim, now=now, times=self.times, superseded=delivery.id in facts.superseded
            )
        if reason is not None and claim.unresolved_since is None:
            await self._finish(claim, rows.SKIPPED, detail=reason)
            return 0
        posts = await self._posts(claim, facts, now)
        many = claim.family in MANY_POSTS
        parts: dict[str, Any] = dict((delivery.message or {}).get("posts", {})) if many else {}
        if claim.unresolved_since is not None:
            for reply in posts:
                assert reply.key is not None and reply.to is not None
                if reply.key in parts:
                    continue
                try:
                    found = await self._outbox.find(reply.key, reply.to, claim.unresolved_since)
                except Exception as exc:
                    log.warning("looking for delivery %s failed: %s", reply.key, exc)
                    await self._release(claim, str(exc), unresolved=True, parts=parts, many=many)
                    return 0
                if found is not None:
                    log.info("delivery %s was out already; recorded, not sent again", reply.key)
                    parts[reply.key] = to_plain(found)
            if reason is not None:
                outcome = rows.SENT if parts else rows.SKIPPED
                if parts:
                    await self._after_posts(claim, parts)
                await self._finish(claim, outcome, message=_message(parts, many), detail=reason)
                return int(outcome == rows.SENT)
        if not posts:
            await self._finish(claim, rows.SKIPPED, detail="nobody to tell")
            return 0
        refused: str | None = None
        for reply in posts:
            assert reply.key is not None
            if reply.key in parts:
                continue
            posting.append(True)
            try:
                ref = await self._outbox.post_once(reply)
            except NotPosted as exc:
                posting.clear()
                refused = str(exc)
                continue
            except Exception as exc:
                log.warning("delivery %s: the post may or may not be out: %s", reply.key, exc)
                if can_find:
                    await self._release(claim, str(exc), unresolved=True, parts=parts, many=many)
                else:
                    log.warning(
                        "delivery %s is not sent again: %s cannot look posts up (outcome unknown)",
                        reply.key,
                        platform,
                    )
                    await self._finish(
                        claim, rows.UNKNOWN, message=_message(parts, many), detail=str(exc)
                    )
                return 0
            parts[reply.key] = to_plain(ref) if ref is not None else None
            if many:
                await self._write(
                    partial(
                        rows.progress,
                        delivery_id=delivery.id,
                        message=_message(parts, many) or {},
                        until=self._clock.now() + self.times.lease,
                    )
                )
                posting.clear()
        if refused is not None:
            await self._release(claim, refused, unresolved=False, parts=parts, many=many)
            return 0
        await self._after_posts(claim, parts)
        await self._finish(claim, rows.SENT, message=_message(parts, many))
        return 1

    async def _after_posts(self, claim: Claim, parts: dict[str, Any]) -> None:
        """What a kind does once its post is out (or found out): a pulse's poll learns its
        message, so its counts are edited in and its close shows there."""
        if claim.family == rows.PULSE and self._pulses is not None:
            await self._pulses.posted(claim, next(iter(parts.values()), None))

    async def _finish(
        self,
        claim: Claim,
        outcome: str,
        *,
        message: dict[str, Any] | None = None,
        detail: str = "",
    ) -> None:
        assert claim.delivery.id is not None
        recorded = await self._write(
            rows.Outcome(
                delivery_id=claim.delivery.id,
                outcome=outcome,
                at=self._clock.now(),
                message=message,
                detail=detail,
            )
        )
        if not recorded:
            log.warning(
                "delivery %s had been recorded by another process (a lease ran out)",
                claim.delivery.id,
            )

    async def _release(
        self, claim: Claim, detail: str, *, unresolved: bool, parts: dict[str, Any], many: bool
    ) -> None:
        again = await self._write(
            partial(
                rows.release,
                delivery=claim.delivery,
                now=self._clock.now(),
                detail=detail,
                unresolved=unresolved,
                message=_message(parts, many) if many else claim.delivery.message,
            )
        )
        if not again:
            log.warning(
                "delivery %s (%s) given up after %s attempts: %s",
                claim.delivery.id,
                claim.delivery.kind,
                rows.MAX_ATTEMPTS,
                detail,
            )

    # Writing records ---------------------------------------------------------------------

    async def _write(self, work: Write | rows.Outcome) -> Any:
        """Run `work(session)`, or record an outcome (True when recorded), in the write
        transaction of whatever else is waiting to be written: one writer at a time in this
        process (on SQLite, concurrent writers would wait for each other's locks in sleeps)
        and one statement and one commit for many outcomes."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._writes.append((work, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_waiting())
        return await done

    async def _write_waiting(self) -> None:
        while self._writes:
            batch, self._writes = self._writes, []
            try:
                results = await self._write_batch(batch)
            except Exception:
                # One bad write must not lose the others: each again on its own.
                for item in batch:
                    try:
                        [result] = await self._write_batch([item])
                    except Exception as exc:
                        if not item[1].done():
                            item[1].set_exception(exc)
                    else:
                        if not item[1].done():
                            item[1].set_result(result)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)

    async def _write_batch(self, batch: list[tuple[Write | rows.Outcome, Any]]) -> list[Any]:
        async with self._database.session() as session:
            results: list[Any] = [
                None if isinstance(work, rows.Outcome) else await work(session) for work, _ in batch
            ]
            outcomes = [work for work, _ in batch if isinstance(work, rows.Outcome)]
            if outcomes:
                recorded = await rows.finish(session, outcomes)
                results = [
                    work.delivery_id in recorded if isinstance(work, rows.Outcome) else result
                    for (work, _), result in zip(batch, results, strict=True)
                ]
        return results

    # What to post -----------------------------------------------------------------------

    async def _facts(self, session: AsyncSession, claims: Sequence[Claim]) -> _Facts:
        facts = _Facts()
        reminders = [c for c in claims if rows.is_reminder(c.delivery.kind)]
        with_counts = {
            c.occurrence.id
            for c in claims
            if c.occurrence.id is not None
            and (rows.is_reminder(c.delivery.kind) or c.family == rows.START)
        }
        facts.counts = await rsvp_counts(session, with_counts)
        facilitators = {c.occurrence.facilitator_id for c in claims} - {None}
        if facilitators:
            found = await session.exec(
                select(Member.community_id, Member.user_id, Member.display_name).where(
                    col(Member.community_id).in_({c.community.id for c in claims}),
                    col(Member.user_id).in_(facilitators),
                )
            )
            for community_id, user_id, name in found.all():
                facts.names.setdefault(community_id, {})[user_id] = name
        communities = {c.community.id for c in reminders if c.community.id is not None}
        if communities:
            facts.secrets = await calendar_secrets(session, communities)
        facts.superseded = await rows.superseded_reminders(session, claims, self._clock.now())
        return facts

    async def _posts(self, claim: Claim, facts: _Facts, now: datetime) -> list[Reply]:
        """The replies a delivery posts, each with its idempotency key."""
        delivery, occurrence, ritual = claim.delivery, claim.occurrence, claim.ritual
        assert delivery.id is not None and occurrence.id is not None
        key = str(delivery.id)
        names = facts.names_in(claim.community.id)
        meeting: dict[str, Any] = {
            "ritual": ritual,
            "occurrence": occurrence,
            "community": claim.community,
            "workspace": claim.workspace,
            "names": names,
        }
        tally = facts.counts.get(occurrence.id, no_answers())
        match claim.family:
            case rows.REMINDER | rows.REMIND_NOW:
                # How long before the meeting it went out (an edit keeps saying the same).
                left = occurrence.starts_at - (delivery.sent_at or now)
                return [
                    messages.reminder(
                        **meeting,
                        calendar_url=self._calendar_url(claim, facts),
                        counts=tally,
                        ahead=timedelta(minutes=round(left.total_seconds() / 60)),
                        key=key,
                    )
                ]
            case rows.START:
                return [messages.start(**meeting, counts=tally, key=key)]
            case rows.ASK:
                return [messages.facilitator_ask(**meeting, key=key)]
            case rows.NUDGE:
                async with self._database.session() as session:
                    stewards = (
                        await session.exec(
                            select(Member.user_id)
                            .where(
                                Member.community_id == claim.community.id,
                                Member.role == Role.STEWARD,
                                col(Member.active),
                            )
                            .order_by(col(Member.joined_at), col(Member.id))
                        )
                    ).all()
                until = max(occurrence.starts_at - now, timedelta(0))
                return [
                    messages.facilitator_nudge(
                        **meeting, steward=steward, until=until, key=f"{key}:{steward}"
                    )
                    for steward in stewards
                ]
            case rows.PAIRS:
                async with self._database.session() as session:
                    cycle = await cycle_for(
                        session, ritual, occurrence, rng=self._pairing_seed(ritual, occurrence)
                    )
                following = next_occurrence(
                    Schedule.from_json(ritual.schedule),
                    now=occurrence.starts_at + timedelta(seconds=1),
                )
                meeting["names"] = {**names, **(cycle.names or {})}
                posts = []
                for group in (*cycle.groups, *((alone,) for alone in cycle.unpaired)):
                    for member in group:
                        posts.append(
                            messages.pair_intro(
                                **meeting,
                                member=member,
                                partners=tuple(p for p in group if p != member),
                                next_start=following.start if following else None,
                                key=f"{key}:{member}",
                            )
                        )
                return posts
            case rows.PULSE:
                if self._pulses is None:
                    return []
                return [replace(await self._pulses.message(claim), key=key)]
        raise ValueError(f"unknown delivery kind {delivery.kind!r}")

    def _calendar_url(self, claim: Claim, facts: _Facts) -> str:
        assert claim.community.id is not None and claim.occurrence.id is not None
        secret = facts.secrets[claim.community.id]
        return occurrence_url(self._public_url, secret, claim.occurrence.id)

    # A steward's reminder now ------------------------------------------------------------

    async def remind_now(self, community: Community, number: int) -> Reminded:
        """Post the reminder of ritual #`number`'s next meeting now (through a delivery row, so
        it is sent once and its RSVP counts stay live)."""
        now = self._clock.now()
        async with self._database.session() as session:
            ritual = (
                await session.exec(
                    select(Ritual).where(
                        Ritual.community_id == community.id, Ritual.number == number
                    )
                )
            ).first()
            if ritual is None or ritual.status != rows.ALIVE:
                known = (
                    await session.exec(
                        select(Ritual.number)
                        .where(Ritual.community_id == community.id, Ritual.status == rows.ALIVE)
                        .order_by(col(Ritual.number))
                    )
                ).all()
                raise UserError(
                    "ritual_number_unknown", usage="ritual remind", number=number, known=list(known)
                )
            meeting = next_occurrence(Schedule.from_json(ritual.schedule), now=now)
            if meeting is None:
                raise UserError("no_meeting_ahead", number=number, title=ritual.title)
            [occurrence] = await ensure_occurrences(
                session, ritual, start=meeting.start, end=meeting.start + timedelta(seconds=1)
            )
            delivery_id = await rows.add_now(session, occurrence, now=now)
        await self.run_due()
        async with self._database.session() as session:
            outcome = (
                await session.exec(select(Delivery.outcome).where(Delivery.id == delivery_id))
            ).one()
        return Reminded(ritual=ritual, occurrence=occurrence, outcome=outcome)

    # Live RSVP counts --------------------------------------------------------------------

    async def counts_changed(self, occurrence_id: int) -> None:
        """Someone answered: edit the counts into the meeting's reminders soon, once per
        message for any number of answers in the meantime."""
        async with self._database.session() as session:
            sent = await rows.sent_reminders(session, occurrence_id)
        for delivery in sent:
            assert delivery.id is not None
            name = f"rsvp-counts:{delivery.id}"
            if name in self._edits:
                continue
            self._edits.add(name)
            job = partial(self._edit_counts, delivery.id, name)
            if self._alarm is None:
                await job()
            else:
                self._alarm.at(name, self._clock.now() + EDIT_DELAY, self._kick(job))

    async def _edit_counts(self, delivery_id: int, name: str) -> None:
        # Free the slot first: an answer arriving during the edit schedules the next one.
        self._edits.discard(name)
        async with self._database.session() as session:
            found = await rows.load(session, {delivery_id: None})
            if not found or not found[0].delivery.message:
                return
            claim = found[0]
            facts = await self._facts(session, [claim])
        [reply] = await self._posts(claim, facts, self._clock.now())
        assert claim.delivery.message is not None
        await self._outbox.update(ref_from_dict(claim.delivery.message), reply)


def _message(parts: dict[str, Any], many: bool) -> dict[str, Any] | None:
    """What a delivery records: the posted message's ref, or each post's for many-post kinds."""
    if many:
        return {"posts": parts}
    return next(iter(parts.values()), None)


def _seeded(ritual: Ritual, occurrence: Occurrence) -> random.Random:
    """The same cycle of the same ritual pairs the same way, on any process."""
    return random.Random(f"{ritual.uid}:{occurrence.recurrence_id}")


__all__ = [
    "Alarm",
    "DeliveryRunner",
    "DeliveryTimes",
    "OccurrenceHook",
    "PulsePoster",
    "Reminded",
]
