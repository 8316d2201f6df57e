"""Commands of two words (`ritual add`, `rotation #3 skip`) share a verb: the registry groups
them, finds the word after the verb or after a `#N`, and checks each one's own roles."""

from __future__ import annotations

import pytest

from bot.commands.registry import CommandRegistry
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import Origin
from bot.parsing import parse
from bot.replies import Reply
from messages.commands import command_texts
from storage.models import Community, Member, Role

WHERE = Origin(platform="console", workspace="local", channel="ds", user="ann")
PLACE = Community(id=1, workspace_id=1, name="DS", name_key="ds", channel_id="ds")


def recorder(name: str) -> CommandSpec:
    async def handle(inv: Invocation) -> Reply:
        return Reply(kind="ran", data={"name": name, "args": list(inv.command.words)})

    return CommandSpec(name=name, handler=handle)


def registry() -> CommandRegistry:
    steward_only = recorder("ritual add")
    steward_only = CommandSpec(
        name="ritual add",
        handler=steward_only.handler,
        needs_community=True,
        roles=frozenset({Role.STEWARD}),
    )
    return CommandRegistry(
        [recorder("rotation"), recorder("rotation skip"), steward_only, recorder("ritual list")]
    )


async def run(found: CommandRegistry, line: str, role: Role | None = Role.STEWARD) -> Reply:
    command = parse(line)
    spec = found.get(command.verb)
    assert spec is not None
    caller = (
        None
        if role is None
        else Member(community_id=1, user_id="ann", display_name="Ann", role=role)
    )
    reply = await spec.handler(
        Invocation(origin=WHERE, command=command, community=PLACE, caller=caller)
    )
    assert isinstance(reply, Reply)
    return reply


async def test_the_word_after_the_verb_or_after_a_reference_picks_the_subcommand() -> None:
    found = registry()
    assert (await run(found, "ritual list")).data == {"name": "ritual list", "args": []}
    assert (await run(found, "rotation #3 skip 2026-04-07")).data == {
        "name": "rotation skip",
        "args": ["#3", "2026-04-07"],
    }
    assert (await run(found, "rotation skip #3")).data["name"] == "rotation skip"
    assert (await run(found, "rotation #3 6")).data == {"name": "rotation", "args": ["#3", "6"]}


async def test_a_subcommand_keeps_its_own_roles_and_unknown_words_are_explained() -> None:
    found = registry()
    assert (await run(found, "ritual add deep-dive")).data["name"] == "ritual add"
    with pytest.raises(UserError) as refused:
        await run(found, "ritual add deep-dive", Role.MEMBER)
    assert refused.value.kind == "role_required"
    assert refused.value.data == {"roles": ["stewards"], "command": "ritual add"}
    with pytest.raises(UserError) as unknown:
        await run(found, "ritual lst")
    assert unknown.value.kind == "subcommand_unknown"
    assert unknown.value.data["suggestion"] == "ritual list"


def test_help_finds_groups_and_subcommands_and_lists_only_runnable_ones() -> None:
    found = registry()
    assert [s.name for s in found.specs] == [
        "rotation",
        "rotation skip",
        "ritual add",
        "ritual list",
    ]
    group = found.get("ritual")
    assert group is not None and group.name == "ritual"
    assert found.get("ritual  ADD") is found.get("ritual add")
    assert found.suggest("ritul") == "ritual"
    with pytest.raises(ValueError, match="registered twice"):
        found.add(recorder("ritual list"))
    with pytest.raises(ValueError, match="registered twice"):
        found.add(recorder("rotation"))


def test_every_summary_and_usage_in_commands_yml_is_read_whole() -> None:
    """An unquoted ` #` starts a YAML comment: `help` showed "Search the library (words,"."""
    for text in command_texts().values():
        assert text.summary.endswith((".", "?")), (text.name, text.summary)
        for words in (text.summary, text.usage, text.example):
            for opening, closing in ("()", "[]", '""'):
                if opening == closing:
                    assert words.count(opening) % 2 == 0, (text.name, words)
                else:
                    assert words.count(opening) == words.count(closing), (text.name, words)
