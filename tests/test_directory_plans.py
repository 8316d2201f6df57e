"""A page of a large community's directory is read in order from `ix_members_directory`
(migration 0007d) and stops after the page: no sort of every member, on either database
(plans, not timings; `bench/scale.py` times `members` at 10 and 5,000 members)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.console.translate import PLATFORM, WORKSPACE
from tests.bulk_communities import seed, workspace_id
from tests.console_bot import ConsoleBot
from tests.sql_statements import query_plan, recording

MEMBERS = 3000
PAGE = 21  # a page of 20 and one more, to know whether there is a next page


def _nodes(plan: Any) -> Iterator[dict[str, Any]]:
    if isinstance(plan, list):
        for item in plan:
            yield from _nodes(item)
    elif isinstance(plan, dict):
        if "Node Type" in plan:
            yield plan
        for value in plan.values():
            yield from _nodes(value)


@pytest.mark.parametrize("line", ["members", "members page=3", "members member"])
async def test_a_page_of_a_large_directory_is_read_from_its_index(
    bot: ConsoleBot, line: str
) -> None:
    database = bot.core.database
    workspace = await workspace_id(database, PLATFORM, WORKSPACE)
    await seed(database, workspace, 1, members=MEMBERS, skills=2, prefix="big")
    with recording(database) as statements:
        answer = await bot.say(line, as_="U00001", channel="big-0")
    assert f"{MEMBERS} members" in answer or f"{MEMBERS - 1} members" in answer
    [directory] = [s for s in statements if "FROM members" in s[0] and "expertise" in s[0]]

    plan = await query_plan(database, directory)
    if database.backend == "postgresql":
        nodes = list(_nodes(plan))
        # The page: read in the index's order, no further than the page (and those before it).
        # (The count reads the whole community, by index or table as the planner likes.)
        [page] = [
            n
            for n in nodes
            if n.get("Index Name") == "ix_members_directory" and n["Node Type"] == "Index Scan"
        ]
        assert page["Actual Rows"] <= 3 * PAGE
        assert all(n["Actual Rows"] <= 3 * PAGE for n in nodes if n["Node Type"] == "Sort")
    else:
        details = [row[3] for row in plan]
        assert any("members USING INDEX ix_members_directory" in d for d in details), details
        # Only the page's rows and their skills are sorted, not the community's members.
        # (The count reads the whole community's entries in an index.)
        assert sum("TEMP B-TREE" in d for d in details) == 1, details
