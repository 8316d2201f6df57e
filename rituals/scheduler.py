"""copbot's alarm clock: a small wrapper over APScheduler 3.x, the only module that sees it.

The database holds the truth about what is due; the scheduler only wakes copbot up, so its
jobs live in memory (a job store shared between processes is unsafe in 3.x), a missed run is
run late rather than dropped (`misfire_grace_time=None`) and piled-up runs become one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
# How long leaving waits for the jobs still running before it cancels them.
STOP_GRACE_SECONDS = 10.0


class Scheduler:
    """`async with Scheduler() as scheduler:` starts it on the running loop, stops it after,
    once the jobs still running have ended (cancelled after `grace` seconds), so nothing they
    use (the database) is closed under them."""

    def __init__(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        self._scheduler = AsyncIOScheduler(
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )
        self._grace = grace
        self._running: set[asyncio.Task[object]] = set()

    async def __aenter__(self) -> Self:
        self._scheduler.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._scheduler.pause()  # no new runs; shutting down would cancel the running ones
        await stop_tasks(self._running, self._grace)
        self._scheduler.shutdown(wait=False)

    def every(self, name: str, seconds: float, job: Job) -> None:
        """Run `job` every `seconds` (replacing a job of the same name)."""
        self._scheduler.add_job(
            self._tracked(_guarded(name, job)),
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            replace_existing=True,
        )

    def at(self, name: str, when: datetime, job: Job) -> None:
        """Run `job` once at `when` (a timezone-aware time), replacing a job of that name."""
        self._scheduler.add_job(
            self._tracked(_guarded(name, job)),
            "date",
            run_date=when,
            id=name,
            name=name,
            replace_existing=True,
        )

    def cancel(self, name: str) -> None:
        if self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)

    def _tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """`job`, its runs kept in `_running` while they last."""

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            finally:
                self._running.discard(task)

        return run

    @property
    def jobs(self) -> tuple[str, ...]:
        return tuple(job.id for job in self._scheduler.get_jobs())


def _guarded(name: str, job: Job) -> Callable[[], Awaitable[None]]:
    """A job whose failure is logged and does not stop later runs."""

    async def run() -> None:
        try:
            await job()
        except Exception:
            log.exception("scheduled job %s failed", name)

    return run


async def stop_tasks(tasks: set[asyncio.Task[object]], grace: float) -> None:
    """Wait up to `grace` seconds for `tasks` to end, then cancel the rest and wait for them."""
    current = asyncio.current_task()
    waiting = {task for task in tasks if task is not current}
    if not waiting:
        return
    _, late = await asyncio.wait(waiting, timeout=grace)
    for task in late:
        log.warning("stopping: cancelling %s, still running after %ss", task.get_name(), grace)
        task.cancel()
    if late:
        await asyncio.wait(late)
