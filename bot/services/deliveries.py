"""Deliveries as rows: what copbot posts for each meeting at a set time, and the claim, the
decision and the record that make each go out exactly once.

Any process may plan rows (the unique key (occurrence, kind) decides) and any may claim a due
one: PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite a conditional `UPDATE`, each with a lease. A
claim whose lease ran out with no result recorded keeps its `claimed_at`: the post may be out,
so it is looked for before it is sent again. A row is over once `sent_at` is set; its `outcome`
says how (sent, skipped, failed, unknown)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, bindparam, delete, func, null, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.occurrences import REMOVED, SCHEDULED, ensure_occurrences
from rituals.recurrence import between
from rituals.schedule import Schedule
from storage.models import Community, Delivery, Occurrence, Ritual, RitualPlan, Workspace

REMINDER = "reminder"  # reminder:<minutes before>, one per offset in Ritual.reminders
START = "start"  # in the channel as the meeting begins
ASK = "ask"  # the facilitator of a rotating ritual is asked to confirm
NUDGE = "nudge"  # the stewards, when nobody has confirmed close to the meeting
PAIRS = "pairs"  # a peer-mentoring cycle's pairs, each told in a direct message
REMIND_NOW = "remind"  # remind:<epoch second>, a reminder a steward asked for
PULSE = "pulse"  # "how was it?" in the channel as the meeting ends (unless `pulse=no`)

PEER_MENTORING = "peer-mentoring"  # the catalog template whose meetings pair people

SENT = "sent"
SKIPPED = "skipped"
FAILED = "failed"
UNKNOWN = "unknown"  # the process died mid-send and the platform cannot look the post up

ALIVE = "active"  # Ritual.status of a ritual that still meets
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = 8  # failed sends of one delivery before it is given up

# Called with the occurrences a sweep materialised, in its transaction, before rows are
# planned (the facilitator rotation fills `Occurrence.facilitator_id` here).
OccurrenceHook = Callable[[AsyncSession, Ritual, list[Occurrence]], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class DeliveryTimes:
    """When things go out, relative to a meeting's start."""

    horizon: timedelta = timedelta(days=14)  # meetings this far ahead get their rows
    ask: timedelta = timedelta(days=7)  # the facilitator is asked this long before
    nudge: timedelta = timedelta(days=2)  # the stewards are told this long before
    start_grace: timedelta = timedelta(minutes=15)  # a start post later than this is skipped
    pairs_grace: timedelta = timedelta(days=1)  # pairs later than this (one-off) are skipped
    pulse_grace: timedelta = timedelta(hours=12)  # a pulse later than this is skipped
    lease: timedelta = timedelta(minutes=2)  # a claim's hold; then another process may look


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A claimed delivery with everything about its meeting. `unresolved_since` is when an
    earlier attempt began whose result is unknown (its post may be out), else None."""

    delivery: Delivery
    occurrence: Occurrence
    ritual: Ritual
    community: Community
    workspace: Workspace
    unresolved_since: datetime | None

    @property
    def family(self) -> str:
        return self.delivery.kind.split(":", 1)[0]


def reminder_kind(minutes: int) -> str:
    return f"{REMINDER}:{minutes}"


def family_of(kind: str) -> str:
    return kind.split(":", 1)[0]


def is_reminder(kind: str) -> bool:
    """Reminders carry RSVP buttons and live counts (planned ones and a steward's)."""
    return family_of(kind) in (REMINDER, REMIND_NOW)


def minutes_before(kind: str) -> int | None:
    """The offset of a `reminder:<minutes>` kind."""
    family, _, rest = kind.partition(":")
    return int(rest) if family == REMINDER and rest.isdigit() else None


def planned(
    ritual: Ritual, occurrence: Occurrence, times: DeliveryTimes
) -> list[tuple[str, datetime]]:
    """The deliveries a meeting gets, as (kind, due). A reminder or nudge that was due before
    the ritual existed is not planned: nobody was waiting for it. The start post, the ask and
    the pairs always are (late is better than never for those, within their own limits). The
    pulse is due as the meeting ends."""
    start = occurrence.starts_at
    wanted: list[tuple[str, datetime]] = [
        (reminder_kind(minutes), start - timedelta(minutes=minutes))
        for minutes in sorted({m for m in ritual.reminders if m > 0}, reverse=True)
    ]
    wanted.append((START, start))
    if ritual.rotate:
        wanted.append((ASK, start - times.ask))
        wanted.append((NUDGE, start - times.nudge))
    if ritual.template == PEER_MENTORING:
        wanted.append((PAIRS, start))
    if ritual.pulse:
        wanted.append((PULSE, occurrence.ends_at))
    late_ok = (START, ASK, PAIRS)
    return [(kind, due) for kind, due in wanted if kind in late_ok or due >= ritual.created_at]


def _insert(session: AsyncSession) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert  # type: ignore[attr-defined]


async def plan(
    session: AsyncSession, ritual: Ritual, occurrences: Sequence[Occurrence], times: DeliveryTimes
) -> None:
    """Rows for every delivery of `occurrences`, created where missing."""
    rows = [
        {"occurrence_id": occurrence.id, "kind": kind, "due_at": due, "outcome": "", "attempts": 0}
        for occurrence in occurrences
        for kind, due in planned(ritual, occurrence, times)
    ]
    if rows:
        await _run(
            session,
            _insert(session)(Delivery).on_conflict_do_nothing(
                index_elements=["occurrence_id", "kind"]
            ),
            rows,
        )


def version_of(updated_at: datetime, sequence: int) -> str:
    """What a ritual's plan is for: it is planned again when this changes."""
    return f"{updated_at.astimezone(UTC):%Y%m%dT%H%M%S.%f}#{sequence}"


def needs_plan(
    version: str,
    planned: str | None,
    planned_at: datetime | None,
    *,
    now: datetime,
    refresh: timedelta,
) -> bool:
    """Whether a ritual's meetings should be planned (again): never planned, changed since,
    or planned longer than `refresh` ago (the window has moved on)."""
    return planned != version or planned_at is None or planned_at <= now - refresh


async def materialise(
    session: AsyncSession,
    ritual_id: int,
    *,
    start: datetime,
    end: datetime,
    times: DeliveryTimes,
    now: datetime,
    refresh: timedelta,
    hooks: Sequence[OccurrenceHook] = (),
) -> list[Occurrence] | None:
    """One ritual's meetings in [start, end) as rows, the hooks run over them, and their
    deliveries planned, unless that was done for this version of it within `refresh`. On
    PostgreSQL the ritual's row is locked meanwhile, so processes (and edits of the ritual)
    take turns; None when another process holds it or had planned it already."""
    query = select(Ritual).where(Ritual.id == ritual_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ritual = (await session.exec(query)).first()
    if ritual is None:
        return None
    version = version_of(ritual.updated_at, ritual.sequence)
    done = (
        await session.exec(
            select(RitualPlan.version, RitualPlan.planned_at).where(
                RitualPlan.ritual_id == ritual_id
            )
        )
    ).first()
    if done is not None and not needs_plan(version, *done, now=now, refresh=refresh):
        return None
    occurrences = await ensure_occurrences(session, ritual, start=start, end=end)
    for hook in hooks:
        await hook(session, ritual, occurrences)
    await plan(session, ritual, occurrences, times)
    await _run(
        session,
        _insert(session)(RitualPlan)
        .values(ritual_id=ritual_id, version=version, planned_at=now)
        .on_conflict_do_update(
            index_elements=["ritual_id"], set_={"version": version, "planned_at": now}
        ),
    )
    return occurrences


async def to_plan(session: AsyncSession, *, now: datetime, refresh: timedelta) -> list[int]:
    """The active rituals whose meetings should be planned (again), see `needs_plan`."""
    found = await session.exec(
        select(Ritual.id, Ritual.updated_at, Ritual.sequence)
        .where(Ritual.status == ALIVE)
        .order_by(col(Ritual.id))
    )
    plans = {
        ritual_id: (version, planned_at)
        for ritual_id, version, planned_at in (
            await session.exec(
                select(RitualPlan.ritual_id, RitualPlan.version, RitualPlan.planned_at)
            )
        ).all()
    }
    return [
        ritual_id
        for ritual_id, updated_at, sequence in found.all()
        if ritual_id is not None
        and needs_plan(
            version_of(updated_at, sequence),
            *plans.get(ritual_id, (None, None)),
            now=now,
            refresh=refresh,
        )
    ]


async def forget_plans(session: AsyncSession, ritual_ids: Collection[int] | None = None) -> None:
    """Plan these rituals (default: all) again at the next sweep."""
    statement = delete(RitualPlan)
    if ritual_ids is not None:
        statement = statement.where(col(RitualPlan.ritual_id).in_(list(ritual_ids)))
    await _run(session, statement)


async def add_now(session: AsyncSession, occurrence: Occurrence, *, now: datetime) -> int:
    """A reminder for `occurrence` due now (a steward asked); its delivery id."""
    kind = f"{REMIND_NOW}:{int(now.timestamp())}"
    await session.exec(
        _insert(session)(Delivery)
        .values(occurrence_id=occurrence.id, kind=kind, due_at=now, outcome="", attempts=0)
        .on_conflict_do_nothing(index_elements=["occurrence_id", "kind"])
    )
    query = select(Delivery.id).where(
        Delivery.occurrence_id == occurrence.id, Delivery.kind == kind
    )
    found = (await session.exec(query)).one()
    assert found is not None
    return found


# Claiming ---------------------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return col(Delivery.sent_at).is_(None) & (
        col(Delivery.claimed_until).is_(None) | (col(Delivery.claimed_until) < now)
    )


def _with_meeting(query: Any, platforms: Collection[str]) -> Any:
    return (
        query.join(Occurrence, col(Occurrence.id) == Delivery.occurrence_id)
        .join(Ritual, col(Ritual.id) == Occurrence.ritual_id)
        .join(Community, col(Community.id) == Ritual.community_id)
        .join(Workspace, col(Workspace.id) == Community.workspace_id)
        .where(col(Workspace.platform).in_(list(platforms)))
    )


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    platforms: Collection[str],
    limit: int,
    ids: Collection[int] | None = None,
) -> list[Claim]:
    """Claim up to `limit` due deliveries for `platforms`, oldest due first, each with a lease
    until `now + lease`; a claim of a row whose earlier attempt left no result keeps that
    attempt's `claimed_at`, so a lookup reads from there."""
    if not platforms:
        return []
    due = _claimable(now) & (col(Delivery.due_at) <= now)
    query = _with_meeting(select(Delivery.id, Delivery.claimed_at), platforms).where(due)
    if ids is not None:
        query = query.where(col(Delivery.id).in_(list(ids)))
    query = query.order_by(col(Delivery.due_at), col(Delivery.id)).limit(limit)
    until = now + lease
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    else:
        # SQLite: take the write lock first, so no other process claims, releases or records
        # these rows between the read and the update (both are one transaction).
        await _run(session, text("BEGIN IMMEDIATE"))
    claimed: dict[int, datetime | None] = dict((await session.exec(query)).all())
    if claimed:
        await _run(
            session,
            update(Delivery)
            .where(col(Delivery.id).in_(list(claimed)), _claimable(now))
            .values(claimed_at=func.coalesce(col(Delivery.claimed_at), now), claimed_until=until),
        )
    return await load(session, claimed)


async def load(
    session: AsyncSession, unresolved_since: Mapping[int, datetime | None]
) -> list[Claim]:
    """The deliveries `unresolved_since` names, with their meetings, oldest due first."""
    if not unresolved_since:
        return []
    meetings = (
        await session.exec(
            select(Delivery, Occurrence, Ritual, Community)
            .join(Occurrence, col(Occurrence.id) == Delivery.occurrence_id)
            .join(Ritual, col(Ritual.id) == Occurrence.ritual_id)
            .join(Community, col(Community.id) == Ritual.community_id)
            .where(col(Delivery.id).in_(list(unresolved_since)))
            .order_by(col(Delivery.due_at), col(Delivery.id))
            .execution_options(populate_existing=True)
        )
    ).all()
    workspaces = {
        workspace.id: workspace
        for workspace in (
            await session.exec(
                select(Workspace).where(
                    col(Workspace.id).in_({community.workspace_id for *_, community in meetings})
                )
            )
        ).all()
    }
    return [
        Claim(
            delivery=delivery,
            occurrence=occurrence,
            ritual=ritual,
            community=community,
            workspace=workspaces[community.workspace_id],
            unresolved_since=unresolved_since[delivery.id] if delivery.id is not None else None,
        )
        for delivery, occurrence, ritual, community in meetings
    ]


async def next_due(session: AsyncSession, platforms: Collection[str]) -> datetime | None:
    """When the next delivery for `platforms` can be claimed (its due time, or the end of the
    lease it is held under), or None when nothing waits."""
    if not platforms:
        return None
    when = func.min(func.coalesce(col(Delivery.claimed_until), col(Delivery.due_at)))
    query = _with_meeting(select(when).select_from(Delivery), platforms).where(
        col(Delivery.sent_at).is_(None)
    )
    found = (await session.exec(query)).one()
    value = found[0] if isinstance(found, tuple) else found
    if value is None:
        return None
    return _aware(value)


def _aware(value: datetime | str) -> datetime:
    """`min()` over the timestamps, read back aware whatever the driver made of it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Recording --------------------------------------------------------------------------------


async def _run(
    session: AsyncSession, statement: Any, rows: list[dict[str, Any]] | None = None
) -> Any:
    """A Core statement on the session's connection (no ORM bookkeeping: claims and records
    are many small updates); `rows` runs it once per parameter set (executemany)."""
    connection = await session.connection()
    if rows is None:
        return await connection.execute(statement)
    return await connection.execute(statement, rows)


def _json(value: dict[str, Any] | None) -> Any:
    return null() if value is None else value


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How a claimed delivery ended, to record."""

    delivery_id: int
    outcome: str
    at: datetime
    message: dict[str, Any] | None = None
    detail: str = ""


async def finish(session: AsyncSession, outcomes: Sequence[Outcome]) -> set[int]:
    """Record how claimed deliveries ended (one statement for them all); the ids recorded.
    One missing had been recorded already (its claim outlived its lease while another
    process finished it) and is left as that process recorded it."""
    ids = [o.delivery_id for o in outcomes]
    done = set(
        (
            await session.exec(
                select(Delivery.id).where(
                    col(Delivery.id).in_(ids), col(Delivery.sent_at).is_not(None)
                )
            )
        ).all()
    )
    todo = [o for o in outcomes if o.delivery_id not in done]
    if todo:
        await _run(
            session,
            update(Delivery)
            .where(col(Delivery.id) == bindparam("row"), col(Delivery.sent_at).is_(None))
            .values(
                sent_at=bindparam("at"),
                outcome=bindparam("result"),
                message=bindparam("posted", type_=JSON(none_as_null=True)),
                detail=bindparam("why"),
                claimed_until=None,
            ),
            [
                {
                    "row": o.delivery_id,
                    "at": o.at,
                    "result": o.outcome,
                    "posted": o.message,
                    "why": o.detail[:1000],
                }
                for o in todo
            ],
        )
    return {o.delivery_id for o in todo}


async def progress(
    session: AsyncSession, *, delivery_id: int, message: dict[str, Any], until: datetime
) -> None:
    """Record the posts of a many-post delivery made so far, and renew its lease."""
    await _run(
        session,
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.sent_at).is_(None))
        .values(message=message, claimed_until=until),
    )


async def renew(session: AsyncSession, *, ids: Sequence[int], until: datetime) -> None:
    """Extend the leases of claimed deliveries still on their way."""
    await _run(
        session,
        update(Delivery)
        .where(
            col(Delivery.id).in_(list(ids)),
            col(Delivery.sent_at).is_(None),
            col(Delivery.claimed_until).is_not(None),
        )
        .values(claimed_until=until),
    )


async def release(
    session: AsyncSession,
    *,
    delivery: Delivery,
    now: datetime,
    detail: str,
    unresolved: bool,
    message: dict[str, Any] | None = None,
) -> bool:
    """A send failed: try again after a backoff, or give up after `MAX_ATTEMPTS` (False).
    `unresolved` keeps the claim time, because the post may be out and must be looked for."""
    assert delivery.id is not None
    attempts = delivery.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        outcome = UNKNOWN if unresolved else FAILED
        await finish(
            session,
            [
                Outcome(
                    delivery_id=delivery.id,
                    outcome=outcome,
                    at=now,
                    message=message,
                    detail=detail,
                )
            ],
        )
        return False
    delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
    values: dict[str, Any] = {
        "attempts": attempts,
        "detail": detail[:1000],
        "claimed_until": now + delay,
        "message": _json(message),
    }
    if not unresolved:
        values["claimed_at"] = None
    await _run(
        session,
        update(Delivery)
        .where(col(Delivery.id) == delivery.id, col(Delivery.sent_at).is_(None))
        .values(**values),
    )
    return True


# Deciding ---------------------------------------------------------------------------------


def still_scheduled(ritual: Ritual, occurrence: Occurrence) -> bool:
    """Whether the meeting is still in its ritual's schedule as it stands now (a skip, move,
    edit or cancellation made since the rows were planned takes it out)."""
    if ritual.status != ALIVE or occurrence.status != SCHEDULED:
        return False
    start = occurrence.starts_at
    found = between(Schedule.from_json(ritual.schedule), start, start + timedelta(seconds=1))
    return bool(found) and found[0].start == start


async def mark_removed(session: AsyncSession, *, occurrence: Occurrence) -> None:
    await _run(
        session,
        update(Occurrence)
        .where(col(Occurrence.id) == occurrence.id, col(Occurrence.status) == SCHEDULED)
        .values(status=REMOVED),
    )


def skip_reason(
    claim: Claim, *, now: datetime, times: DeliveryTimes, superseded: bool
) -> str | None:
    """Why a claimed delivery should not go out now, or None to send it. The meeting is known
    to be still scheduled. `superseded`: a later reminder of the same meeting is due too."""
    kind = claim.delivery.kind
    occurrence = claim.occurrence
    start = occurrence.starts_at
    match family_of(kind):
        case "reminder" | "remind":
            if now >= start:
                return "the meeting has started"
            minutes = minutes_before(kind)
            if minutes is not None and minutes not in claim.ritual.reminders:
                return "the ritual no longer has this reminder"
            if superseded:
                return "a later reminder is due as well"
        case "start":
            if now > start + times.start_grace:
                return "more than the start grace late"
        case "ask" | "nudge":
            if now >= start:
                return "the meeting has started"
            if not claim.ritual.rotate:
                return "the ritual no longer rotates its facilitator"
            if occurrence.facilitator_confirmed:
                return "the facilitator has confirmed"
            if family_of(kind) == ASK and not occurrence.facilitator_id:
                return "nobody is down to facilitate"
        case "pairs":
            if now > start + times.pairs_grace and not _cycle_running(claim, now):
                return "the cycle is over"
        case "pulse":
            if not claim.ritual.pulse:
                return "the ritual no longer asks for a pulse"
            if now > occurrence.ends_at + times.pulse_grace:
                return "more than the pulse grace late"
        case _:
            return f"unknown kind {kind}"
    return None


def _cycle_running(claim: Claim, now: datetime) -> bool:
    """Whether the next meeting of a recurring ritual is still ahead (pairs still help)."""
    schedule = Schedule.from_json(claim.ritual.schedule)
    if schedule.rule is None:
        return False
    start = claim.occurrence.starts_at
    following = between(schedule, start + timedelta(seconds=1), now + timedelta(seconds=1))
    return not following


async def superseded_reminders(
    session: AsyncSession, claims: Sequence[Claim], now: datetime
) -> set[int]:
    """The claimed planned reminders for which a later reminder of the same meeting is also
    due now (after downtime only the latest of them goes out)."""
    reminders = [c for c in claims if family_of(c.delivery.kind) == REMINDER]
    if not reminders:
        return set()
    rows = (
        await session.exec(
            select(Delivery.id, Delivery.occurrence_id, Delivery.due_at).where(
                col(Delivery.occurrence_id).in_({c.occurrence.id for c in reminders}),
                col(Delivery.kind).startswith(REMINDER + ":"),
                col(Delivery.due_at) <= now,
                (col(Delivery.outcome) == "") | (col(Delivery.outcome) == SENT),
            )
        )
    ).all()
    latest: dict[int | None, datetime] = {}
    for _, occurrence_id, due in rows:
        latest[occurrence_id] = max(due, latest.get(occurrence_id, due))
    return {
        c.delivery.id
        for c in reminders
        if c.delivery.id is not None and c.delivery.due_at < latest[c.occurrence.id]
    }


async def sent_reminders(session: AsyncSession, occurrence_id: int) -> list[Delivery]:
    """The reminders of a meeting that went out, with their message refs (for live counts)."""
    rows = await session.exec(
        select(Delivery).where(
            Delivery.occurrence_id == occurrence_id,
            Delivery.outcome == SENT,
            col(Delivery.message).is_not(None),
        )
    )
    return [d for d in rows.all() if is_reminder(d.kind)]
