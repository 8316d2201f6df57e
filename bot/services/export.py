"""A community's data as a zip of CSV files, for its stewards (`export`).

Rows are read in bounded batches (keyset pages by id); the zip is compressed off the event
loop. Anonymous polls appear as counts only: their voters' keyed hashes never leave."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from storage.database import Database
from storage.models import (
    Attendance,
    Community,
    Expertise,
    Kudos,
    Member,
    Occurrence,
    Poll,
    PollVote,
    Resource,
    Ritual,
    Win,
)

BATCH = 500  # rows per query: memory stays bounded by one page of rows at a time
MEDIA_TYPE = "application/zip"
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, kw_only=True)
class ExportFile:
    """The zip, its file name, and how many rows each CSV file holds."""

    filename: str
    content: bytes
    rows: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class _Table:
    """One CSV file: its header and its query, which selects the id to page by first."""

    name: str
    header: tuple[str, ...]
    query: Callable[[int], Select[*tuple[Any, ...]]]


def _cell(value: Any) -> Any:
    """A value as a spreadsheet should show it: times in ISO 8601, lists joined, text that a
    spreadsheet would run as a formula quoted with a leading apostrophe."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _slug(name: str) -> str:
    """The community's name for a file name: ASCII, accents dropped (`Données` -> `donnees`,
    not `donn-es`)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.casefold()).strip("-") or "community"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def _tables(community_id: int) -> list[_Table]:
    rituals = select(col(Ritual.id)).where(col(Ritual.community_id) == community_id)
    occurrences = select(col(Occurrence.id)).where(col(Occurrence.ritual_id).in_(rituals))
    skills = (
        select(func.count())
        .select_from(Expertise)
        .where(col(Expertise.member_id) == col(Member.id))
        .scalar_subquery()
    )
    return [
        _Table(
            name="members",
            header=("user_id", "name", "role", "active", "joined_at", "left_at", "skills"),
            query=lambda after: select(
                col(Member.id),
                col(Member.user_id),
                col(Member.display_name),
                col(Member.role),
                col(Member.active),
                col(Member.joined_at),
                col(Member.left_at),
                skills,
            ).where(col(Member.community_id) == community_id, col(Member.id) > after),
        ),
        _Table(
            name="rituals",
            header=(
                "number",
                "title",
                "template",
                "agenda",
                "location",
                "duration_minutes",
                "status",
                "created_by",
                "created_at",
            ),
            query=lambda after: select(
                col(Ritual.id),
                col(Ritual.number),
                col(Ritual.title),
                col(Ritual.template),
                col(Ritual.agenda),
                col(Ritual.location),
                col(Ritual.duration_minutes),
                col(Ritual.status),
                col(Ritual.created_by),
                col(Ritual.created_at),
            ).where(col(Ritual.community_id) == community_id, col(Ritual.id) > after),
        ),
        _Table(
            name="occurrences",
            header=(
                "ritual",
                "starts_at",
                "ends_at",
                "status",
                "facilitator",
                "co_facilitator",
            ),
            query=lambda after: (
                select(
                    col(Occurrence.id),
                    col(Ritual.number),
                    col(Occurrence.starts_at),
                    col(Occurrence.ends_at),
                    col(Occurrence.status),
                    col(Occurrence.facilitator_id),
                    col(Occurrence.co_facilitator_id),
                )
                .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
                .where(col(Ritual.community_id) == community_id, col(Occurrence.id) > after)
            ),
        ),
        _Table(
            name="attendance",
            header=("ritual", "meeting_starts_at", "user_id", "recorded_by", "at"),
            query=lambda after: (
                select(
                    col(Attendance.id),
                    col(Ritual.number),
                    col(Occurrence.starts_at),
                    col(Attendance.user_id),
                    col(Attendance.recorded_by),
                    col(Attendance.at),
                )
                .join(Occurrence, col(Occurrence.id) == col(Attendance.occurrence_id))
                .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
                .where(col(Attendance.occurrence_id).in_(occurrences), col(Attendance.id) > after)
            ),
        ),
        _Table(
            name="polls",
            header=(
                "number",
                "question",
                "options",
                "anonymous",
                "hidden",
                "multi",
                "created_by",
                "created_at",
                "closes_at",
                "closed_at",
            ),
            query=lambda after: select(
                col(Poll.id),
                col(Poll.number),
                col(Poll.question),
                col(Poll.options),
                col(Poll.anonymous),
                col(Poll.hidden),
                col(Poll.multi),
                col(Poll.created_by),
                col(Poll.created_at),
                col(Poll.closes_at),
                col(Poll.closed_at),
            ).where(col(Poll.community_id) == community_id, col(Poll.id) > after),
        ),
        _Table(
            name="poll_votes",
            # Named votes of open (not anonymous) polls only.
            header=("poll", "voter", "option", "at"),
            query=lambda after: (
                select(
                    col(PollVote.id),
                    col(Poll.number),
                    col(PollVote.voter),
                    col(PollVote.option),
                    col(PollVote.at),
                )
                .join(Poll, col(Poll.id) == col(PollVote.poll_id))
                .where(
                    col(Poll.community_id) == community_id,
                    col(Poll.anonymous).is_(False),
                    col(PollVote.chosen).is_(True),
                    col(PollVote.id) > after,
                )
            ),
        ),
        _Table(
            name="resources",
            header=(
                "number",
                "url",
                "title",
                "note",
                "summary",
                "tags",
                "status",
                "helpful",
                "shared_by",
                "created_at",
                "published_at",
            ),
            query=lambda after: select(
                col(Resource.id),
                col(Resource.number),
                col(Resource.url),
                col(Resource.title),
                col(Resource.note),
                col(Resource.summary),
                col(Resource.tags),
                col(Resource.status),
                col(Resource.helpful),
                col(Resource.shared_by),
                col(Resource.created_at),
                col(Resource.published_at),
            ).where(col(Resource.community_id) == community_id, col(Resource.id) > after),
        ),
        _Table(
            name="wins",
            header=("user_id", "text", "created_at"),
            query=lambda after: select(
                col(Win.id), col(Win.user_id), col(Win.text), col(Win.created_at)
            ).where(col(Win.community_id) == community_id, col(Win.id) > after),
        ),
        _Table(
            name="kudos",
            header=("from_user", "to_user", "text", "created_at"),
            query=lambda after: select(
                col(Kudos.id),
                col(Kudos.from_user),
                col(Kudos.to_user),
                col(Kudos.text),
                col(Kudos.created_at),
            ).where(col(Kudos.community_id) == community_id, col(Kudos.id) > after),
        ),
    ]


async def _pages(session: AsyncSession, table: _Table) -> AsyncIterator[Sequence[Any]]:
    """The table's rows in id order, `BATCH` at a time."""
    after = 0
    while True:
        query = table.query(after)
        query = query.order_by(query.selected_columns[0]).limit(BATCH)
        connection = await session.connection()
        rows = (await connection.execute(query)).all()
        for row in rows:
            yield row
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


class ExportService:
    """Builds a community's export."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def export(self, community: Community) -> ExportFile:
        """Every CSV file of `community`, zipped; `poll_results` counts every poll's votes
        (anonymous ones too, as counts)."""
        assert community.id is not None
        files: dict[str, str] = {}
        rows: dict[str, int] = {}
        async with self._database.session() as session:
            for table in _tables(community.id):
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(table.header)
                count = 0
                async for row in _pages(session, table):
                    writer.writerow([_cell(value) for value in row[1:]])
                    count += 1
                files[f"{table.name}.csv"] = buffer.getvalue()
                rows[table.name] = count
            files["poll_results.csv"], rows["poll_results"] = await _poll_results(
                session, community.id
            )
        content = await asyncio.to_thread(_zip, files)
        day = self._clock.now().date().isoformat()
        return ExportFile(
            filename=f"copbot-export-{_slug(community.name)}-{day}.zip",
            content=content,
            rows=rows,
        )


async def _poll_results(session: AsyncSession, community_id: int) -> tuple[str, int]:
    """Votes per option of every poll: all a file says about an anonymous poll's voters."""
    connection = await session.connection()
    polls = select(col(Poll.id), col(Poll.options)).where(col(Poll.community_id) == community_id)
    options: dict[int | None, list[str]] = {
        poll_id: labels for poll_id, labels in (await connection.execute(polls)).all()
    }
    query = (
        select(col(Poll.id), col(Poll.number), col(PollVote.option), func.count())
        .join(PollVote, col(PollVote.poll_id) == col(Poll.id))
        .where(col(Poll.community_id) == community_id, col(PollVote.chosen).is_(True))
        .group_by(col(Poll.id), col(Poll.number), col(PollVote.option))
        .order_by(col(Poll.number), col(PollVote.option))
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("poll", "option", "label", "votes"))
    count = 0
    for poll_id, number, option, votes in (await connection.execute(query)).all():
        labels = options.get(poll_id) or []
        label = labels[option - 1] if 0 < option <= len(labels) else ""
        writer.writerow([number, option, _cell(label), votes])
        count += 1
    return buffer.getvalue(), count
