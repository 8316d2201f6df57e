"""`export` and `forget me` at the console, on SQLite and PostgreSQL: the zip's CSV files,
and after forgetting, no value anywhere in the database that names the person."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, func, select

from bot.app import Core
from bot.clock import FixedClock
from bot.events import CommandInvoked, Origin
from storage.models import (
    Activity,
    Attendance,
    ConversationReference,
    Delivery,
    Download,
    Expertise,
    HealthDigest,
    HelpfulMark,
    Kudos,
    Member,
    MentorRequest,
    Occurrence,
    PairGroup,
    PendingPost,
    PollVote,
    ProcessedEvent,
    Resource,
    Rsvp,
    Welcome,
    Win,
)
from tests.console_bot import ConsoleBot
from tests.data_rights_state import mentions_of, tables_scanned

PERSON = "quinn7x"  # a console user id that no other text contains
ELSEWHERE = "elsewhere"  # another workspace, where the same id is someone else's


def unzip(content: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(archive.read(name).decode()))
            )
            for name in archive.namelist()
        }


async def community(bot: ConsoleBot) -> None:
    await bot.say('setup "Data Science"', as_="ann")
    await bot.say("join", as_=PERSON)
    await bot.say("join", as_="ben")
    await bot.say("skills Python, SQL", as_=PERSON)
    await bot.say("skills Go", as_="ben")


async def seed_everything(bot: ConsoleBot, clock: FixedClock) -> None:
    """The person's data in every feature, beside other people's."""
    await community(bot)
    await bot.say('ritual add office-hours "Hours" every day at 10:00 rotate=yes', as_="ann")
    await bot.say("rotation #1 volunteer", as_=PERSON)
    await bot.say("rotation #1 volunteer", as_="ben")
    await bot.say("away 2026-06-01 2026-06-05", as_=PERSON)
    await bot.say('share https://example.com/q "Quick read" #ml note="by @quinn7x"', as_=PERSON)
    await bot.say('share https://example.com/b "Ben pick" #ml note="thanks @quinn7x"', as_="ben")
    await bot.say("helpful #2", as_=PERSON)
    await bot.say("helpful #1", as_="ben")
    await bot.say('poll "Open?" "Yes" "No"', as_="ann")
    await bot.say("vote #1 1", as_=PERSON)
    await bot.say("vote #1 2", as_="ben")
    await bot.say('poll "Secret?" "Red" "Blue" anonymous=yes', as_="ann")
    await bot.say("vote #2 2", as_=PERSON)
    await bot.say("vote #2 2", as_="ben")
    await bot.say('poll "Mine?" "A" "B"', as_=PERSON)
    await bot.say('win "Shipped the model with @ben"', as_=PERSON)
    await bot.say('kudos @ben "for the review"', as_=PERSON)
    await bot.say('kudos @quinn7x "for the demo"', as_="ben")
    await bot.say("leave", as_="nobody")  # an error, nothing stored
    clock.advance(days=2)
    assert "2 came" in await bot.say("ritual attended #1 @quinn7x @ben", as_="ann")
    await bot.say("rotation #1 assign @quinn7x 2026-03-10", as_="ann")
    core = bot.core
    async with core.database.session() as session:
        occurrences = (
            await session.exec(select(Occurrence).order_by(col(Occurrence.starts_at)))
        ).all()
        past = occurrences[0]
        future = occurrences[-1]
        past.facilitator_id = PERSON
        session.add(past)
        now = clock.now()
        for user in (PERSON, "ben"):
            session.add(Rsvp(occurrence_id=future.id, user_id=user, answer="going", at=now))
            session.add(Welcome(community_id=1, user_id=user, welcomed_at=now))
            session.add(MentorRequest(community_id=1, user_id=user, requested_at=now))
        session.add(PairGroup(occurrence_id=past.id, members=[PERSON, "ben"]))
        session.add(PairGroup(occurrence_id=future.id, members=[PERSON]))
        session.add(
            Delivery(
                occurrence_id=future.id,
                kind="ask",
                due_at=now,
                sent_at=now,
                outcome="sent",
                message={"platform": "console", "channel": f"dm:{PERSON}", "message_id": "c-1"},
                detail=f"asked {PERSON}",
            )
        )
        reference = {"user": {"id": PERSON}, "conversation": {"id": "ds"}, "bot": {"id": "b"}}
        for workspace in ("local", ELSEWHERE):
            session.add(
                ConversationReference(
                    platform="console",
                    workspace=workspace,
                    key=f"user:{PERSON}",
                    kind="personal",
                    reference=reference,
                    updated_at=now,
                )
            )
        session.add(
            ConversationReference(
                platform="console",
                workspace="local",
                key="conversation:ds",
                kind="channel",
                reference=reference,
                updated_at=now,
            )
        )
        for to in ({"user": PERSON}, {"channel": "ds"}):
            session.add(
                PendingPost(
                    platform="console",
                    workspace="local",
                    payload={"kind": "kudos", "data": {"who": PERSON}, "to": to},
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        session.add(ProcessedEvent(platform="console", event_id=f"{PERSON}-1", received_at=now))
        session.add(
            HealthDigest(
                community_id=1, month="2026-02", sent_at=now, outcome="sent", posts={PERSON: "sent"}
            )
        )
        session.add(
            Download(
                token="t" * 43,
                platform="console",
                workspace="local",
                user_id=PERSON,
                filename="x.zip",
                media_type="application/zip",
                content=b"zip",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )


async def seed_elsewhere(core: Core) -> None:
    """Another workspace where a person has the same id."""
    for user, text in (("kim", 'setup "Other"'), (PERSON, "join"), (PERSON, "skills Rust")):
        where = Origin(platform="console", workspace=ELSEWHERE, channel="o", user=user)
        await core.router.handle(CommandInvoked(origin=where, text=text))


# Export --------------------------------------------------------------------------------------


async def test_export_is_for_stewards_only(bot: ConsoleBot) -> None:
    await community(bot)
    refused = await bot.say("export", as_="ben")
    assert "Only stewards can use `export`." in refused
    outside = await bot.say("export", as_="ann", channel="random")
    assert "export" in outside and "community" in outside


async def test_export_writes_a_zip_of_csv_files_in_the_export_directory(
    core: Core, bot: ConsoleBot, clock: FixedClock, tmp_path: Path
) -> None:
    core.settings.export_dir = str(tmp_path / "exports")
    await seed_everything(bot, clock)
    answer = await bot.say("export", as_="ann")
    [path] = list((tmp_path / "exports").iterdir())
    assert str(path) in answer and "members.csv (3 rows)" in answer
    assert path.name == "copbot-export-data-science-2026-03-04.zip"
    files = unzip(path.read_bytes())
    assert set(files) == {
        "members",
        "rituals",
        "occurrences",
        "attendance",
        "polls",
        "poll_votes",
        "poll_results",
        "resources",
        "wins",
        "kudos",
    }
    members = {m["user_id"]: m for m in files["members"]}
    assert members[PERSON]["skills"] == "2" and members["ann"]["role"] == "steward"
    assert {(a["user_id"], a["recorded_by"]) for a in files["attendance"]} == {
        (PERSON, "ann"),
        ("ben", "ann"),
    }
    # Anonymous polls: counts only, never a voter (nor the keyed hash that stands for one).
    assert {(v["poll"], v["voter"], v["option"]) for v in files["poll_votes"]} == {
        ("1", PERSON, "1"),
        ("1", "ben", "2"),
    }
    assert {(r["poll"], r["label"], r["votes"]) for r in files["poll_results"]} == {
        ("1", "Yes", "1"),
        ("1", "No", "1"),
        ("2", "Blue", "2"),
    }
    every_value = " ".join(str(v) for rows in files.values() for r in rows for v in r.values())
    assert not re.search(r"h:[0-9a-f]{64}", every_value)
    assert {r["title"] for r in files["resources"]} == {"Quick read", "Ben pick"}
    assert [(k["from_user"], k["to_user"]) for k in files["kudos"]] == [
        (PERSON, "ben"),
        ("ben", PERSON),
    ]
    assert files["wins"][0]["text"] == "Shipped the model with <@ben|ben>"
    assert len(files["occurrences"]) > 2 and files["rituals"][0]["title"] == "Hours"
    # A second export never overwrites the first.
    again = await bot.say("export", as_="ann")
    assert len(list((tmp_path / "exports").iterdir())) == 2 and "-2.zip" in again


def test_the_zips_name_keeps_the_communitys_letters_without_accents() -> None:
    from bot.services.export import _slug

    assert _slug("Données ✨ Science") == "donnees-science"
    assert _slug("Ärzte & Café") == "arzte-cafe"
    assert _slug("日本") == "community"


async def test_text_a_spreadsheet_would_run_is_quoted(
    core: Core, bot: ConsoleBot, tmp_path: Path
) -> None:
    core.settings.export_dir = str(tmp_path / "out")
    await community(bot)
    await bot.say('win "=HYPERLINK(1)"', as_="ben")
    await bot.say("export", as_="ann")
    [path] = list((tmp_path / "out").iterdir())
    assert unzip(path.read_bytes())["wins"][0]["text"] == "'=HYPERLINK(1)"


async def test_an_export_holds_one_community_only(
    core: Core, bot: ConsoleBot, tmp_path: Path
) -> None:
    core.settings.export_dir = str(tmp_path / "out")
    await community(bot)
    await bot.say('setup "Platform"', as_="zoe", channel="platform")
    await bot.say("join", as_="yan", channel="platform")
    await bot.say("export", as_="zoe", channel="platform")
    [path] = list((tmp_path / "out").iterdir())
    members = unzip(path.read_bytes())["members"]
    assert [m["user_id"] for m in members] == ["zoe", "yan"]


# Forget me ---------------------------------------------------------------------------------


async def test_forget_me_asks_first_and_changes_nothing_until_confirmed(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    asked = await bot.say("forget me", as_=PERSON)
    assert "cannot be undone" in asked and "[Yes, forget me] type `forget me confirm`" in asked
    assert len(await mentions_of(core.database, PERSON)) > 0
    wrong = await bot.say("forget me now", as_=PERSON)
    assert "`forget me confirm`" in wrong
    # Words are read whatever their case, as everywhere else (`ritual rsvp #1 GOING`).
    assert "has forgotten you" in await bot.say("forget me CONFIRM", as_="ben")
    async with core.database.session() as session:
        assert (await session.exec(select(Member).where(Member.user_id == PERSON))).first()


async def test_forget_me_warns_the_only_steward_that_the_community_is_left_without_one(
    core: Core, bot: ConsoleBot
) -> None:
    await community(bot)
    await bot.say('setup "Platform"', as_="ann", channel="platform")
    await bot.say('setup "Other"', as_="ann", channel="o")
    await bot.say("join", as_="ben", channel="o")
    await bot.say("role @ben steward", as_="ann", channel="o")
    asked = await bot.say("forget me", as_="ann", direct=True)
    assert (
        "You're the only steward of “Data Science” and “Platform”: name another steward first "
        "(`role @someone steward` in each channel), or they will have none." in asked
    )
    assert "Other" not in asked  # ben stewards it too
    assert "only steward" not in await bot.say("forget me", as_="ben", direct=True)
    [reply] = await core.router.handle(
        CommandInvoked(
            origin=Origin(platform="console", workspace=ELSEWHERE, channel="x", user="ann"),
            text="forget me",
        )
    )
    assert reply.data["stewarded_alone"] == []  # another workspace's ann stewards nothing


async def test_forget_me_leaves_no_value_naming_the_person(
    core: Core, bot: ConsoleBot, clock: FixedClock
) -> None:
    await seed_everything(bot, clock)
    await seed_elsewhere(core)
    before = await counts(core)
    assert {h.table for h in await mentions_of(core.database, PERSON)} >= {
        "members",
        "rsvps",
        "attendance",
        "occurrences",
        "facilitator_pool",
        "absences",
        "pair_groups",
        "welcomes",
        "mentor_requests",
        "poll_votes",
        "polls",
        "helpful_marks",
        "resources",
        "wins",
        "kudos",
        "activity",
        "deliveries",
        "conversation_references",
        "pending_posts",
        "processed_events",
        "downloads",
        "health_digests",
    }
    answer = await bot.say("forget me confirm", as_=PERSON, direct=True)
    assert answer.startswith("Done: copbot has forgotten you in this workspace.")
    for said in ("1 membership", "2 skills", "1 RSVP", "1 attendance record", "2 kudos"):
        assert said in answer, said
    left = await mentions_of(core.database, PERSON)
    # What is left is the other workspace's: its member, activity and conversation.
    elsewhere = await _elsewhere_ids(core)
    for hit in left:
        match hit.table:
            case "members":
                assert hit.row["community_id"] == elsewhere["community"], hit
            case "activity":
                assert hit.row["workspace_id"] == elsewhere["workspace"], hit
            case "conversation_references":
                assert hit.row["workspace"] == ELSEWHERE, hit
            case _:
                raise AssertionError(f"{PERSON} is still in {hit}")
    assert {h.table for h in left} == {"members", "activity", "conversation_references"}
    assert "kudos" in await tables_scanned(core.database)
    # Aggregates keep their counts; other people keep their data.
    after = await counts(core)
    assert after["members"] == before["members"] - 1
    assert after["expertise"] == before["expertise"] - 2
    for same in ("attendance", "votes", "kudos", "wins", "resources", "helpful"):
        assert after[same] == before[same], same
    assert after["helpful_marks"] == before["helpful_marks"] - 1
    assert after["rsvps"] == before["rsvps"] - 1
    async with core.database.session() as session:
        ben = (await session.exec(select(Member).where(Member.user_id == "ben"))).one()
        assert ben.active
        skills = (await session.exec(select(Expertise).where(Expertise.member_id == ben.id))).all()
        assert [s.label for s in skills] == ["Go"]
        kudos = (await session.exec(select(Kudos).order_by(col(Kudos.id)))).all()
        assert [k.text for k in kudos] == ["for the review", "for the demo"]
        assert kudos[0].from_user == kudos[1].to_user != PERSON
        assert kudos[0].from_user.startswith("forgotten-")
        assert (await session.exec(select(Rsvp.user_id))).all() == ["ben"]
        assert sorted((await session.exec(select(Welcome.user_id))).all()) == ["ben"]
        pairs = (await session.exec(select(PairGroup))).all()
        assert [p.members for p in pairs] == [["ben"]]
        ben_vote = (await session.exec(select(PollVote).where(PollVote.voter == "ben"))).all()
        assert len(ben_vote) == 1  # his vote in the anonymous poll is a hash already
        resource = (await session.exec(select(Resource).where(Resource.number == 1))).one()
        assert resource.shared_by.startswith("forgotten-") and resource.helpful == 1
        future = (
            await session.exec(select(Occurrence).where(col(Occurrence.starts_at) > clock.now()))
        ).all()
        assert all(o.facilitator_id != PERSON for o in future)
        # The meeting they were assigned to is planned again, with someone else.
        [assigned] = [o for o in future if o.starts_at.date().isoformat() == "2026-03-10"]
        assert assigned.facilitator_id in ("ann", "ben") and not assigned.facilitator_assigned
        references = (await session.exec(select(ConversationReference))).all()
        kept = {(r.workspace, r.key): r.reference for r in references}
        assert set(kept) == {("local", "conversation:ds"), (ELSEWHERE, f"user:{PERSON}")}
        assert kept["local", "conversation:ds"]["user"] is None  # its last sender forgotten
        assert (await session.exec(select(PendingPost))).one().payload["to"] == {"channel": "ds"}
    # The other workspace is untouched: the person there is still a member with skills.
    listed = await core.router.handle(
        CommandInvoked(
            origin=Origin(platform="console", workspace=ELSEWHERE, channel="o", user="kim"),
            text="members",
        )
    )
    assert "Rust" in str(listed[0].data)
    # Forgetting again finds nothing left.
    assert "held nothing about you" in await bot.say("forget me confirm", as_=PERSON)


async def test_forget_me_works_for_someone_in_no_community(core: Core, bot: ConsoleBot) -> None:
    assert "held nothing about you" in await bot.say("forget me confirm", as_="stranger")


async def counts(core: Core) -> dict[str, int]:
    async with core.database.session() as session:

        async def count(model: type, *where: object) -> int:
            query = select(func.count()).select_from(model)
            for clause in where:
                query = query.where(clause)  # type: ignore[arg-type]
            return int((await session.exec(query)).one())

        return {
            "members": await count(Member),
            "expertise": await count(Expertise),
            "attendance": await count(Attendance),
            "votes": await count(PollVote, col(PollVote.chosen)),
            "kudos": await count(Kudos),
            "wins": await count(Win),
            "resources": await count(Resource),
            "helpful": int(
                (await session.exec(select(func.coalesce(func.sum(Resource.helpful), 0)))).one()
            ),
            "helpful_marks": await count(HelpfulMark),
            "rsvps": await count(Rsvp),
            "activity": await count(Activity),
        }


async def _elsewhere_ids(core: Core) -> dict[str, int | None]:
    from storage.models import Community, Workspace

    async with core.database.session() as session:
        workspace = (
            await session.exec(select(Workspace).where(Workspace.external_id == ELSEWHERE))
        ).one()
        other = (
            await session.exec(select(Community).where(Community.workspace_id == workspace.id))
        ).one()
        member = (
            await session.exec(
                select(Member).where(Member.community_id == other.id, Member.user_id == PERSON)
            )
        ).one()
    return {"workspace": workspace.id, "community": other.id, "member": member.id}
