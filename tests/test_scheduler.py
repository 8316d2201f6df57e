"""The scheduler wrapper wakes copbot up: interval and one-off jobs run, failures are logged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from rituals.scheduler import Scheduler


async def test_a_one_off_job_runs_and_an_interval_job_repeats() -> None:
    fired = asyncio.Event()
    ticks: list[int] = []

    async def once() -> None:
        fired.set()

    async def tick() -> None:
        ticks.append(1)

    async with Scheduler() as scheduler:
        scheduler.at("once", datetime.now(UTC) + timedelta(milliseconds=50), once)
        scheduler.every("tick", 0.02, tick)
        await asyncio.wait_for(fired.wait(), 5)
        while len(ticks) < 2:
            await asyncio.sleep(0.01)
        assert "tick" in scheduler.jobs
        scheduler.cancel("tick")
        assert "tick" not in scheduler.jobs


async def test_a_failing_job_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def broken() -> None:
        runs.append(1)
        raise RuntimeError("boom")

    async with Scheduler() as scheduler:
        scheduler.every("broken", 0.02, broken)
        while len(runs) < 2:
            await asyncio.sleep(0.01)
    assert any("scheduled job broken failed" in r.getMessage() for r in caplog.records)


async def test_a_job_due_while_nothing_ran_is_run_late_not_dropped() -> None:
    fired = asyncio.Event()

    async def late() -> None:
        fired.set()

    async with Scheduler() as scheduler:
        scheduler.at("late", datetime.now(UTC) - timedelta(minutes=5), late)
        await asyncio.wait_for(fired.wait(), 5)
