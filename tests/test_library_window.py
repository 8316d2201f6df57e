"""Library search ranks at most `RANK_WINDOW` matches, the newest, on both databases (the
benchmark's very common words); below it the ranking is exact (tests/test_library.py)."""

from __future__ import annotations

import pytest

from bot.app import Core
from bot.services import library as library_module
from tests.console_bot import ConsoleBot
from tests.test_library import _community, _origin, _titles


async def test_only_the_newest_matches_are_ranked_beyond_the_window(
    core: Core, bot: ConsoleBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    community = await _community(bot)
    for number, title in enumerate(
        (
            "Pandas pandas pandas pandas",  # the most relevant, and the oldest
            "Pandas tips",
            "Pandas and polars compared",
            "Polars only",
            "Pandas for the impatient reader",
        ),
        start=1,
    ):
        await core.library.share(
            _origin("bob"), community, url=f"https://x.io/{number}", title=title
        )
    everything = await _titles(core, community, "pandas")
    assert everything[0] == "Pandas pandas pandas pandas" and len(everything) == 4
    monkeypatch.setattr(library_module, "RANK_WINDOW", 3)
    windowed = await _titles(core, community, "pandas")
    assert sorted(windowed) == sorted(
        ["Pandas tips", "Pandas and polars compared", "Pandas for the impatient reader"]
    )
    # Below the window nothing changes: "polars" matches two.
    assert sorted(await _titles(core, community, "polars")) == [
        "Pandas and polars compared",
        "Polars only",
    ]
