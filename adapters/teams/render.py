"""Replies as Teams messages: an Adaptive Card (schema 1.5) with a plain-text summary."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    AttachmentLayoutTypes,
    InputHints,
)
from msrest.serialization import Model

from bot.replies import Button, Reply
from messages.rendering import Renderer

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SUMMARY_LIMIT = 200
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN = frozenset("\\`*_[]#~|")
_LINE_START = re.compile(r"(?m)^(\s*)([-+]|\d+(?=\.))")
_BUTTON_STYLES = {"primary": "positive", "danger": "destructive"}


def escape_markdown(text: str) -> str:
    """User text made inert in a TextBlock: no HTML, no emphasis, links, code, lists or `<at>`."""
    escaped = "".join(
        _ENTITIES.get(char) or ("\\" + char if char in _MARKDOWN else char) for char in text
    )
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def bold_mention(user: Mapping[str, Any]) -> str:
    """A person named in a card: bold by name (their text is already escaped)."""
    return "**" + str(user.get("name") or user.get("id")) + "**"


def bold(text: str) -> str:
    """A command or code fragment in a card: TextBlock markdown has no inline code."""
    return f"**{text}**"


ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


class CardContent(Model):
    """A card's JSON, which msrest sends as it is (through its `additional_properties`)
    instead of walking every value of it again: a large card took milliseconds per send."""

    _attribute_map = {"additional_properties": {"key": "", "type": "{object}"}}

    def __init__(self, card: dict[str, Any]) -> None:
        super().__init__()
        self.additional_properties = card


class SentActivity(Activity):
    """An activity copbot built to send. botbuilder deep-copies every activity a turn sends
    (a large card took milliseconds); this one is built afresh for each send and its card is
    not changed afterwards, so the copy shares the card and copies only the activity itself
    (whose conversation fields botbuilder then sets)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SentActivity:
        return copy.copy(self)


@dataclass(frozen=True, kw_only=True)
class Addressee:
    """The person a reply in a shared thread is meant for; the card mentions them."""

    id: str
    name: str

    @property
    def at_text(self) -> str:
        # The <at> text must equal the entity's text; keep the name free of markup.
        return "<at>" + re.sub(r"[<>&]", "", self.name or "you") + "</at>"


def submit_action(button: Button) -> dict[str, Any]:
    """A card button; Teams posts `data` back, which translate.py reads as ButtonPressed."""
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label,
        "data": {"action": button.action, "value": button.value},
    }
    if button.channel:
        action["data"]["channel"] = button.channel
    if button.style in _BUTTON_STYLES:
        action["style"] = _BUTTON_STYLES[button.style]
    return action


class CardRenderer:
    """Renders `Reply` values through `messages/templates/teams/` (cards) and `text/` (summary)."""

    def __init__(self) -> None:
        self._cards = Renderer(
            "teams", escape=escape_markdown, mention=bold_mention, code=bold, command=bold
        )
        self._text = Renderer("text")

    def summary(self, reply: Reply) -> str:
        """The plain text Teams shows in notifications and where a card cannot be drawn."""
        text = " ".join(self._text.text(reply.kind, reply.data).split())
        return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"

    def to_card(self, reply: Reply, *, addressee: Addressee | None = None) -> dict[str, Any]:
        form_values = dict(reply.form.values) if reply.form else {}
        card: dict[str, Any] = self._cards.json(reply.kind, reply.data, form_values=form_values)
        card["fallbackText"] = self._text.text(reply.kind, reply.data)
        actions = list(card.get("actions") or [])
        if reply.form is not None:
            actions.append(
                {
                    "type": "Action.Submit",
                    "title": "Save",
                    "style": "positive",
                    "data": {"form": reply.form.name}
                    | ({"channel": reply.form.channel} if reply.form.channel else {}),
                }
            )
        actions.extend(submit_action(button) for button in reply.buttons)
        if actions:
            card["actions"] = actions
        if addressee is not None:
            card["body"].insert(0, {"type": "TextBlock", "text": addressee.at_text, "wrap": True})
            card.setdefault("msteams", {})["entities"] = [
                {
                    "type": "mention",
                    "text": addressee.at_text,
                    "mentioned": {"id": addressee.id, "name": addressee.name},
                }
            ]
        return card

    def to_task_module(self, replies: list[Reply], *, title: str) -> dict[str, Any]:
        """A task module answering a message-action invoke: the first reply's card when it
        is a form to fill in, otherwise its text as a message (an error, a confirmation)."""
        if not replies:
            return {}
        first = replies[0]
        if first.form is not None:
            card = CardFactory.adaptive_card(self.to_card(first))
            return {
                "task": {
                    "type": "continue",
                    "value": {
                        "title": title,
                        "card": {"contentType": card.content_type, "content": card.content},
                    },
                }
            }
        return {"task": {"type": "message", "value": self.summary(first)}}

    def to_activity(self, reply: Reply, *, addressee: Addressee | None = None) -> Activity:
        """A message activity carrying the reply's card."""
        card = self.to_card(reply, addressee=addressee)
        return SentActivity(
            type=ActivityTypes.message,
            attachment_layout=AttachmentLayoutTypes.list,
            attachments=[Attachment(content_type=ADAPTIVE_CARD, content=CardContent(card))],
            input_hint=InputHints.accepting_input,
            summary=self.summary(reply),
        )
