"""Deliveries with the clock held still: what is planned for each meeting, what goes out when,
what is skipped after downtime, and that every claimed delivery is sent once and recorded."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.deliveries import EDIT_DELAY, DeliveryRunner, Job
from bot.events import ButtonPressed, CommandInvoked, Origin
from bot.outbox import ref_from_dict
from bot.services.deliveries import DeliveryTimes
from bot.services.occurrences import REMOVED
from messages.rendering import Renderer
from rituals.recurrence import skip, upcoming
from rituals.schedule import Schedule
from storage.database import Database
from storage.models import (
    Absence,
    Delivery,
    FacilitatorPool,
    Member,
    Occurrence,
    PairGroup,
    Ritual,
    Rsvp,
)
from tests.ritual_rows import (
    RecordingPlatform,
    a_community,
    a_ritual,
    deliveries,
    first_rows,
    in_minutes,
    outcomes,
)

TEXT = Renderer("text")


@pytest.fixture
def platform(core: Core) -> RecordingPlatform:
    recording = RecordingPlatform()
    core.outbox.register(recording)
    return recording


def texts(platform: RecordingPlatform) -> list[str]:
    return [TEXT.text(reply.kind, reply.data) for reply in platform.sent]


async def first_meeting(database: Database) -> Occurrence:
    async with database.session() as session:
        return (await session.exec(select(Occurrence).order_by(Occurrence.starts_at))).first()


async def set_meeting(database: Database, occurrence: Occurrence, **values: Any) -> None:
    async with database.session() as session:
        row = await session.get(Occurrence, occurrence.id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


# Planning -----------------------------------------------------------------------------


async def test_each_meeting_in_the_window_gets_its_rows_once(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(
        core.database,
        community,
        now=clock.now() - timedelta(days=10),
        reminders=[1440, 60],
        rotate=True,
    )
    await core.deliveries.plan_ahead()
    await core.deliveries.plan_ahead()  # unchanged: nothing new
    clock.advance(minutes=10)
    await core.deliveries.plan_ahead()  # re-planned after REFRESH: still nothing new
    rows = await deliveries(core.database)
    meetings = {d.occurrence_id for d in rows}
    assert len(meetings) == 2  # Tuesdays 3 and 10 March, within 14 days
    for occurrence_id in meetings:
        kinds = sorted(d.kind for d in rows if d.occurrence_id == occurrence_id)
        assert kinds == ["ask", "nudge", "pulse", "reminder:1440", "reminder:60", "start"]
    first = min(rows, key=lambda d: d.due_at)
    assert first.kind == "ask"  # a week before the first meeting
    assert first.due_at == clock.now().replace(day=3, hour=14, minute=0) - timedelta(days=7)


async def test_a_reminder_due_before_the_ritual_existed_is_not_planned(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[2880, 60], rotate=True)
    await core.deliveries.plan_ahead()
    first = await first_meeting(core.database)
    kinds = {d.kind for d in await deliveries(core.database) if d.occurrence_id == first.id}
    # 15:00 Berlin on Tuesday is 29 hours away: the 2-day reminder and the nudge were due
    # before the ritual was made; the ask is late but still asked.
    assert kinds == {"reminder:60", "start", "ask", "pulse"}


async def test_hooks_see_the_materialised_meetings_in_the_same_transaction(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    seen: list[tuple[int, list[int]]] = []

    async def plan_facilitators(session: Any, ritual: Ritual, occurrences: list[Occurrence]):
        seen.append((ritual.number, [o.id for o in occurrences]))
        for occurrence in occurrences:
            occurrence.facilitator_id = "bob"
            session.add(occurrence)

    core.deliveries.on_occurrences(plan_facilitators)
    community = await a_community(
        core.database, now=clock.now(), members={"alice": "steward", "bob": "member"}
    )
    await a_ritual(core.database, community, now=clock.now(), rotate=True)
    await core.deliveries.plan_ahead()
    assert seen and seen[0][0] == 1 and len(seen[0][1]) == 2
    assert (await first_meeting(core.database)).facilitator_id == "bob"
    assert await core.deliveries.run_due() == 1  # the late ask went to bob
    [ask] = platform.sent
    assert ask.kind == "facilitator_ask" and ask.to is not None and ask.to.user == "bob"
    assert [b.value for b in ask.buttons] == [
        "rotation #1 confirm 2026-03-03",
        "rotation #1 skip 2026-03-03",
    ]
    assert [b.label for b in ask.buttons] == ["Confirm", "Can't make it"]
    assert (
        "You're down to facilitate #1 Deep dive in Data Science on Tue 3 Mar 2026 at 15:00"
        in (texts(platform)[0])
    )


# Sending on time, once ----------------------------------------------------------------


async def test_a_reminder_goes_out_when_due_once_and_is_recorded(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    assert await core.deliveries.run_due() == 0
    clock.advance(hours=28)  # Tuesday 13:00 UTC = 14:00 Berlin, an hour before
    assert await core.deliveries.run_due() == 1
    assert await core.deliveries.run_due() == 0
    [reminder] = platform.sent
    assert reminder.kind == "ritual_reminder" and reminder.to is not None
    assert reminder.to.channel == "C1" and reminder.key is not None
    row = (await first_rows(core.database))["reminder:60"]
    assert (row.outcome, row.sent_at, row.claimed_until) == ("sent", clock.now(), None)
    assert row.message is not None and ref_from_dict(row.message).message_id == "m1"
    assert reminder.key == str(row.id)
    text = texts(platform)[0]
    assert text.startswith("Reminder: #1 Deep dive starts in 1h, Tue 3 Mar 2026 at 15:00")
    assert "Join: https://meet.example.org/ds" in text and "  - Walk through it" in text
    assert "Going 0 · Maybe 0 · Can't go 0" in text
    assert "/calendar/" in text and text.rstrip().endswith(f"/{row.occurrence_id}.ics")
    clock.advance(hours=1)
    assert await core.deliveries.run_due() == 1
    assert platform.kinds() == ["ritual_reminder", "ritual_start"]


async def test_after_downtime_only_the_latest_due_reminder_goes_out_late(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(
        core.database, community, now=clock.now() - timedelta(days=30), reminders=[1440, 120, 60]
    )
    await core.deliveries.plan_ahead()
    assert await core.deliveries.run_due() == 0
    # Down from Monday 09:00 to Tuesday 13:30 UTC: three reminders fell due meanwhile.
    clock.advance(hours=28, minutes=30)
    assert await core.deliveries.run_due() == 1
    [late] = platform.sent
    assert TEXT.text(late.kind, late.data).startswith("Reminder: #1 Deep dive starts in 30m,")
    first = await first_meeting(core.database)
    rows = {d.kind: d for d in await deliveries(core.database) if d.occurrence_id == first.id}
    assert {kind: row.outcome for kind, row in rows.items() if "reminder" in kind} == {
        "reminder:1440": "skipped",
        "reminder:120": "skipped",
        "reminder:60": "sent",
    }
    assert rows["reminder:1440"].detail == "a later reminder is due as well"


async def test_a_reminder_whose_meeting_started_and_a_start_post_late_are_skipped(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    clock.advance(hours=29, minutes=16)  # 16 minutes after Tuesday's start
    assert await core.deliveries.run_due() == 0
    assert platform.sent == []
    first = await first_meeting(core.database)
    rows = {d.kind: d for d in await deliveries(core.database) if d.occurrence_id == first.id}
    assert rows["reminder:60"].outcome == "skipped"
    assert rows["reminder:60"].detail == "the meeting has started"
    assert rows["start"].outcome == "skipped"


async def test_a_start_post_within_the_grace_goes_out_late(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[])
    await core.deliveries.plan_ahead()
    clock.advance(hours=29, minutes=14)
    assert await core.deliveries.run_due() == 1
    assert texts(platform) == [
        "#1 Deep dive starts now (15:00 Europe/Berlin).\nJoin: https://meet.example.org/ds"
    ]


async def test_a_skipped_or_cancelled_meeting_is_never_sent_for(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    ritual = await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    # Skipped after its rows were planned, and no sweep since: caught at send time.
    schedule = Schedule.from_json(ritual.schedule)
    first = upcoming(schedule, now=clock.now(), count=1)[0]
    async with core.database.session() as session:
        row = await session.get(Ritual, ritual.id)
        assert row is not None
        row.schedule = skip(schedule, first, now=clock.now()).to_json()
        row.updated_at = clock.now()
        session.add(row)
    clock.advance(hours=28)
    assert await core.deliveries.run_due() == 0
    meeting = await first_meeting(core.database)
    assert meeting.status == REMOVED
    assert {
        d.outcome for d in await deliveries(core.database) if d.occurrence_id == meeting.id
    } == {
        "skipped",
        "",
    }
    async with core.database.session() as session:
        row = await session.get(Ritual, ritual.id)
        assert row is not None
        row.status = "cancelled"
        session.add(row)
    clock.advance(days=7)
    assert await core.deliveries.sweep() == 0
    assert platform.sent == []


async def test_the_facilitator_is_asked_and_the_stewards_nudged_only_if_unconfirmed(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(
        core.database,
        now=clock.now(),
        members={"alice": "steward", "dana": "steward", "bob": "member"},
    )
    await a_ritual(
        core.database,
        community,
        now=clock.now() - timedelta(days=30),
        phrase="every 2 weeks on fri at 15:00",
        reminders=[],
        rotate=True,
    )
    await core.deliveries.plan_ahead()
    meeting = await first_meeting(core.database)  # Friday 6 March
    await set_meeting(core.database, meeting, facilitator_id="bob")
    assert await core.deliveries.run_due() == 1  # the ask, due a week ahead, goes late
    assert platform.kinds() == ["facilitator_ask"]
    clock.advance(days=2, hours=5)  # Wednesday 14:00 UTC: two days ahead
    assert await core.deliveries.run_due() == 1
    assert platform.kinds() == ["facilitator_ask", "facilitator_nudge", "facilitator_nudge"]
    assert sorted(r.to.user for r in platform.sent[1:] if r.to and r.to.user) == ["alice", "dana"]
    assert "Bob was asked and has not answered" in texts(platform)[1].replace("@", "")
    nudge = next(d for d in await deliveries(core.database) if d.kind == "nudge")
    assert nudge.message is not None and sorted(nudge.message["posts"]) == [
        f"{nudge.id}:alice",
        f"{nudge.id}:dana",
    ]


async def test_no_nudge_once_the_facilitator_confirmed(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(
        core.database,
        community,
        now=clock.now() - timedelta(days=30),
        phrase="every 2 weeks on fri at 15:00",
        reminders=[],
        rotate=True,
    )
    await core.deliveries.plan_ahead()
    meeting = await first_meeting(core.database)
    await set_meeting(core.database, meeting, facilitator_id="bob", facilitator_confirmed=True)
    clock.advance(days=2, hours=5)
    assert await core.deliveries.run_due() == 0
    assert platform.sent == []
    assert (await outcomes(core.database))["nudge"] == "skipped"


# Peer mentoring ------------------------------------------------------------------------


async def test_a_peer_mentoring_cycle_pairs_the_opted_in_and_tells_each_once(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    people = ("alice", "bob", "carol", "dan", "erin", "frank")
    community = await a_community(
        core.database, now=clock.now(), members={p: "member" for p in people}
    )
    ritual = await a_ritual(
        core.database,
        community,
        now=clock.now(),
        phrase="every 2 weeks on mon at 11:00",  # 10:00 UTC: today, then 16 and 30 March
        title="Peer mentoring",
        template="peer-mentoring",
        reminders=[],
    )
    async with core.database.session() as session:
        for user in people:
            session.add(
                FacilitatorPool(
                    ritual_id=ritual.id,
                    user_id=user,
                    opted_out=user == "frank",
                    joined_at=clock.now(),
                )
            )
        erin = (await session.exec(select(Member).where(Member.user_id == "erin"))).one()
        erin.active = False  # left the community
        session.add(erin)
        session.add(
            Absence(
                community_id=community.id,
                user_id="dan",
                first_day=clock.now().date(),
                last_day=clock.now().date() + timedelta(days=3),
                set_by="dan",
            )
        )
    await core.deliveries.plan_ahead()
    clock.advance(hours=1)
    assert await core.deliveries.run_due() == 2  # the pairs, and the start post
    intros = [r for r in platform.sent if r.kind == "pair_intro"]
    assert sorted(r.to.user for r in intros if r.to and r.to.user) == ["alice", "bob", "carol"]
    text = TEXT.text("pair_intro", intros[0].data)
    assert text.startswith("This cycle of Peer mentoring (#1) in Data Science pairs you with @")
    assert "Meet at a time that suits you, before Mon 16 Mar 2026." in text
    start = next(r for r in platform.sent if r.kind == "ritual_start")
    assert "This cycle's pairs are in your direct messages." in TEXT.text(start.kind, start.data)
    assert await core.deliveries.run_due() == 0  # told once
    # Two weeks on, dan is back: four people, and whoever met before is kept apart if possible.
    clock.advance(days=14)
    platform.sent.clear()
    assert await core.deliveries.sweep() == 2
    told = sorted(r.to.user for r in platform.sent if r.kind == "pair_intro" and r.to)
    assert told == ["alice", "bob", "carol", "dan"]
    async with core.database.session() as session:
        cycles = (
            await session.exec(
                select(PairGroup.occurrence_id, PairGroup.members).order_by(PairGroup.id)
            )
        ).all()
    first, second = (
        [m for o, m in cycles if o == oid] for oid in dict.fromkeys(o for o, _ in cycles)
    )
    assert first == [["alice", "bob", "carol"]]
    assert sorted(len(group) for group in second) == [2, 2]
    assert ["alice", "dan"] in second or ["bob", "dan"] in second or ["carol", "dan"] in second


# Exactly once when a process dies -----------------------------------------------------


async def claimed_then_abandoned(core: Core, clock: FixedClock) -> Delivery:
    """A reminder claimed by a process that died before recording a result."""
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    clock.advance(hours=28)
    from bot.services import deliveries as rows

    async with core.database.session() as session:
        [claim] = [
            c
            for c in await rows.claim(
                session,
                now=clock.now(),
                lease=timedelta(minutes=2),
                platforms=core.outbox.platforms,
                limit=10,
            )
            if c.delivery.kind == "reminder:60"
        ]
    return claim.delivery


async def test_a_dead_claim_on_a_platform_that_cannot_look_is_not_sent_again(
    core: Core, clock: FixedClock, platform: RecordingPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    delivery = await claimed_then_abandoned(core, clock)
    assert await core.deliveries.run_due() == 0  # still under the dead process's lease
    clock.advance(minutes=3)
    with caplog.at_level(logging.WARNING):
        assert await core.deliveries.run_due() == 0
    assert platform.sent == []
    assert (await outcomes(core.database))["reminder:60"] == "unknown"
    assert any(
        f"delivery {delivery.id} (reminder:60)" in r.getMessage()
        and "not sent again" in r.getMessage()
        for r in caplog.records
    )


async def test_a_dead_claim_is_looked_for_and_sent_only_if_not_found(
    core: Core, clock: FixedClock
) -> None:
    finder = RecordingPlatform(finds=True)
    core.outbox.register(finder)
    delivery = await claimed_then_abandoned(core, clock)
    clock.advance(minutes=3)
    assert await core.deliveries.run_due() == 1  # not found: sent now
    assert finder.lookups == [str(delivery.id)] and finder.kinds() == ["ritual_reminder"]
    row = next(d for d in await deliveries(core.database) if d.id == delivery.id)
    assert row.outcome == "sent" and row.message is not None


async def test_a_dead_claim_whose_post_is_out_is_recorded_not_resent(
    core: Core, clock: FixedClock
) -> None:
    finder = RecordingPlatform(finds=True)
    core.outbox.register(finder)
    finder.break_next = 1  # posted, but the answer is lost: the result is unknown
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    clock.advance(hours=28)
    assert await core.deliveries.run_due() == 0
    row = (await first_rows(core.database))["reminder:60"]
    assert row.outcome == "" and row.claimed_at is not None and row.attempts == 1
    clock.advance(minutes=1, seconds=1)
    assert await core.deliveries.run_due() == 1  # looked for, found: recorded, not sent
    assert finder.kinds() == ["ritual_reminder"] and finder.lookups == [str(row.id)]
    row = (await first_rows(core.database))["reminder:60"]
    assert row.outcome == "sent" and ref_from_dict(row.message or {}).message_id == "m1"


async def test_a_lost_answer_on_a_platform_that_cannot_look_ends_unknown(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    platform.break_next = 1
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    clock.advance(hours=28)
    await core.deliveries.run_due()
    clock.advance(hours=1)
    await core.deliveries.run_due()
    assert platform.kinds() == ["ritual_reminder", "ritual_start"]
    assert (await outcomes(core.database))["reminder:60"] == "unknown"


async def test_a_refused_post_is_retried_after_a_backoff(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    platform.refuse = 2
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    clock.advance(hours=28)
    assert await core.deliveries.run_due() == 0
    clock.advance(seconds=59)
    assert await core.deliveries.run_due() == 0  # backing off
    clock.advance(seconds=2)
    assert await core.deliveries.run_due() == 0  # refused again: five minutes now
    clock.advance(minutes=5, seconds=1)
    assert await core.deliveries.run_due() == 1
    row = (await first_rows(core.database))["reminder:60"]
    assert (row.outcome, row.attempts, row.detail) == ("sent", 2, "")
    assert platform.kinds() == ["ritual_reminder"]


async def test_two_runners_on_one_database_send_each_delivery_once(
    core: Core, clock: FixedClock, settings: Any
) -> None:
    shared = RecordingPlatform()
    core.outbox.register(shared)
    community = await a_community(core.database, now=clock.now())
    for number in range(1, 6):
        await a_ritual(core.database, community, now=clock.now(), number=number, reminders=[60])
    others = [Database(core.database.url, schema=core.database.schema) for _ in range(2)]
    from bot.outbox import Outbox

    runners = [core.deliveries]
    for database in others:
        outbox = Outbox(database, clock)
        outbox.register(shared)
        runners.append(DeliveryRunner(database, clock, outbox, public_url="http://x"))
    try:
        await asyncio.gather(*(r.plan_ahead() for r in runners))
        clock.advance(hours=28)
        sent = await asyncio.gather(*(r.run_due() for r in runners))
    finally:
        for database in others:
            await database.close()
    assert sum(sent) == 5 and len(shared.sent) == 5
    assert len({reply.key for reply in shared.sent}) == 5


# RSVP ------------------------------------------------------------------------------------


class ManualAlarm:
    """An alarm clock the test fires by hand (for `runner`)."""

    def __init__(self, runner: DeliveryRunner) -> None:
        self.runner = runner
        self.jobs: dict[str, tuple[Any, Job]] = {}
        self.set_count = 0

    def every(self, name: str, seconds: float, job: Job) -> None:
        pass

    def at(self, name: str, when: Any, job: Job) -> None:
        self.jobs[name] = (when, job)
        self.set_count += 1

    async def fire(self, prefix: str) -> int:
        fired = 0
        for name in [n for n in self.jobs if n.startswith(prefix)]:
            _, job = self.jobs.pop(name)
            await job()
            fired += 1
        await self.runner.settle()
        return fired


def press(user: str, value: str, platform: str = "test") -> ButtonPressed:
    return ButtonPressed(
        origin=Origin(platform=platform, workspace="W1", channel="C1", user=user),
        action="rsvp",
        value=value,
    )


async def reminder_out(core: Core, clock: FixedClock) -> tuple[Occurrence, Delivery]:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await core.deliveries.plan_ahead()
    clock.advance(hours=28)
    await core.deliveries.run_due()
    row = (await first_rows(core.database))["reminder:60"]
    return await first_meeting(core.database), row


async def test_rsvps_keep_one_answer_per_person_and_exact_counts_under_concurrency(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    meeting, _ = await reminder_out(core, clock)
    value = f"{meeting.id} "
    presses = [press(f"u{n}", value + ("going" if n % 3 else "maybe")) for n in range(30)]
    # The same person changes their mind many times at once: one row remains.
    presses += [press("zed", value + answer) for answer in ("going", "no", "maybe") * 4]
    answers = await asyncio.gather(*(core.router.handle(p) for p in presses))
    assert all(a and a[0].kind == "rsvp_saved" for a in answers)
    async with core.database.session() as session:
        rows = (await session.exec(select(Rsvp))).all()
    assert len(rows) == 31 and len({r.user_id for r in rows}) == 31
    zed = next(r.answer for r in rows if r.user_id == "zed")
    counts = {a: sum(1 for r in rows if r.answer == a) for a in ("going", "maybe", "no")}
    assert counts == {
        "going": 20 + (zed == "going"),
        "maybe": 10 + (zed == "maybe"),
        "no": int(zed == "no"),
    }
    [last] = await core.router.handle(press("zed", value + "no"))
    assert TEXT.text(last.kind, last.data).startswith(
        "Noted: you can't make it to #1 Deep dive on Tue 3 Mar 2026 at 15:00"
    )
    assert "Going 20 · Maybe 10 · Can't go 1" in TEXT.text(last.kind, last.data)


async def test_a_burst_of_rsvps_is_one_edit_of_the_reminder(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    alarm = ManualAlarm(core.deliveries)
    core.deliveries.start(alarm)
    meeting, row = await reminder_out(core, clock)
    for n in range(12):
        await core.router.handle(press(f"u{n}", f"{meeting.id} going"))
    name = f"rsvp-counts:{row.id}"
    assert name in alarm.jobs and alarm.jobs[name][0] == clock.now() + EDIT_DELAY
    assert platform.updated == []
    assert await alarm.fire("rsvp-counts:") == 1
    [(ref, edited)] = platform.updated
    assert ref == ref_from_dict(row.message or {})
    assert "Going 12 · Maybe 0 · Can't go 0" in TEXT.text(edited.kind, edited.data)
    assert edited.key == str(row.id) and len(edited.buttons) == 3
    await core.router.handle(press("late", f"{meeting.id} maybe"))  # the next window
    assert await alarm.fire("rsvp-counts:") == 1 and len(platform.updated) == 2


async def test_an_rsvp_for_another_workspace_or_an_ended_meeting_is_refused(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    meeting, _ = await reminder_out(core, clock)
    [other] = await core.router.handle(press("eve", f"{meeting.id} going", platform="slack"))
    assert other.kind == "error" and other.data["error"] == "rsvp_meeting_gone"
    [odd] = await core.router.handle(press("eve", f"{meeting.id} perhaps"))
    assert odd.data["error"] == "rsvp_unreadable"
    clock.advance(hours=3)
    [late] = await core.router.handle(press("eve", f"{meeting.id} going"))
    assert late.data["error"] == "rsvp_closed"


# remind #N -----------------------------------------------------------------------------


def command(text: str, user: str = "alice") -> CommandInvoked:
    return CommandInvoked(
        origin=Origin(platform="test", workspace="W1", channel="C1", user=user), text=text
    )


async def test_a_steward_posts_the_next_reminder_now_and_others_may_not(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(
        core.database, now=clock.now(), members={"alice": "steward", "bob": "member"}
    )
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    [answer] = await core.router.handle(command("ritual remind #1"))
    assert TEXT.text(answer.kind, answer.data) == (
        "Posted the reminder for #1 Deep dive on Tue 3 Mar 2026 at 15:00 (Europe/Berlin)."
    )
    [reminder] = platform.sent
    assert reminder.kind == "ritual_reminder" and reminder.data["ahead"] == "1d5h"
    [refused] = await core.router.handle(command("ritual remind #1", user="bob"))
    assert refused.data["error"] == "role_required"
    [unknown] = await core.router.handle(command("ritual remind #7"))
    assert TEXT.text(unknown.kind, unknown.data).startswith(
        "There is no ritual #7 in this community. Its rituals are #1."
    )
    [which] = await core.router.handle(command("ritual remind"))
    assert which.data["error"] == "remind_which"
    # The planned reminder still goes out at its time.
    clock.advance(hours=28)
    assert await core.deliveries.sweep() == 1


async def test_the_window_and_times_are_settings_of_the_runner(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    runner = DeliveryRunner(
        core.database,
        clock,
        core.outbox,
        public_url="https://copbot.example.org",
        times=DeliveryTimes(horizon=timedelta(days=3), ask=timedelta(days=2)),
    )
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now() - timedelta(days=9), rotate=True)
    await runner.plan_ahead()
    rows = await deliveries(core.database)
    assert len({d.occurrence_id for d in rows}) == 1
    ask = next(d for d in rows if d.kind == "ask")
    assert ask.due_at == clock.now().replace(day=1, hour=14)


async def test_a_one_off_to_the_second(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    await a_ritual(
        core.database, community, now=clock.now(), reminders=[1], **in_minutes(clock.now(), 1.5)
    )
    await core.deliveries.plan_ahead()
    clock.advance(seconds=29)
    assert await core.deliveries.run_due() == 0
    clock.advance(seconds=1)
    assert await core.deliveries.run_due() == 1


class HeldPlatform(RecordingPlatform):
    """Sends wait until the test lets them go (a rate limit holding them back)."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()
        self.go = asyncio.Event()

    async def send(self, reply: Any) -> Any:
        self.waiting.set()
        await self.go.wait()
        return await super().send(reply)


async def test_a_send_held_back_keeps_its_lease_alive(core: Core, clock: FixedClock) -> None:
    held = HeldPlatform()
    core.outbox.register(held)
    runner = DeliveryRunner(
        core.database,
        clock,
        core.outbox,
        public_url="http://x",
        times=DeliveryTimes(lease=timedelta(seconds=0.3)),
    )
    community = await a_community(core.database, now=clock.now())
    await a_ritual(core.database, community, now=clock.now(), reminders=[60])
    await runner.plan_ahead()
    clock.advance(hours=28)
    running = asyncio.ensure_future(runner.run_due())
    await asyncio.wait_for(held.waiting.wait(), 10)
    clock.advance(minutes=10)  # long past the first lease

    async def renewed() -> bool:
        row = (await first_rows(core.database))["reminder:60"]
        return row.claimed_until == clock.now() + timedelta(seconds=0.3)

    for _ in range(100):
        if await renewed():
            break
        await asyncio.sleep(0.05)
    assert await renewed()
    held.go.set()
    assert await running == 1
    assert (await outcomes(core.database))["reminder:60"] == "sent"


async def test_a_restart_or_another_process_does_not_plan_again_what_was_planned(
    core: Core, clock: FixedClock, platform: RecordingPlatform
) -> None:
    community = await a_community(core.database, now=clock.now())
    rituals = [
        await a_ritual(core.database, community, now=clock.now(), number=n) for n in (1, 2, 3)
    ]
    assert await core.deliveries.plan_ahead() == 3
    restarted = DeliveryRunner(core.database, clock, core.outbox, public_url="http://x")
    assert await restarted.plan_ahead() == 0
    clock.advance(hours=1, minutes=1)  # the window has moved on
    assert await restarted.plan_ahead() == 3
    await restarted.replan([rituals[0].id or 0])  # something the hooks read changed
    assert await core.deliveries.plan_ahead() == 1
    async with core.database.session() as session:
        ritual = await session.get(Ritual, rituals[1].id)
        assert ritual is not None
        ritual.sequence += 1  # edited
        session.add(ritual)
    assert await core.deliveries.plan_ahead() == 1
