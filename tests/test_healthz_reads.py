"""/healthz costs the same however many posts are kept: it sends as many statements with more
kept posts than it counts as with none, and its count goes through `ix_pending_posts_due`,
cut off by a LIMIT (counted, not timed; `bench/healthz.py` times it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.server import PENDING_COUNTED_UP_TO, server_app
from bot.app import Core
from bot.clock import FixedClock
from tests.bulk_kept_posts import keep
from tests.sql_statements import Statement, query_plan, recording


@asynccontextmanager
async def serving(core: Core) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(TestServer(server_app(core), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def _healthz(client: TestClient[Any, Any], core: Core) -> tuple[list[Statement], Any]:
    await client.get("/healthz")  # warm up
    with recording(core.database) as statements:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 200, body
    return statements, body


async def test_healthz_sends_as_many_statements_with_many_kept_posts_as_with_none(
    core: Core, clock: FixedClock
) -> None:
    async with serving(core) as client:
        none, body = await _healthz(client, core)
        assert body["pending_posts"] == 0
        await keep(core.database, PENDING_COUNTED_UP_TO + 50, clock.now())
        await keep(core.database, 300, clock.now(), outcome="sent")
        many, body = await _healthz(client, core)

    assert body["pending_posts"] == PENDING_COUNTED_UP_TO  # that many or more
    assert len(many) == len(none) == 2  # the ping and the count
    [count] = [sql for sql, _ in many if "pending_posts" in sql]
    assert "LIMIT" in count.upper()


def _scans(plan: Any) -> Iterator[dict[str, Any]]:
    """The nodes of a PostgreSQL JSON plan that read `pending_posts` or its indexes."""
    if isinstance(plan, list):
        for item in plan:
            yield from _scans(item)
    elif isinstance(plan, dict):
        if plan.get("Relation Name") == "pending_posts" or "Index Name" in plan:
            yield plan
        for value in plan.values():
            yield from _scans(value)


@pytest.mark.parametrize("waiting,finished", [(200, 3000), (2000, 0)])
async def test_healthz_counts_kept_posts_through_the_index_and_no_further_than_it_shows(
    core: Core, clock: FixedClock, waiting: int, finished: int
) -> None:
    await keep(core.database, waiting, clock.now())
    await keep(core.database, finished, clock.now(), outcome="sent")
    async with serving(core) as client:
        statements, _ = await _healthz(client, core)
    [count] = [s for s in statements if "pending_posts" in s[0]]

    plan = await query_plan(core.database, count)
    if core.database.backend == "postgresql":
        scans = list(_scans(plan))
        assert [scan["Node Type"] for scan in scans] in (["Index Only Scan"], ["Index Scan"])
        assert scans[0]["Index Name"] == "ix_pending_posts_due"
        assert scans[0]["Actual Rows"] <= PENDING_COUNTED_UP_TO
    else:
        [search] = [row[3] for row in plan if "pending_posts" in row[3]]
        assert search.startswith("SEARCH pending_posts USING COVERING INDEX ix_pending_posts_due")
        assert not any("TEMP B-TREE" in row[3] for row in plan)  # the LIMIT stops the search
