"""Saving a Slack thread to the library: the message shortcut opens a modal with the draft and
submitting it publishes; a 📌 reaction sends the draft to the person's DMs. Over HTTP, against
the fake Web API, on both databases."""

from __future__ import annotations

import copy
import json

from sqlmodel import select

from bot.app import Core
from storage.models import Resource
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload

PARENT = "1700000000.000100"


def _thread(api: FakeSlackApi) -> None:
    api.add_message(
        "C0001",
        "Feature stores keep features consistent. See <https://feast.dev|Feast>.",
        ts=PARENT,
        thread_ts=PARENT,
        user="U0BOB",
    )
    api.add_message(
        "C0001",
        "We tried Feast for online features; the online store was fast.",
        ts="1700000001.000100",
        thread_ts=PARENT,
        user="U0ALICE",
    )


async def _resources(core: Core) -> list[Resource]:
    async with core.database.session() as session:
        return list((await session.exec(select(Resource))).all())


async def test_the_shortcut_opens_the_draft_and_submitting_publishes_it(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science"')
    _thread(api)

    answer = await slack.interact(load_payload("message_action"))

    assert answer.status == 200
    [replies] = await api.wait_for("conversations.replies")
    assert replies.args["channel"] == "C0001" and replies.args["ts"] == PARENT
    [opened] = await api.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "library_draft"
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert fields["title"] == "Feature stores keep features consistent."
    assert "online" in fields["tags"] and "Feast" in fields["summary"]
    [draft] = await _resources(core)
    assert draft.status == "draft" and draft.links == ["https://feast.dev"]

    submission = copy.deepcopy(load_payload("view_submission"))
    submission["view"].update(
        callback_id="library_draft",
        private_metadata=view["private_metadata"],
        state={
            "values": {
                "title": {"title": {"type": "plain_text_input", "value": "Feature stores"}},
                "summary": {"summary": {"type": "plain_text_input", "value": "Feast works."}},
                "tags": {"tags": {"type": "plain_text_input", "value": "#mlops, #feast"}},
            }
        },
    )
    done = await slack.interact(submission)

    assert done.status == 200 and done.text == ""
    [published] = await _resources(core)
    assert (published.status, published.title, published.tags) == (
        "published",
        "Feature stores",
        ["mlops", "feast"],
    )
    [shown] = await api.wait_for("chat.postEphemeral")
    assert "Feature stores" in json.dumps(shown.args["blocks"])


async def test_a_refused_draft_shows_the_error_on_its_field(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science"')
    _thread(api)
    await slack.interact(load_payload("message_action"))
    [opened] = await api.wait_for("views.open")
    submission = copy.deepcopy(load_payload("view_submission"))
    submission["view"].update(
        callback_id="library_draft",
        private_metadata=opened.args["view"]["private_metadata"],
        state={"values": {"title": {"title": {"type": "plain_text_input", "value": "   "}}}},
    )

    answer = await slack.interact(submission)

    assert answer.json["response_action"] == "errors"
    assert "title" in answer.json["errors"]["title"]


async def test_a_pushpin_sends_the_draft_to_whoever_pinned(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science"')
    _thread(api)
    event = copy.deepcopy(load_payload("event_reaction_added"))
    event["event"].update(user="U0ALICE", reaction="pushpin")
    event["event"]["item"]["ts"] = PARENT

    await slack.envelope(event)

    [dm] = await api.wait_for("conversations.open")
    assert dm.args["users"] == "U0ALICE"
    posts = await api.wait_for("chat.postMessage")
    draft_post = json.dumps(posts[-1].args["blocks"])
    assert "Draft *#1*" in draft_post and "Feature stores keep features consistent." in draft_post
    [draft] = await _resources(core)
    assert draft.status == "draft" and "online store was fast" in draft.saved_text
