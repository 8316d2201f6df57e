"""The library on SQLite (FTS5) and PostgreSQL (tsvector + GIN) with the same expectations:
sharing and duplicates, tags, ranking, helpful marks, unicode, hostile queries, paging,
drafts; end to end through the console seam."""

from __future__ import annotations

import pytest

from adapters.console.translate import origin as console_origin
from bot.app import Core
from bot.events import Origin
from bot.services.library import draft_from, normalise_url
from storage.models import Community
from tests.console_bot import ConsoleBot

SETUP = 'setup "Data Science"'


def _origin(user: str) -> Origin:
    return console_origin(user, "ds")


async def _community(bot: ConsoleBot) -> Community:
    await bot.say(SETUP, as_="alice", channel="ds")
    await bot.say("join", as_="bob")
    community, _ = await bot.core.communities.where_and_who(_origin("alice"))
    assert community is not None
    return community


async def _titles(core: Core, community: Community, query: str, *tags: str) -> list[str]:
    page = await core.library.search(community, query, tags=tags)
    return [r.title for r in page.resources]


def test_links_are_normalised() -> None:
    assert (
        normalise_url("HTTPS://Example.COM/Path/?utm_source=x&b=1&utm_medium=y#top")
        == "https://example.com/Path?b=1"
    )
    assert normalise_url("http://example.com/") == normalise_url("http://EXAMPLE.com")


async def test_share_then_find_and_the_same_link_is_one_resource(bot: ConsoleBot) -> None:
    await _community(bot)
    shared = await bot.say(
        'share https://example.com/attention/?utm_source=tw "Attention is all you need" '
        '#Transformers note="The classic paper"',
        as_="bob",
    )
    assert "added #1 to the library: Attention is all you need" in shared
    again = await bot.say('share HTTPS://EXAMPLE.com/attention "Another title" #nlp', as_="alice")
    assert "already in the library as #1" in again and "Added the tags #nlp" in again
    found = await bot.say("library classic", as_="carol")
    assert "#1 Attention is all you need" in found and "#nlp" in found
    assert "#1" in await bot.say("library #nlp")
    assert "Nothing in the library matches" in await bot.say("library #vision")


async def test_an_empty_library_says_how_to_share(bot: ConsoleBot) -> None:
    await _community(bot)
    empty = await bot.say("library", as_="bob")
    assert "is empty" in empty and "share <url>" in empty


async def test_only_members_share_and_links_must_be_links(bot: ConsoleBot) -> None:
    await _community(bot)
    assert "Join “Data Science” first" in await bot.say('share https://x.io "X"', as_="mallory")
    assert "is not a link" in await bot.say('share ftp://x.io "X"', as_="bob")
    assert "Put the title in quotes" in await bot.say("share https://x.io A title", as_="bob")


async def test_ranking_by_relevance_then_helpful_marks(core: Core, bot: ConsoleBot) -> None:
    community = await _community(bot)
    library = core.library
    for user, url, title in (
        ("bob", "https://a.io", "Pandas tips for everyday work"),
        ("bob", "https://b.io", "Pandas pandas pandas: the pandas book"),
        ("bob", "https://c.io", "Polars tips for everyday work"),
    ):
        await library.share(_origin(user), community, url=url, title=title)
    assert await _titles(core, community, "pandas") == [
        "Pandas pandas pandas: the pandas book",
        "Pandas tips for everyday work",
    ]
    # Equal relevance: helpful marks decide (one mark per person).
    assert await _titles(core, community, "tips everyday") == [
        "Polars tips for everyday work",
        "Pandas tips for everyday work",
    ]
    assert "marked helpful (1 so far)" in await bot.say("helpful #1", as_="bob")
    assert "already marked #1" in await bot.say("helpful #1", as_="bob")
    assert await _titles(core, community, "tips everyday") == [
        "Pandas tips for everyday work",
        "Polars tips for everyday work",
    ]


async def test_unicode_is_found_without_accents_and_case(core: Core, bot: ConsoleBot) -> None:
    community = await _community(bot)
    library = core.library
    await library.share(_origin("bob"), community, url="https://e.io", title="Café résumé")
    await library.share(_origin("bob"), community, url="https://s.io", title="Große Straße")
    await library.share(_origin("bob"), community, url="https://j.io", title="日本語 入門")
    assert await _titles(core, community, "cafe") == ["Café résumé"]
    assert await _titles(core, community, "RÉSUMÉ") == ["Café résumé"]
    assert await _titles(core, community, "strasse") == ["Große Straße"]
    assert await _titles(core, community, "STRASSE") == ["Große Straße"]
    assert await _titles(core, community, "日本語") == ["日本語 入門"]


@pytest.mark.parametrize(
    "query", ['"', "*", "OR", "AND", "NOT", "NEAR(", "NEAR(a b)", "a:b", "^x", "(", "'", "-", "!"]
)
async def test_hostile_queries_never_raise(core: Core, bot: ConsoleBot, query: str) -> None:
    community = await _community(bot)
    await core.library.share(_origin("bob"), community, url="https://x.io", title="Or and near")
    page = await core.library.search(community, query)
    assert all(r.title == "Or and near" for r in page.resources)


async def test_tags_filter_and_pages_of_ten(core: Core, bot: ConsoleBot) -> None:
    community = await _community(bot)
    for n in range(1, 24):
        tags = ["ml"] if n % 2 else ["ops"]
        await core.library.share(
            _origin("bob"), community, url=f"https://x.io/{n}", title=f"Guide {n}", tags=tags
        )
    first = await core.library.search(community, "guide")
    assert len(first.resources) == 10 and first.more
    third = await core.library.search(community, "guide", page=3)
    assert len(third.resources) == 3 and not third.more
    newest = await core.library.search(community, "", tags=["#ml"])
    assert [r.title for r in newest.resources][:2] == ["Guide 23", "Guide 21"]
    shown = await bot.say("library guide", as_="bob")
    assert "[Show more]" in shown
    assert "Guide" in await bot.say("library guide page=3", as_="bob")


def test_a_draft_takes_title_links_summary_and_tags_from_the_thread() -> None:
    draft = draft_from(
        [
            "Feature stores keep features consistent. See <https://feast.dev|Feast> and "
            "https://hopsworks.ai/docs.",
            "We tried Feast for online features last year.",
            "The online store was fast; the offline store was slow.",
            "Thanks!",
        ]
    )
    assert draft.title == "Feature stores keep features consistent."
    assert draft.links == ("https://feast.dev", "https://hopsworks.ai/docs")
    assert draft.tags == ("features", "feast", "online")
    assert draft.summary and len(draft.summary) < 400
    assert "Thanks!" not in draft.summary


async def test_save_drafts_then_publish_makes_it_searchable(core: Core, bot: ConsoleBot) -> None:
    community = await _community(bot)
    drafted = await bot.say(
        'save "Kubeflow pipelines in practice. We run them nightly at https://kf.io/x."',
        as_="bob",
    )
    assert "Draft #1 for the library" in drafted and "[Publish]" in drafted
    assert [d.number for d in await core.library.drafts_waiting(community)] == [1]
    assert await _titles(core, community, "kubeflow") == []
    assert "isn't yours" in await bot.say("publish #1", as_="alice")
    published = await bot.say('publish #1 title="Kubeflow nightly" #mlops', as_="bob")
    assert "added #1 to the library: Kubeflow nightly" in published
    assert await core.library.drafts_waiting(community) == []
    assert await _titles(core, community, "nightly", "mlops") == ["Kubeflow nightly"]
    assert "already published" in await bot.say("publish #1", as_="bob")
