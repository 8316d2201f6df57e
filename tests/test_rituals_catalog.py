"""The ritual catalog: seven templates, each usable as it stands, found by name or alias."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import UserError
from rituals.catalog import CATALOG, find_template
from rituals.schedule import parse_schedule


def test_seven_templates_with_unique_names() -> None:
    assert [t.key for t in CATALOG] == [
        "deep-dive",
        "show-and-tell",
        "peer-mentoring",
        "case-study",
        "problem-solving",
        "office-hours",
        "fireside-chat",
    ]
    names = [name for t in CATALOG for name in (t.key, *t.aliases)]
    assert len(names) == len(set(names))
    assert [t.key for t in CATALOG if t.pairs_people] == ["peer-mentoring"]


@pytest.mark.parametrize("template", CATALOG, ids=lambda t: t.key)
def test_every_default_cadence_parses_and_everything_is_filled_in(template) -> None:  # type: ignore[no-untyped-def]
    schedule = parse_schedule(
        template.cadence, default_zone="Europe/Berlin", now=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert schedule.rule is not None
    assert template.title and template.agenda and template.duration.total_seconds() > 0
    assert not (template.pairs_people and template.rotates_facilitator)


def test_deep_dive_is_monthly() -> None:
    deep_dive = find_template("deep-dive")
    assert deep_dive.cadence.startswith("every month")
    assert deep_dive.rotates_facilitator


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("deep-dive", "deep-dive"),
        ("Deep Dive", "deep-dive"),
        ("show_and_tell", "show-and-tell"),
        ("mentoring", "peer-mentoring"),
        ("problem solving circle", "problem-solving"),
        ("  Office-Hours ", "office-hours"),
        ("fireside", "fireside-chat"),
        ("AMA", "fireside-chat"),
    ],
)
def test_find_by_key_alias_any_case(name: str, key: str) -> None:
    assert find_template(name).key == key


def test_an_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UserError) as caught:
        find_template("deep dvie")
    assert caught.value.kind == "ritual_unknown"
    assert caught.value.data["name"] == "deep dvie"
    assert caught.value.data["suggestions"] == ["deep-dive"]
    assert caught.value.data["known"] == [t.key for t in CATALOG]
    with pytest.raises(UserError) as caught:
        find_template("karaoke")
    assert caught.value.data["suggestions"] == []
