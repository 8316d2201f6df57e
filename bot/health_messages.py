"""The replies about a community's health (the `stats` report, the monthly digest) and the
plain data their templates read; templates never see rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.commands.reply_data import community_data, user_data
from bot.replies import Destination, Reply, Visibility
from bot.services.health import Period, Report
from bot.services.health_signs import trends

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _person(user_id: str, names: dict[str, str]) -> dict[str, str]:
    return user_data(user_id, names.get(user_id, ""))


def warning_data(warning: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A warning for the templates: people named, not just ids."""
    data = dict(warning)
    if "person" in data:
        data["person"] = _person(data["person"], names)
    if "people" in data:
        data["people"] = [_person(p, names) for p in data["people"]]
    return data


def report_data(report: Report, *, chart_url: str | None) -> dict[str, Any]:
    period = report.period
    last_day = period.until - timedelta(microseconds=1)
    return {
        "community": community_data(report.community),
        "days": round((period.until - period.since) / timedelta(days=1)),
        "since": period.since.date().isoformat(),
        "until": last_day.date().isoformat(),
        "figures": trends(report.now, report.previous),
        "pulse_votes": report.now.pulse_votes,
        "series": {
            "attendance": [s.attendees for s in report.sessions if s.attendees is not None],
            "pulse": [round(s.pulse, 2) for s in report.sessions if s.pulse is not None],
        },
        "warnings": [warning_data(w, report.names) for w in report.warnings],
        "chart_url": chart_url or "",
    }


def stats(report: Report, *, chart_url: str | None) -> Reply:
    """The `stats` report, for the person who asked."""
    return Reply(kind="stats", data=report_data(report, chart_url=chart_url))


def month_name(period: Period) -> str:
    return f"{MONTHS[period.since.month - 1]} {period.since.year}"


def digest(report: Report, *, chart_url: str | None, to: Destination, key: str) -> Reply:
    """The monthly digest, in a steward's or sponsor's direct messages."""
    return Reply(
        kind="health_digest",
        data={**report_data(report, chart_url=chart_url), "month": month_name(report.period)},
        visibility=Visibility.DIRECT,
        to=to,
        key=key,
    )
