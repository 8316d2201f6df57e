"""Every rituals error kind, raised for real, reads as a whole sentence on every surface."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from adapters.slack.render import SlackRenderer
from adapters.teams.render import CardRenderer
from bot.errors import UserError
from bot.router import error_reply
from messages.rendering import TEMPLATES, Renderer
from rituals.absence import parse_away
from rituals.catalog import find_template
from rituals.recurrence import move, occurrence_on, pause, resume, skip
from rituals.rotation import Slot, swap
from rituals.schedule import parse_duration, parse_reminders, parse_schedule

NOW = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def schedule(text: str):  # type: ignore[no-untyped-def]
    return parse_schedule(text, default_zone="Europe/Berlin", now=NOW)


MONTHLY = schedule("every month on first tue at 15:00")

TRIGGERS: dict[str, tuple[Callable[[], object], str]] = {
    "schedule_unreadable": (
        lambda: schedule("weekly on tuesdays"),
        "I could not read the schedule `weekly on tuesdays`. Write `every [N] days|weeks|months "
        "[on <weekdays>] [on first|second|third|fourth|last <weekday>] at HH:MM [zone]` or "
        "`on YYYY-MM-DD at HH:MM [zone]`, for example `every month on first tue at 15:00`, "
        "`every 2 weeks on mon,thu at 09:30 Europe/Berlin`, `every day at 08:00` or "
        "`on 2025-06-12 at 17:00 America/New_York`.",
    ),
    "zone_unknown": (
        lambda: schedule("every day at 10:00 Europe/Berln"),
        "I don't know the time zone `Europe/Berln`. Did you mean `Europe/Berlin`, "
        "`Europe/Dublin` or `Europe/Belfast`?",
    ),
    "schedule_in_past": (
        lambda: schedule("on 2025-01-09 at 10:00"),
        "2025-01-09 10:00 Europe/Berlin has already passed: pick a time still to come.",
    ),
    "schedule_interval_zero": (
        lambda: schedule("every 0 days at 10:00"),
        "`every 0 days at 10:00` would never come round: count from 1, as in "
        "`every 2 weeks on mon at 10:00`.",
    ),
    "schedule_ordinal_needs_month": (
        lambda: schedule("every week on last fri at 10:00"),
        "“last fri” only makes sense within a month: try `every month on last fri at 15:00`.",
    ),
    "schedule_which_weekday": (
        lambda: schedule("every month on wednesday at 10:00"),
        "Which wed of the month? Say `every month on first wed at 15:00` or "
        "`every month on last wed at 15:00`, or `every week on wed at 15:00` for every one.",
    ),
    "time_unreadable": (
        lambda: schedule("every day at noon"),
        "I could not read the time `noon`: write it as 24-hour HH:MM, like `15:00`.",
    ),
    "time_invalid": (
        lambda: schedule("every day at 25:00"),
        "`25:00` is not a time of day: use 24-hour HH:MM, from `00:00` to `23:59`.",
    ),
    "date_unreadable": (
        lambda: schedule("on 12/06/2025 at 10:00"),
        "I could not read the date `12/06/2025`: write it as YYYY-MM-DD, like `2025-06-12`.",
    ),
    "date_invalid": (
        lambda: schedule("on 2025-02-30 at 10:00"),
        "There is no date `2025-02-30` in the calendar.",
    ),
    "duration_unreadable": (
        lambda: parse_duration("an hour"),
        "I could not read the length `an hour`: write minutes or hours, like `45m`, `1h`, "
        "`1h30m` or `90`.",
    ),
    "duration_out_of_range": (
        lambda: parse_duration("30h"),
        "A meeting must last more than nothing and at most 1d, not `30h`.",
    ),
    "reminder_unreadable": (
        lambda: parse_reminders("remind=soon"),
        "I could not read the reminders `remind=soon`: list how long before the meeting, in "
        "d, h or m, like `remind=1d,1h` or `remind=15m`.",
    ),
    "reminder_too_early": (
        lambda: parse_reminders("remind=30d", schedule=MONTHLY),
        "A reminder 30d before would come before the previous meeting, which can be just 28d "
        "earlier: choose 28d or less.",
    ),
    "ritual_unknown": (
        lambda: find_template("fireside-chats"),
        "There is no ritual called `fireside-chats`. Did you mean `fireside-chat`? The rituals "
        "are `deep-dive`, `show-and-tell`, `peer-mentoring`, `case-study`, `problem-solving`, "
        "`office-hours` and `fireside-chat`.",
    ),
    "occurrence_missing": (
        lambda: occurrence_on(MONTHLY, date(2025, 2, 5)),
        "There is no meeting on 2025-02-05. The next ones are on 2025-03-04, 2025-04-01 and "
        "2025-05-06.",
    ),
    "occurrence_past": (
        lambda: skip(
            MONTHLY, occurrence_on(MONTHLY, date(2025, 2, 4)), now=datetime(2025, 2, 5, tzinfo=UTC)
        ),
        "The meeting on 2025-02-04 has already begun or passed.",
    ),
    "move_in_past": (
        lambda: move(
            MONTHLY, occurrence_on(MONTHLY, date(2025, 2, 4)), to=datetime(2025, 1, 2), now=NOW
        ),
        "2025-01-02 00:00 Europe/Berlin has already passed: move the meeting to a time still "
        "to come.",
    ),
    "move_clash": (
        lambda: move(
            MONTHLY, occurrence_on(MONTHLY, date(2025, 2, 4)), to=datetime(2025, 3, 4, 15), now=NOW
        ),
        "There is already a meeting at 2025-03-04 15:00 Europe/Berlin.",
    ),
    "pause_until_past": (
        lambda: pause(MONTHLY, now=NOW, until=date(2025, 1, 1)),
        "A pause lasts until a day after today, and 2025-01-01 is not.",
    ),
    "not_paused": (lambda: resume(MONTHLY, now=NOW), "This ritual is not paused."),
    "away_unreadable": (
        lambda: parse_away("all of July please", today=NOW.date()),
        "I could not read `all of July please` as time away: give the first and the last day, "
        "like `2025-07-01 2025-07-14`.",
    ),
    "away_backwards": (
        lambda: parse_away("2025-07-14 2025-07-01", today=NOW.date()),
        "That time away ends (2025-07-01) before it starts (2025-07-14).",
    ),
    "away_in_past": (
        lambda: parse_away("2024-12-01 2024-12-24", today=NOW.date()),
        "That time away ended on 2024-12-24, which has passed.",
    ),
    "slot_missing": (
        lambda: swap([Slot(day=date(2025, 2, 4), facilitator="ana")], date(2025, 2, 4), NOW.date()),
        "There is no meeting on 2025-01-10 in the facilitator rotation.",
    ),
}


def rituals_kinds() -> set[str]:
    source = (TEMPLATES / "errors" / "rituals.j2").read_text()
    return set(re.findall(r"{% macro ([a-z]\w*)\(d\) %}", source))


def test_every_sentence_in_rituals_j2_has_a_trigger_here() -> None:
    assert set(TRIGGERS) == rituals_kinds()


@pytest.mark.parametrize("kind", sorted(TRIGGERS))
def test_each_error_reads_whole_on_every_surface(kind: str) -> None:
    trigger, sentence = TRIGGERS[kind]
    with pytest.raises(UserError) as caught:
        trigger()
    error = caught.value
    assert error.kind == kind
    assert Renderer("text").sentence(kind, error.data) == sentence
    reply = error_reply(error)
    assert sentence in Renderer("text").text("error", reply.data)
    assert SlackRenderer().to_message(reply)["text"]
    card = CardRenderer().to_card(reply)
    assert "`" not in card["body"][0]["text"]  # Teams shows commands in bold instead
