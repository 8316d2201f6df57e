"""`stats` on a community with two years of history (a benchmark, not a test).

Bulk-loads one community with three weekly rituals over two years (about 50 members, who came
to each meeting, a pulse poll per meeting with its votes, RSVPs, resources, wins, kudos and an
activity log), next to `--neighbours` other communities with the same history so that every
table holds many times what the measured community owns. Then times the `stats` command
through the router (parse, community lookup, the health report, the reply rendered as text)
and the report alone, for 90 days and for two years, printing p50/p95 in milliseconds, and
the chart drawn once: `python bench/stats.py [--neighbours 20] [--rounds 60]
[--database-url URL]`. The tables are analysed after the load, as on a live database. On
PostgreSQL the data goes into a schema made for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from scratch import scratch_database
from sqlalchemy import func, insert, select, text

from adapters.charts import draw
from bot.app import build_core
from bot.clock import FixedClock
from bot.events import CommandInvoked, Origin
from bot.services.health import Period
from bot.settings import Settings
from messages.rendering import Renderer
from storage.database import Database
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
    Rsvp,
    Win,
    Workspace,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEKS = 104
MEMBERS = 50
RITUALS = 3


def origin(channel: str) -> Origin:
    return Origin(platform="bench", workspace="W", channel=channel, user="u0", user_name="U0")


async def fill(database: Database, communities: int) -> None:
    """`communities` communities, each with two years of history (the first is measured)."""
    rng = random.Random(7)
    async with database.engine.begin() as connection:
        [workspace_id] = (
            await connection.execute(
                insert(Workspace)
                .values(platform="bench", external_id="W", created_at=NOW - timedelta(days=800))
                .returning(Workspace.id)  # type: ignore[arg-type]
            )
        ).one()
        for index in range(communities):
            await _one(connection, rng, workspace_id, index)


async def _one(connection: Any, rng: random.Random, workspace_id: int, index: int) -> None:
    start = NOW - timedelta(weeks=WEEKS)
    [community_id] = (
        await connection.execute(
            insert(Community)
            .values(
                workspace_id=workspace_id,
                name=f"Community {index}",
                name_key=f"community {index}",
                channel_id=f"C{index}",
                created_at=start - timedelta(days=7),
            )
            .returning(Community.id)  # type: ignore[arg-type]
        )
    ).one()
    people = [f"u{i}" for i in range(MEMBERS)]
    await connection.execute(
        insert(Member),
        [
            {
                "community_id": community_id,
                "user_id": user,
                "display_name": user.upper(),
                "role": "steward" if i == 0 else "core" if i < 4 else "member",
                "active": True,
                "joined_at": start + timedelta(days=rng.randint(-7, WEEKS * 7)),
            }
            for i, user in enumerate(people)
        ],
    )
    polls, votes, came, rsvps, activity = [], [], [], [], []
    for number in range(1, RITUALS + 1):
        [ritual_id] = (
            await connection.execute(
                insert(Ritual)
                .values(
                    community_id=community_id,
                    number=number,
                    template="deep-dive",
                    title=f"Ritual {number}",
                    schedule={},
                    reminders=[60],
                    rotate=True,
                    pulse=True,
                    uid=f"bench-{community_id}-{number}",
                    created_by="u0",
                    created_at=start,
                    updated_at=start,
                    past_series=[],
                )
                .returning(Ritual.id)  # type: ignore[arg-type]
            )
        ).one()
        meetings = [
            {
                "ritual_id": ritual_id,
                "starts_at": start + timedelta(weeks=week, days=number),
                "ends_at": start + timedelta(weeks=week, days=number, hours=1),
                "recurrence_id": f"{week}",
                "status": "scheduled",
                "facilitator_id": rng.choice(people[:8]),
                "facilitator_assigned": False,
                "facilitator_confirmed": True,
            }
            for week in range(WEEKS + 2)  # two meetings ahead
        ]
        ids = (
            await connection.execute(
                insert(Occurrence).returning(Occurrence.id, Occurrence.starts_at),  # type: ignore[arg-type]
                meetings,
            )
        ).all()
        for occurrence_id, starts_at in ids:
            if starts_at > NOW:
                continue
            present = rng.sample(people, k=rng.randint(4, 14))
            came += [
                {"occurrence_id": occurrence_id, "user_id": u, "recorded_by": "u0", "at": starts_at}
                for u in present
            ]
            rsvps += [
                {
                    "occurrence_id": occurrence_id,
                    "user_id": u,
                    "answer": "going",
                    "at": starts_at - timedelta(days=1),
                }
                for u in rng.sample(people, k=12)
            ]
            polls.append((occurrence_id, starts_at, present))
    for number, (occurrence_id, starts_at, present) in enumerate(polls, start=1):
        [poll_id] = (
            await connection.execute(
                insert(Poll)
                .values(
                    community_id=community_id,
                    number=number,
                    question="pulse",
                    options=["great", "useful", "meh", "not useful"],
                    anonymous=True,
                    created_by="copbot",
                    created_at=starts_at,
                    occurrence_id=occurrence_id,
                )
                .returning(Poll.id)  # type: ignore[arg-type]
            )
        ).one()
        votes += [
            {
                "poll_id": poll_id,
                "voter": f"h:{poll_id}:{u}",
                "option": rng.randint(1, 4),
                "chosen": True,
                "at": starts_at + timedelta(hours=1),
            }
            for u in present[: len(present) - 1]
        ]
    days = WEEKS * 7
    activity += [
        {
            "workspace_id": workspace_id,
            "community_id": community_id,
            "user_id": rng.choice(people),
            "action": "member.joined",
            "detail": {},
            "at": start + timedelta(minutes=rng.randint(0, days * 24 * 60)),
        }
        for _ in range(3_000)
    ]
    for table, rows in (
        (Attendance, came),
        (Rsvp, rsvps),
        (PollVote, votes),
        (Activity, activity),
    ):
        await connection.execute(insert(table), rows)
    await connection.execute(
        insert(Resource),
        [
            {
                "community_id": community_id,
                "number": n,
                "title": f"Resource {n}",
                "shared_by": rng.choice(people),
                "status": "published",
                "helpful": 0,
                "note": "",
                "summary": "",
                "saved_text": "",
                "links": [],
                "tags": [],
                "search_text": f"resource {n}",
                "created_at": start + timedelta(days=rng.randint(0, days)),
            }
            for n in range(1, 301)
        ],
    )
    await connection.execute(
        insert(Win),
        [
            {
                "community_id": community_id,
                "user_id": rng.choice(people),
                "text": "a win",
                "created_at": start + timedelta(days=rng.randint(0, days)),
            }
            for _ in range(200)
        ],
    )
    await connection.execute(
        insert(Kudos),
        [
            {
                "community_id": community_id,
                "from_user": rng.choice(people),
                "to_user": rng.choice(people),
                "text": "thanks",
                "created_at": start + timedelta(days=rng.randint(0, days)),
            }
            for _ in range(400)
        ],
    )


async def timed(rounds: int, run: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(3):  # warm caches and connections
        await run()
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


async def measure(database: Database, neighbours: int, rounds: int) -> None:
    await database.upgrade()
    began = time.perf_counter()
    await fill(database, neighbours + 1)
    async with database.engine.begin() as connection:
        # Table statistics, as PostgreSQL's autovacuum (and SQLite's optimize) keep them on a
        # live database; without them, PostgreSQL plans the fresh bulk load blind.
        await connection.execute(text("ANALYZE"))
    took = time.perf_counter() - began
    print(f"{database.backend}: filled {neighbours + 1} communities in {took:.1f} s")
    async with database.session() as session:
        counts = {
            str(table.__tablename__): (
                await session.exec(select(func.count()).select_from(table))  # type: ignore[call-overload]
            ).one()[0]
            for table in (Occurrence, Attendance, PollVote, Rsvp, Activity)
        }
    print("rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    settings = Settings(database_url=database.url)
    core = build_core(settings, database=database, clock=FixedClock(NOW))
    renderer = Renderer("text")
    async with database.session() as session:
        measured = select(Community).where(Community.channel_id == "C0")
        community = (await session.exec(measured)).one()[0]  # type: ignore[call-overload]

    def command(line: str) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            [reply] = await core.router.handle(CommandInvoked(origin=origin("C0"), text=line))
            assert reply.kind == "stats", reply.data
            return renderer.text(reply.kind, reply.data)

        return run

    def report(days: int) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            return await core.health.report(community, Period.last_days(NOW, days))

        return run

    print(f"{'':<28}{'p50 ms':>9}{'p95 ms':>9}")
    for label, run in (
        ("stats (90 days)", command("stats")),
        ("stats days=730", command("stats days=730")),
        ("report alone (90 days)", report(90)),
        ("report alone (730 days)", report(730)),
    ):
        samples = await timed(rounds, run)
        print(f"{label:<28}{statistics.median(samples):>9.1f}{p95(samples):>9.1f}")
    sessions = (await core.health.report(community, Period.last_days(NOW, 730))).sessions
    began = time.perf_counter()
    png = await asyncio.to_thread(draw, "Community 0", sessions)
    took = (time.perf_counter() - began) * 1000
    print(f"chart of {len(sessions)} meetings drawn in {took:.0f} ms ({len(png):,} bytes)")


async def main(neighbours: int, rounds: int, database_url: str | None) -> None:
    async with scratch_database(database_url) as database:
        await measure(database, neighbours, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neighbours", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.neighbours, arguments.rounds, arguments.database_url))
