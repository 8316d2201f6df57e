"""`ritual …`: the community's recurring gatherings. Stewards and the core team add and
change them; everyone can list them, see the coming meetings and subscribe to the feed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time

from bot.clock import Clock
from bot.commands.reply_data import community_data, user_data
from bot.commands.ritual_data import instant, meeting_data, person, ritual_data, template_data
from bot.commands.spec import CommandSpec, Handler, Invocation
from bot.errors import UserError
from bot.replies import Reply, Visibility
from bot.services.rituals import YEARS_AHEAD, RitualInput, RitualService, Saved
from rituals.catalog import CATALOG
from rituals.schedule import parse_date, parse_time
from storage.models import Role

STEWARDS_AND_CORE = frozenset({Role.STEWARD, Role.CORE})
RITUAL_OPTIONS = ("duration", "remind", "rotate", "where", "pulse")
NEXT_SHOWN = 5
NEXT_MOST = 50
_NUMBER = re.compile(r"#?(\d{1,6})")
_YES = ("yes", "y", "true", "on")
_NO = ("no", "n", "false", "off")
_SCHEDULE_WORDS = ("every", "on")


def ritual_number(word: str | None, usage: str) -> int:
    """`#3` (or `3`) -> 3; refuses anything else, showing `usage`."""
    match = _NUMBER.fullmatch(word or "")
    if match is None:
        raise UserError("ritual_number_missing", usage=usage, text=word or "")
    return int(match.group(1))


def meeting_day(word: str, clock: Clock) -> date:
    """A `YYYY-MM-DD` date naming a meeting: one within `YEARS_AHEAD` years of today."""
    day = parse_date(word)
    if abs(day.year - clock.now().year) > YEARS_AHEAD:
        raise UserError("date_out_of_range", date=day.isoformat(), years=YEARS_AHEAD)
    return day


def count_of(word: str, usage: str, *, most: int) -> int:
    if not word.isdigit() or not 1 <= int(word) <= most:
        raise UserError("count_invalid", usage=usage, text=word, most=most)
    return int(word)


def no_options(inv: Invocation, allowed: Sequence[str] = ()) -> None:
    unknown = sorted(set(inv.command.options) - set(allowed))
    if unknown:
        name = inv.command.verb
        raise UserError("option_unknown", usage=name, command=name, option=unknown[0])


def yes_no(value: str | None, option: str) -> bool | None:
    if value is None:
        return None
    if value.strip().lower() in _YES:
        return True
    if value.strip().lower() in _NO:
        return False
    raise UserError("option_yes_no", option=option, value=value)


def ritual_input(inv: Invocation, words: Sequence[str]) -> RitualInput:
    """The title (if the first word is one) and the schedule (the rest) of `add`/`edit`,
    with their options. A quoted title holds a space or is not a schedule's first word."""
    no_options(inv, RITUAL_OPTIONS)
    title = None
    if words and (" " in words[0] or words[0].lower() not in _SCHEDULE_WORDS):
        title, words = words[0], words[1:]
    options = inv.command.options
    return RitualInput(
        title=title,
        schedule=" ".join(words) or None,
        duration=options.get("duration"),
        remind=options.get("remind"),
        rotate=yes_no(options.get("rotate"), "rotate"),
        where=options.get("where"),
        pulse=yes_no(options.get("pulse"), "pulse"),
    )


class RitualCommands:
    def __init__(self, rituals: RitualService, clock: Clock) -> None:
        self._rituals = rituals
        self._clock = clock

    def specs(self) -> list[CommandSpec]:
        def command(
            name: str,
            handler: Handler,
            *,
            roles: bool = False,
            options: Sequence[str] = (),
            mentions: bool = False,
        ) -> CommandSpec:
            return CommandSpec(
                name=f"ritual {name}",
                handler=handler,
                needs_community=name != "templates",
                roles=STEWARDS_AND_CORE if roles else None,
                options=frozenset(options),
                mentions=mentions,
            )

        return [
            command("templates", self.templates),
            command("add", self.add, roles=True, options=RITUAL_OPTIONS),
            command("list", self.listing),
            command("show", self.show),
            command("next", self.next),
            command("skip", self.skip, roles=True),
            command("move", self.move, roles=True),
            command("edit", self.edit, roles=True, options=RITUAL_OPTIONS),
            command("pause", self.pause, roles=True),
            command("resume", self.resume, roles=True),
            command("cancel", self.cancel, roles=True),
            command("feed", self.feed),
            command("attended", self.attended, roles=True, mentions=True),
        ]

    async def templates(self, inv: Invocation) -> Reply:
        no_options(inv)
        return Reply(
            kind="ritual_templates",
            data={"templates": [template_data(t) for t in CATALOG]},
        )

    async def add(self, inv: Invocation) -> Reply:
        words = inv.command.words
        if not words:
            raise UserError("ritual_template_missing", usage="ritual add")
        wanted = ritual_input(inv, words[1:])
        saved = await self._rituals.add(inv.require_community(), inv.origin, words[0], wanted)
        return self._saved(inv, saved)

    async def listing(self, inv: Invocation) -> Reply:
        no_options(inv)
        community = inv.require_community()
        now = self._clock.now()
        listed = await self._rituals.listing(community)
        return Reply(
            kind="ritual_list",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "rituals": [
                    {**ritual_data(x.ritual, now=now), "next": instant(x.next_start)}
                    for x in listed
                ],
            },
        )

    async def show(self, inv: Invocation) -> Reply:
        no_options(inv)
        words = inv.command.words
        number = ritual_number(words[0] if words else None, "ritual show")
        community = inv.require_community()
        detail = await self._rituals.detail(community, number)
        return Reply(
            kind="ritual_detail",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "ritual": ritual_data(detail.ritual, now=self._clock.now()),
                "meetings": [
                    meeting_data(row, detail.ritual, detail.names, ics=detail.links.get(row.id))
                    for row in detail.meetings
                    if row.id is not None
                ],
                "feed": detail.feed,
            },
        )

    async def next(self, inv: Invocation) -> Reply:
        no_options(inv)
        words = inv.command.words
        if len(words) > 1:
            raise UserError(
                "count_invalid", usage="ritual next", text=" ".join(words), most=NEXT_MOST
            )
        count = count_of(words[0], "ritual next", most=NEXT_MOST) if words else NEXT_SHOWN
        community = inv.require_community()
        agenda = await self._rituals.agenda(community, count)
        return Reply(
            kind="ritual_next",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "meetings": [
                    meeting_data(m.occurrence, m.ritual, agenda.names) for m in agenda.meetings
                ],
            },
        )

    async def skip(self, inv: Invocation) -> Reply:
        no_options(inv)
        words = inv.command.words
        number = ritual_number(words[0] if words else None, "ritual skip")
        if len(words) > 2:
            raise UserError("ritual_one_date", usage="ritual skip")
        day = meeting_day(words[1], self._clock) if len(words) == 2 else None
        saved = await self._rituals.skip(inv.require_community(), inv.origin, number, day)
        return self._saved(inv, saved)

    async def move(self, inv: Invocation) -> Reply:
        no_options(inv)
        words = [w for w in inv.command.words if w.lower() not in ("to", "from")]
        number = ritual_number(words[0] if words else None, "ritual move")
        at: time | None = None
        if len(words) == 5 and words[3].lower() == "at":
            at, words = parse_time(words[4]), words[:3]
        if len(words) != 3:
            raise UserError("ritual_move_dates", usage="ritual move")
        day, to_day = meeting_day(words[1], self._clock), meeting_day(words[2], self._clock)
        community = inv.require_community()
        saved = await self._rituals.move(community, inv.origin, number, day, to_day, at)
        return self._saved(inv, saved)

    async def edit(self, inv: Invocation) -> Reply:
        words = inv.command.words
        number = ritual_number(words[0] if words else None, "ritual edit")
        wanted = ritual_input(inv, words[1:])
        saved = await self._rituals.edit(inv.require_community(), inv.origin, number, wanted)
        return self._saved(inv, saved)

    async def pause(self, inv: Invocation) -> Reply:
        no_options(inv)
        words = [w for w in inv.command.words if w.lower() != "until"]
        number = ritual_number(words[0] if words else None, "ritual pause")
        if len(words) > 2:
            raise UserError("ritual_one_date", usage="ritual pause")
        until = meeting_day(words[1], self._clock) if len(words) == 2 else None
        saved = await self._rituals.pause(inv.require_community(), inv.origin, number, until)
        return self._saved(inv, saved)

    async def resume(self, inv: Invocation) -> Reply:
        number = self._only_number(inv, "ritual resume")
        saved = await self._rituals.resume(inv.require_community(), inv.origin, number)
        return self._saved(inv, saved)

    async def cancel(self, inv: Invocation) -> Reply:
        number = self._only_number(inv, "ritual cancel")
        saved = await self._rituals.cancel(inv.require_community(), inv.origin, number)
        return self._saved(inv, saved)

    async def feed(self, inv: Invocation) -> Reply:
        no_options(inv)
        community = inv.require_community()
        url = await self._rituals.feed_link(community)
        return Reply(kind="ritual_feed", data={"community": community_data(community), "url": url})

    async def attended(self, inv: Invocation) -> Reply:
        no_options(inv)
        words = inv.command.words
        number = ritual_number(words[0] if words else None, "ritual attended")
        if len(words) > 2:
            raise UserError("ritual_one_date", usage="ritual attended")
        day = meeting_day(words[1], self._clock) if len(words) == 2 else None
        community = inv.require_community()
        done = await self._rituals.attended(community, inv.origin, number, inv.command.users, day)
        return Reply(
            kind="ritual_attended",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "ritual": ritual_data(done.ritual, now=self._clock.now()),
                "meeting": meeting_data(done.occurrence, done.ritual, done.names),
                "present": sorted(
                    (user_data(u, done.names.get(u, u)) for u in done.present),
                    key=lambda p: p["name"].casefold(),
                ),
                "added": [user_data(u, done.names.get(u, u)) for u in done.added],
            },
        )

    @staticmethod
    def _only_number(inv: Invocation, usage: str) -> int:
        no_options(inv)
        words = inv.command.words
        if len(words) > 1:
            raise UserError("ritual_number_only", usage=usage)
        return ritual_number(words[0] if words else None, usage)

    def _saved(self, inv: Invocation, saved: Saved) -> Reply:
        community = inv.require_community()
        return Reply(
            kind="ritual_saved",
            data={
                "community": community_data(community),
                "zone": community.timezone,
                "change": saved.change,
                "ritual": ritual_data(saved.ritual, now=self._clock.now()),
                "meetings": [meeting_data(r, saved.ritual, saved.names) for r in saved.meetings],
                "when": instant(saved.when),
                "to": instant(saved.to),
                "by": person(inv.origin.user, {inv.origin.user: inv.origin.display_name}),
            },
            visibility=Visibility.CHANNEL,
        )
