"""`menu`: in a direct message (and the Slack App Home), each community a person belongs to.
A steward sees what needs them (next meetings with RSVP counts, facilitators not yet
confirmed, open polls, library drafts) and buttons that act in the community's channel:
schedule a ritual and start a poll (forms), the rotation, the health report, roles, export.
A member sees the next meetings with their own answers and can volunteer to facilitate.

Every button and form runs a registered command through the same checks as typing it
(`run_command`), in the community's channel, when it is pressed or submitted: what the menu
showed grants nothing. A command's button appears only once that command is registered."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.commands.registry import CommandRegistry, check_allowed, run_command
from bot.commands.reply_data import community_data, user_data
from bot.commands.ritual_data import meeting_data
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import ButtonPressed, Origin
from bot.handlers import EventHandlers, FormHandler
from bot.parsing import ParsedCommand
from bot.replies import Button, Form, Reply, Visibility
from bot.services.communities import CommunityService
from bot.services.menu import CommunityMenu, MenuService
from bot.services.rituals import Meeting
from bot.vocabulary import (
    FORM_LABELS,
    MENU_LABEL_IN,
    MENU_LABELS,
    POLL_FORM_FIELDS,
    RITUAL_FORM_FIELDS,
    role_label,
)
from messages.commands import command_text
from rituals.catalog import CATALOG

log = logging.getLogger(__name__)

RITUAL_FORM = "ritual_form"
POLL_FORM = "poll_form"
OPEN_FORM = "menu_form"  # the button action that opens a form; its value names the form
# Each form and the command it submits as.
FORM_COMMANDS: Mapping[str, str] = {RITUAL_FORM: "ritual add", POLL_FORM: "poll"}
# A steward's command buttons: (label, command line, the command that must be registered).
STEWARD_COMMANDS = (("stats", "stats"), ("roles", "members"), ("export", "export"))
ROTATIONS_SHOWN = 2  # rotation buttons per community
# Which form field an error is about, by the start of its kind; `option` names the field of
# a yes/no option's error.
FIELD_OF_ERROR = (
    ("ritual_unknown", "template"),
    ("ritual_template", "template"),
    ("ritual_title", "title"),
    ("ritual_where", "where"),
    ("schedule", "schedule"),
    ("zone", "schedule"),
    ("date", "schedule"),
    ("time", "schedule"),
    ("duration", "duration"),
    ("reminder", "remind"),
    ("poll_question", "question"),
    ("poll_option", "options"),
    ("poll_closes", "closes"),
)


def field_of(error: UserError) -> str | None:
    """The form field `error` is about, or None (the whole form)."""
    if error.field:
        return error.field
    option = error.data.get("option")
    if error.kind in ("option_yes_no", "poll_flag_unreadable") and isinstance(option, str):
        return option
    return next((f for start, f in FIELD_OF_ERROR if error.kind.startswith(start)), None)


def _given(value: str | None) -> str | None:
    """A form field as the typed option takes it; None when left empty."""
    if value is None or not value.strip():
        return None
    return value.strip()


def ritual_command(values: Mapping[str, str]) -> ParsedCommand:
    """`ritual add <template> "<title>" <schedule> [options]` from the form's fields."""
    args: list[str] = ["add", (values.get("template") or "").strip()]
    quoted = set()
    title = (values.get("title") or "").strip()
    if title:
        quoted.add(len(args))
        args.append(title)
    args += (values.get("schedule") or "").split()
    options = {
        name: value
        for name in ("duration", "remind", "where", "rotate")
        if (value := _given(values.get(name))) is not None
    }
    return ParsedCommand(verb="ritual", args=tuple(args), options=options, quoted=frozenset(quoted))


def poll_command(values: Mapping[str, str]) -> ParsedCommand:
    """`poll "<question>" "<option>" … [options]` from the form's fields."""
    options = [line.strip() for line in (values.get("options") or "").splitlines()]
    args = ((values.get("question") or "").strip(), *(o for o in options if o))
    flags = {
        name: value
        for name in ("anonymous", "closes")
        if (value := _given(values.get(name))) is not None
    }
    return ParsedCommand(verb="poll", args=args, options=flags, quoted=frozenset(range(len(args))))


FORM_PARSERS = {RITUAL_FORM: ritual_command, POLL_FORM: poll_command}


class MenuCommands:
    def __init__(
        self, menu: MenuService, registry: CommandRegistry, communities: CommunityService
    ) -> None:
        self._menu = menu
        self._registry = registry
        self._communities = communities

    def specs(self) -> list[CommandSpec]:
        return [CommandSpec(name="menu", handler=self.menu, scoped=False, words=False)]

    def register(self, handlers: EventHandlers) -> None:
        handlers.on_action(OPEN_FORM, self.open_form)
        for form in FORM_COMMANDS:
            handlers.on_form(form, self._submit(form))

    # The menu ----------------------------------------------------------------------------

    async def menu(self, inv: Invocation) -> Reply:
        return await self.for_user(inv.origin)

    async def for_user(self, origin: Origin) -> Reply:
        """The menu of `origin.user` in their workspace, as a reply only they see."""
        menus = await self._menu.for_user(origin)
        several = len(menus) > 1
        buttons: list[Button] = []
        for entry in menus:
            buttons += self._buttons(entry, several)
        return Reply(
            kind="menu",
            data={
                "user": user_data(origin.user, origin.display_name),
                "communities": [_community(entry) for entry in menus],
                "steward": any(entry.stewarded for entry in menus),
            },
            buttons=tuple(buttons),
            visibility=Visibility.USER,
        )

    def _buttons(self, entry: CommunityMenu, several: bool) -> list[Button]:
        community = entry.community
        shown: list[tuple[str, str, str, dict[str, str]]] = []  # label, action, value, words
        if entry.stewarded:
            shown.append(("schedule", OPEN_FORM, RITUAL_FORM, {}))
            shown.append(("poll", OPEN_FORM, POLL_FORM, {}))
            for ritual in entry.rotating[:ROTATIONS_SHOWN]:
                ref = f"#{ritual.number}"
                shown.append(("rotation", "command", f"rotation {ref}", {"ref": ref}))
            for label, line in STEWARD_COMMANDS:
                shown.append((label, "command", line, {}))
        else:
            for ritual in entry.can_volunteer[:ROTATIONS_SHOWN]:
                ref = f"#{ritual.number}"
                shown.append(("volunteer", "command", f"rotation {ref} volunteer", {"ref": ref}))
        buttons = []
        for label, action, value, words in shown:
            command = FORM_COMMANDS.get(value, value) if action == OPEN_FORM else value
            if self._registry.get(_verb_of(command)) is None:
                continue  # not (yet) a command here: no button for it
            text = MENU_LABELS[label].format(**words)
            if several:
                text = MENU_LABEL_IN.format(community=community.name, label=text)
            buttons.append(
                Button(
                    label=text,
                    action=action,
                    value=value,
                    channel=community.channel_id,
                    style="primary" if label in ("schedule", "volunteer") else None,
                )
            )
        return buttons

    # Forms -------------------------------------------------------------------------------

    async def open_form(self, event: ButtonPressed) -> list[Reply]:
        """A menu's form button: the form, once the command it submits as allows the caller
        here (checked now, and again when it is submitted)."""
        form = event.value
        if form not in FORM_COMMANDS:
            log.info("ignoring a menu button for form %r", form)
            return []
        command = FORM_COMMANDS[form]
        await self._check(event.origin, command)
        community, _ = await self._communities.where_and_who(event.origin)
        assert community is not None
        reply = Reply(
            kind=form,
            data={
                "community": community_data(community),
                "usage": command_text(command).usage,
                "labels": dict(FORM_LABELS),
                "fields": list(RITUAL_FORM_FIELDS if form == RITUAL_FORM else POLL_FORM_FIELDS),
                "templates": [{"key": t.key, "title": t.title} for t in CATALOG],
            },
            form=Form(name=form, channel=community.channel_id),
            visibility=Visibility.USER,
        )
        return [reply]

    async def _check(self, origin: Origin, command: str) -> None:
        """Refuse as `command` itself would: outside a community, or for the wrong role."""
        spec = self._registry.get(command)
        assert spec is not None
        community, caller = await self._communities.where_and_who(origin)
        parsed = ParsedCommand(verb=command)
        check_allowed(
            replace(spec, needs_community=True),
            Invocation(origin=origin, command=parsed, community=community, caller=caller),
        )
        assert community is not None
        if community.archived_at is not None:
            raise UserError("community_archived", name=community.name)
        if caller is None:
            raise UserError("members_only", usage="join", community=community.name, command=command)

    def _submit(self, form: str) -> FormHandler:
        """The handler of `form`: the command it stands for, run as typed, each error shown
        on the field it is about."""

        async def submitted(origin: Origin, values: Mapping[str, str]) -> list[Reply]:
            await self._check(origin, FORM_COMMANDS[form])
            try:
                return await run_command(
                    self._registry, self._communities, origin, FORM_PARSERS[form](values)
                )
            except UserError as error:
                if error.field is None:
                    error.field = field_of(error)
                raise

        return submitted


def _verb_of(command: str) -> str:
    """The registered name a command line runs: `rotation #2 volunteer` -> `rotation volunteer`."""
    words = [w for w in command.split() if not w.startswith("#")]
    return " ".join(words[:2]) if len(words) > 1 else words[0]


def _community(entry: CommunityMenu) -> dict[str, Any]:
    """One community's part of the menu, for the templates."""
    names = entry.names

    def meeting(m: Meeting) -> dict[str, Any]:
        row = m.occurrence
        key = row.id or 0
        return meeting_data(
            row,
            m.ritual,
            names,
            counts=entry.counts.get(key) if entry.stewarded else None,
            mine=entry.mine.get(key),
        )

    return {
        **community_data(entry.community),
        "steward": entry.stewarded,
        "role_label": role_label(entry.member.role),
        "zone": entry.community.timezone,
        "meetings": [meeting(m) for m in entry.meetings],
        "unconfirmed": [meeting(m) for m in entry.unconfirmed] if entry.stewarded else [],
        "polls": [{"number": p.number, "question": p.question} for p in entry.polls],
        "drafts": [{"number": r.number, "title": r.title} for r in entry.drafts],
        "rotating": [{"number": r.number, "title": r.title} for r in entry.rotating],
    }
