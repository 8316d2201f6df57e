"""Library search over 100,000 resources (a benchmark, not a test).

Fills one community's library with synthetic resources (Zipf-distributed words, tags and
helpful marks), then times `LibraryService.search` per query against the bare full-text
query on the same database in the same run (FTS5 MATCH ordered by rank on SQLite, the GIN
`@@` on the stored tsvector ordered by ts_rank on PostgreSQL), printing p50/p95 and the ratio:
`python bench/library_search.py [--resources 100000] [--rounds 60] [--database-url URL]`.
On PostgreSQL the data goes into a schema made for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from scratch import scratch_database
from sqlalchemy import insert, text

from bot.clock import FixedClock
from bot.events import Origin
from bot.services.communities import CharterChange, CommunityService
from bot.services.library import LibraryService, words
from storage.database import Database
from storage.models import Resource, ResourceTag

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "common word": ("data", ()),
    "mid word": ("kubernetes", ()),
    "rare word": ("w1733", ()),
    "two words": ("python pipeline", ()),
    "three words": ("data model testing", ()),
    "word + tag": ("data", ("#ml",)),
    "no match": ("zzzunknown", ()),
    "newest (empty)": ("", ()),
    "tag only": ("", ("#ops",)),
}
COMMON = (
    "data",
    "python",
    "pipeline",
    "model",
    "testing",
    "kubernetes",
    "cloud",
    "security",
    "design",
    "review",
    "streaming",
    "batch",
    "cache",
    "index",
    "query",
    "metrics",
    "tracing",
    "deploy",
    "release",
    "incident",
)
TAGS = ("ml", "ops", "data", "web", "security", "python", "infra", "career")


def origin() -> Origin:
    return Origin(platform="bench", workspace="W", channel="C", user="u0", user_name="U0")


VOCABULARY = [*COMMON, *(f"w{i}" for i in range(20_000))]
# Zipf's law (weight 1/rank): "data" is in about one resource in four, w1733 is rare.
WEIGHTS = list(itertools.accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))


def sentence(rng: random.Random, length: int) -> str:
    return " ".join(rng.choices(VOCABULARY, cum_weights=WEIGHTS, k=length))


async def fill(database: Database, community_id: int, count: int) -> None:
    rng = random.Random(7)
    async with database.engine.begin() as connection:
        for start in range(0, count, 5000):
            rows, tag_rows = [], []
            for n in range(start + 1, min(start + 5000, count) + 1):
                title = sentence(rng, rng.randint(3, 9)).capitalize()
                note = sentence(rng, rng.randint(0, 20))
                tags = sorted(set(rng.sample(TAGS, rng.randint(0, 3))))
                searchable = " ".join(words(" ".join((title, note, *tags))))
                rows.append(
                    {
                        "id": n,
                        "community_id": community_id,
                        "number": n,
                        "url": f"https://example.com/{n}",
                        "url_key": f"https://example.com/{n}",
                        "title": title,
                        "note": note,
                        "summary": "",
                        "saved_text": "",
                        "links": [],
                        "tags": tags,
                        "search_text": searchable,
                        "status": "published",
                        "helpful": int(rng.paretovariate(1.5)) - 1,
                        "shared_by": f"u{n % 50}",
                        "created_at": NOW - timedelta(minutes=count - n),
                        "published_at": NOW - timedelta(minutes=count - n),
                    }
                )
                tag_rows += [{"resource_id": n, "tag": t} for t in tags]
            await connection.execute(insert(Resource.__table__), rows)  # type: ignore[attr-defined]
            if tag_rows:
                await connection.execute(insert(ResourceTag.__table__), tag_rows)  # type: ignore[attr-defined]
        if database.backend == "postgresql":
            await connection.execute(text("SELECT setval('resources_id_seq', :n)"), {"n": count})
            await connection.execute(text("ANALYZE resources"))
            await connection.execute(text("ANALYZE resource_tags"))


def raw_query(database: Database, query: str) -> tuple[str, dict[str, object]] | None:
    terms = words(query)
    if not terms:
        return None
    if database.backend == "sqlite":
        return (
            "SELECT rowid FROM library_search WHERE library_search MATCH :m ORDER BY rank LIMIT 11",
            {"m": " ".join(f'"{t}"' for t in terms)},
        )
    return (
        "SELECT id FROM resources, plainto_tsquery('simple', :t) q"
        " WHERE search_vector @@ q ORDER BY ts_rank(search_vector, q) DESC LIMIT 11",
        {"t": " ".join(terms)},
    )


async def timed(rounds: int, run: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(3):  # warm caches
        await run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def p95(samples: list[float]) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * 0.95))]


async def measure(database: Database, count: int, rounds: int) -> None:
    clock = FixedClock(NOW)
    await database.upgrade()
    community = (
        await CommunityService(database, clock).setup(origin(), CharterChange(name="Bench CoP"))
    ).community
    assert community.id is not None
    loading = time.perf_counter()
    await fill(database, community.id, count)
    print(
        f"{count:,} resources loaded in {time.perf_counter() - loading:.1f} s ({database.backend})"
    )
    library = LibraryService(database, clock)
    columns = ("p50 ms", "p95 ms", "raw p50", "raw p95")
    print(f"{'query':<16}{'hits':>6}" + "".join(f"{c:>9}" for c in columns) + f"{'p95 x':>7}")
    for name, (query, tags) in QUERIES.items():
        page = await library.search(community, query, tags=tags)
        service = await timed(rounds, lambda q=query, t=tags: library.search(community, q, tags=t))
        raw = raw_query(database, query)
        line = f"{name:<16}{len(page.resources):>6}"
        line += f"{statistics.median(service):>9.2f}{p95(service):>9.2f}"
        if raw is None:
            print(line + f"{'-':>9}{'-':>9}{'-':>7}")
            continue

        async def bare(statement: str = raw[0], params: dict[str, object] = raw[1]) -> object:
            async with database.session() as session:
                connection = await session.connection()
                return (await connection.execute(text(statement), params)).all()

        base = await timed(rounds, bare)
        ratio = p95(service) / p95(base) if p95(base) else float("nan")
        print(line + f"{statistics.median(base):>9.2f}{p95(base):>9.2f}{ratio:>7.2f}")


async def main(count: int, rounds: int, database_url: str | None) -> None:
    async with scratch_database(database_url) as database:
        await measure(database, count, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.resources, arguments.rounds, arguments.database_url))
