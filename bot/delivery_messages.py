"""The replies deliveries post (reminder, start, facilitator's ask, stewards' nudge, pair
introduction) and the plain data their templates read; templates never see rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands.reply_data import community_data, user_data
from bot.replies import Button, Destination, Reply, Visibility
from bot.services.upcoming import local_day
from rituals.schedule import Schedule, format_duration
from storage.models import Community, Occurrence, Ritual, Workspace

RSVP_ACTION = "rsvp"
RSVP_LABELS = (("going", "Going"), ("maybe", "Maybe"), ("no", "Can't go"))


def zone_of(ritual: Ritual) -> str:
    """The zone a ritual's times are shown in: its schedule's (the community's when made)."""
    return Schedule.from_json(ritual.schedule).zone


def when_data(instant: datetime, zone: str) -> dict[str, Any]:
    """An instant for the templates: epoch and UTC (Slack and Teams show them in each
    reader's zone), and the wall time in `zone` for text and fallbacks."""
    local = instant.astimezone(ZoneInfo(zone))
    return {
        "epoch": int(instant.timestamp()),
        "utc": instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date": local.date().isoformat(),
        "day": f"{local:%a} {local.day} {local:%b} {local.year}",
        "time": f"{local:%H:%M}",
        "zone": zone,
    }


def ritual_data(ritual: Ritual) -> dict[str, Any]:
    return {
        "number": ritual.number,
        "title": ritual.title,
        "agenda": [line.strip() for line in ritual.agenda.splitlines() if line.strip()],
        "location": ritual.location,
        "template": ritual.template,
    }


def channel_of(community: Community, workspace: Workspace) -> Destination:
    return Destination(
        platform=workspace.platform,
        workspace=workspace.external_id,
        enterprise=workspace.enterprise_id,
        channel=community.channel_id,
    )


def direct(workspace: Workspace, user_id: str) -> Destination:
    return Destination(
        platform=workspace.platform,
        workspace=workspace.external_id,
        enterprise=workspace.enterprise_id,
        user=user_id,
    )


def person(user_id: str | None, names: Mapping[str, str]) -> dict[str, str] | None:
    if not user_id:
        return None
    return user_data(user_id, names.get(user_id, ""))


def rsvp_buttons(ritual: Ritual, occurrence: Occurrence) -> tuple[Button, ...]:
    """Going / maybe / can't go, each also as the typed `ritual rsvp` for that meeting."""
    day = local_day(ritual, occurrence.starts_at).isoformat()
    return tuple(
        Button(
            label=label,
            action=RSVP_ACTION,
            value=f"{occurrence.id} {answer}",
            style="primary" if answer == "going" else None,
            typed=f"ritual rsvp #{ritual.number} {answer} {day}",
        )
        for answer, label in RSVP_LABELS
    )


def meeting_data(
    ritual: Ritual, occurrence: Occurrence, community: Community, names: Mapping[str, str]
) -> dict[str, Any]:
    """What every delivery says about the meeting it is for."""
    return {
        "community": community_data(community),
        "ritual": ritual_data(ritual),
        "when": when_data(occurrence.starts_at, zone_of(ritual)),
        "minutes": ritual.duration_minutes,
        "facilitator": person(occurrence.facilitator_id, names),
        "confirmed": occurrence.facilitator_confirmed,
    }


def reminder(
    *,
    ritual: Ritual,
    occurrence: Occurrence,
    community: Community,
    workspace: Workspace,
    names: Mapping[str, str],
    calendar_url: str,
    counts: Mapping[str, int],
    ahead: timedelta | None,
    key: str,
) -> Reply:
    """The reminder in the channel: what, when, who leads, the agenda, where to join, a
    calendar link, RSVP buttons and the counts so far."""
    assert occurrence.id is not None
    return Reply(
        kind="ritual_reminder",
        data={
            **meeting_data(ritual, occurrence, community, names),
            "ahead": format_duration(ahead) if ahead is not None else None,
            "calendar_url": calendar_url,
            "counts": dict(counts),
        },
        visibility=Visibility.CHANNEL,
        buttons=rsvp_buttons(ritual, occurrence),
        to=channel_of(community, workspace),
        key=key,
    )


def start(
    *,
    ritual: Ritual,
    occurrence: Occurrence,
    community: Community,
    workspace: Workspace,
    names: Mapping[str, str],
    counts: Mapping[str, int],
    key: str,
) -> Reply:
    """The post as the meeting begins."""
    return Reply(
        kind="ritual_start",
        data={
            **meeting_data(ritual, occurrence, community, names),
            "going": counts.get("going", 0),
            "pairs": ritual.template == "peer-mentoring",
        },
        visibility=Visibility.CHANNEL,
        to=channel_of(community, workspace),
        key=key,
    )


def facilitator_ask(
    *,
    ritual: Ritual,
    occurrence: Occurrence,
    community: Community,
    workspace: Workspace,
    names: Mapping[str, str],
    key: str,
) -> Reply:
    """The facilitator's direct message: confirm, or say they can't make it."""
    assert occurrence.facilitator_id is not None
    data = meeting_data(ritual, occurrence, community, names)
    day = data["when"]["date"]
    return Reply(
        kind="facilitator_ask",
        data=data,
        visibility=Visibility.DIRECT,
        buttons=(
            Button(
                label="Confirm",
                action="command",
                value=f"rotation #{ritual.number} confirm {day}",
                style="primary",
            ),
            Button(
                label="Can't make it",
                action="command",
                value=f"rotation #{ritual.number} skip {day}",
                style="danger",
            ),
        ),
        to=direct(workspace, occurrence.facilitator_id),
        key=key,
    )


def facilitator_nudge(
    *,
    ritual: Ritual,
    occurrence: Occurrence,
    community: Community,
    workspace: Workspace,
    names: Mapping[str, str],
    steward: str,
    until: timedelta,
    key: str,
) -> Reply:
    """A steward's direct message: nobody has confirmed leading the meeting yet."""
    return Reply(
        kind="facilitator_nudge",
        data={
            **meeting_data(ritual, occurrence, community, names),
            "in": format_duration(until),
        },
        visibility=Visibility.DIRECT,
        to=direct(workspace, steward),
        key=key,
    )


def pair_intro(
    *,
    ritual: Ritual,
    occurrence: Occurrence,
    community: Community,
    workspace: Workspace,
    names: Mapping[str, str],
    member: str,
    partners: tuple[str, ...],
    next_start: datetime | None,
    key: str,
) -> Reply:
    """One person's introduction to their partner(s) for this cycle (empty: nobody else was
    available this time)."""
    zone = zone_of(ritual)
    return Reply(
        kind="pair_intro",
        data={
            **meeting_data(ritual, occurrence, community, names),
            "member": person(member, names),
            "partners": [person(p, names) for p in partners],
            "until": when_data(next_start, zone) if next_start is not None else None,
        },
        visibility=Visibility.DIRECT,
        to=direct(workspace, member),
        key=key,
    )
