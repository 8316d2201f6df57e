"""copbot's alarm clock: a small wrapper over APScheduler 3.x, the only module that sees it.

The database holds the truth about what is due; the scheduler only wakes copbot up, so its
jobs live in memory (a job store shared between processes is unsafe in 3.x), a missed run is
run late rather than dropped (`misfire_grace_time=None`) and piled-up runs become one."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class Scheduler:
    """`async with Scheduler() as scheduler:` starts it on the running loop, stops it after."""

    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )

    async def __aenter__(self) -> Self:
        self._scheduler.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._scheduler.shutdown(wait=False)

    def every(self, name: str, seconds: float, job: Job) -> None:
        """Run `job` every `seconds` (replacing a job of the same name)."""
        self._scheduler.add_job(
            _guarded(name, job),
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            replace_existing=True,
        )

    def at(self, name: str, when: datetime, job: Job) -> None:
        """Run `job` once at `when` (a timezone-aware time), replacing a job of that name."""
        self._scheduler.add_job(
            _guarded(name, job), "date", run_date=when, id=name, name=name, replace_existing=True
        )

    def cancel(self, name: str) -> None:
        if self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)

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
