"""Plain data about rituals and meetings for reply templates (templates never see rows).

Instants travel as ISO strings in UTC; each reply also carries the community's `zone`, and
the templates' `when` filter shows an instant in it (Slack shows it in each reader's own)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.commands.reply_data import user_data
from bot.services.rituals import is_paused
from rituals.catalog import RitualTemplate
from rituals.schedule import Schedule, format_duration
from rituals.walltime import to_wall
from storage.models import Occurrence, Ritual


def instant(moment: datetime | None) -> str | None:
    """An aware instant as ISO 8601 in UTC (None stays None)."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def person(user_id: str | None, names: dict[str, str]) -> dict[str, str] | None:
    return None if user_id is None else user_data(user_id, names.get(user_id, user_id))


def ritual_data(ritual: Ritual, *, now: datetime) -> dict[str, Any]:
    schedule = Schedule.from_json(ritual.schedule)
    paused = is_paused(schedule, now)
    until = None
    if paused and schedule.pause is not None and schedule.pause.end is not None:
        until = to_wall(schedule.pause.end, schedule.tz).date().isoformat()
    status = ritual.status if ritual.status != "active" else ("paused" if paused else "active")
    return {
        "number": ritual.number,
        "ref": f"#{ritual.number}",
        "title": ritual.title,
        "template": ritual.template,
        "schedule": schedule.describe(),
        "zone": schedule.zone,
        "duration": format_duration(timedelta(minutes=ritual.duration_minutes)),
        "reminders": [format_duration(timedelta(minutes=m)) for m in ritual.reminders],
        "rotate": ritual.rotate,
        "pulse": ritual.pulse,
        "where": ritual.location,
        "agenda": [line for line in ritual.agenda.splitlines() if line.strip()],
        "status": status,
        "paused_until": until,
    }


def meeting_data(
    row: Occurrence, ritual: Ritual, names: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """One meeting: when, which ritual, who facilitates. `day` is its date in the ritual's
    zone, as commands about one meeting take it (`rotation #3 skip 2026-04-07`)."""
    zone = Schedule.from_json(ritual.schedule).tz
    return {
        "id": row.id,
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "day": to_wall(row.starts_at, zone).date().isoformat(),
        "ritual": {"number": ritual.number, "ref": f"#{ritual.number}", "title": ritual.title},
        "facilitator": person(row.facilitator_id, names) if ritual.rotate else None,
        "co_facilitator": person(row.co_facilitator_id, names) if ritual.rotate else None,
        "confirmed": row.facilitator_confirmed,
        "assigned": row.facilitator_assigned,
        "rotate": ritual.rotate,
        **extra,
    }


def template_data(template: RitualTemplate) -> dict[str, Any]:
    return {
        "key": template.key,
        "title": template.title,
        "duration": format_duration(template.duration),
        "cadence": template.cadence,
        "rotates": template.rotates_facilitator,
        "pairs": template.pairs_people,
        "agenda": list(template.agenda),
    }
