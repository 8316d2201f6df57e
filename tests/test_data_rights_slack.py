"""`export` and `forget me` through Slack's HTTP endpoint, signed like Slack, against the fake
Web API (which records the files.uploadV2 flow and the bytes), on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.app import Core
from tests.data_rights_state import mentions_of
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide
from tests.test_data_rights import unzip
from tests.test_feedback_slack import button_press, until
from tests.test_slack_commands import BOB, CAROL, shown


async def community(slack: SlackClientSide) -> None:
    await slack.command('setup "Data Science"')
    await slack.command("join", **BOB)
    await slack.command("join", **CAROL)
    await slack.command("skills Python", **BOB)
    await slack.command('poll "Lunch?" "Pizza" "Sushi"', **BOB)
    await slack.command("vote #1 2", **BOB)
    await slack.command('poll "Mood?" "Good" "Bad" anonymous=yes', **CAROL)
    await slack.command("vote #2 1", **BOB)
    await slack.command('kudos <@U0CAROL|carol> "for the review"', **BOB)
    await slack.command('win "Shipped"', **BOB)


async def test_export_is_uploaded_to_the_steward_s_direct_messages(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    answer = await slack.command("export")
    assert answer.status == 200
    await api.wait_for("files.completeUploadExternal")
    [asked] = api.calls_to("files.getUploadURLExternal")
    [uploaded] = api.calls_to("upload")
    assert uploaded.args["bytes"] == int(asked.args["length"]) > 0
    [shared] = api.shared_files()
    assert shared.channel == "DU0ALICE"  # the DM conversations.open gave for alice
    assert shared.filename.startswith("copbot-export-data-science-") and shared.title
    assert "The export of “Data Science”" in shared.initial_comment
    assert shared.content is not None
    files = unzip(shared.content)
    assert {m["user_id"] for m in files["members"]} == {"U0ALICE", "U0BOB", "U0CAROL"}
    assert [(v["poll"], v["voter"]) for v in files["poll_votes"]] == [("1", "U0BOB")]
    assert {(r["poll"], r["votes"]) for r in files["poll_results"]} == {("1", "1"), ("2", "1")}
    assert files["kudos"][0]["to_user"] == "U0CAROL"
    assert not api.calls_to("chat.postMessage") or all(
        c.args.get("channel") != "DU0ALICE" for c in api.calls_to("chat.postMessage")
    )


async def test_export_by_a_member_is_refused_kindly(
    api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    refused = await slack.command("export", **BOB)
    assert refused.json["response_type"] == "ephemeral"
    assert "Only stewards can use `/cop export`." in shown(refused)
    assert not api.calls_to("files.getUploadURLExternal")


async def test_forget_me_asks_with_a_button_then_forgets(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await community(slack)
    asked = await slack.command("forget me", **BOB)
    assert asked.json["response_type"] == "ephemeral"
    assert "cannot be undone" in shown(asked)
    [actions] = [b for b in asked.json["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["text"]["text"] == "Yes, forget me" and button["style"] == "danger"
    assert await mentions_of(core.database, "U0BOB")
    await slack.interact(button_press(BOB, "1.1", button["action_id"], button["value"], api))
    await until(
        lambda: any("forgotten you" in shown(c.args) for c in api.calls_to("response_url")),
        "the confirmation",
    )
    [done] = [c for c in api.calls_to("response_url") if "forgotten you" in shown(c.args)]
    assert done.args["response_type"] == "ephemeral"
    assert "1 membership" in shown(done.args) and "1 vote (now anonymous)" in shown(done.args)
    assert await mentions_of(core.database, "U0BOB") == []
    # Others keep theirs: carol is still a member, and her kudos count.
    assert len(await mentions_of(core.database, "U0CAROL")) > 0
