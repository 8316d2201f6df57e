"""Replies as Block Kit: messages, the App Home view and the setup modal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.replies import Button, Form, Reply
from bot.vocabulary import FIELD_LABELS, FIELD_LIMITS, KIND_LABELS
from messages.rendering import Renderer

MAX_BLOCKS = 50  # Slack's limit for a message (100 for a view; we keep to 50 everywhere)
MAX_TEXT = 3000  # Slack's limit for a section's text
MAX_FALLBACK = 3000  # notification text: long enough to read, short enough to show
MAX_BUTTONS = 25  # Slack's limit for the elements of one actions block
FORM_TITLES = {"setup": "Set up a community"}

Blocks = list[dict[str, Any]]


def mrkdwn_escape(text: str) -> str:
    """User text made inert in mrkdwn, so `<!channel>` or `<http://x|y>` shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mention(user: Mapping[str, Any]) -> str:
    return f"<@{user['id']}>"


def slash_command(text: str) -> str:
    """A command as a person types it in Slack."""
    return f"`/cop {text}`"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_blocks(blocks: Blocks, limit: int = MAX_BLOCKS) -> Blocks:
    """Blocks within Slack's limits: long texts shortened, extra blocks summarised."""
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            text["text"] = _truncate(text["text"], MAX_TEXT)
        for field in block.get("fields") or []:
            field["text"] = _truncate(field["text"], 2000)
    if len(blocks) <= limit:
        return blocks
    hidden = len(blocks) - (limit - 1)
    note = {"type": "mrkdwn", "text": f"…and {hidden} more blocks not shown."}
    return [*blocks[: limit - 1], {"type": "context", "elements": [note]}]


class SlackRenderer:
    """Renders neutral replies for Slack; user text is escaped for mrkdwn first."""

    def __init__(self) -> None:
        self._renderer = Renderer(
            "slack", escape=mrkdwn_escape, mention=slack_mention, command=slash_command
        )
        self._text = Renderer(
            "text", escape=mrkdwn_escape, mention=slack_mention, command=slash_command
        )
        self._plain = Renderer("text")

    def plain(self, reply: Reply) -> str:
        """Unformatted text, for the places Slack shows as typed (modal field errors)."""
        return self._plain.text(reply.kind, reply.data)

    def text(self, reply: Reply) -> str:
        """The notification text (`text`) that goes with the blocks."""
        return _truncate(self._text.text(reply.kind, reply.data), MAX_FALLBACK)

    def blocks(self, reply: Reply) -> Blocks:
        blocks: Blocks = self._renderer.json(reply.kind, reply.data)
        if reply.buttons:
            return [*fit_blocks(blocks, MAX_BLOCKS - 1), to_actions(reply.buttons)]
        return fit_blocks(blocks)

    def to_message(self, reply: Reply) -> dict[str, Any]:
        """`text` and `blocks` for chat.postMessage, an ack or a response_url."""
        return {"text": self.text(reply), "blocks": self.blocks(reply)}

    def to_home_view(self, reply: Reply) -> dict[str, Any]:
        """The App Home tab for views.publish."""
        return {"type": "home", "blocks": fit_blocks(self._renderer.json(reply.kind, reply.data))}


def to_actions(buttons: tuple[Button, ...]) -> dict[str, Any]:
    """Buttons as one actions block; action ids stay unique within it (`command`,
    `command:1`, ...) and the part before `:` is the action the core sees."""
    elements = []
    for index, button in enumerate(buttons[:MAX_BUTTONS]):
        element: dict[str, Any] = {
            "type": "button",
            "action_id": button.action if index == 0 else f"{button.action}:{index}",
            "text": {"type": "plain_text", "text": _truncate(button.label, 75), "emoji": True},
            "value": button.value,
        }
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        elements.append(element)
    return {"type": "actions", "block_id": "copbot_actions", "elements": elements}


def _text_input(
    name: str, value: str, *, optional: bool, multiline: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": name,
        "multiline": multiline,
        "max_length": FIELD_LIMITS[name],
    }
    if value:
        element["initial_value"] = value[: FIELD_LIMITS[name]]
    return {
        "type": "input",
        "block_id": name,
        "optional": optional,
        "label": {"type": "plain_text", "text": FIELD_LABELS[name]},
        "element": element,
    }


def _option(kind: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": KIND_LABELS[kind]}, "value": kind}


def to_modal(form: Form, *, channel: str, channel_name: str | None = None) -> dict[str, Any]:
    """The setup modal for views.open; `private_metadata` carries the channel it is for.

    Field values are plain text here (inputs are not mrkdwn), so they are not escaped."""
    if form.name != "setup":
        raise ValueError(f"no Slack modal for form {form.name!r}")
    values = form.values
    kind = values.get("kind") or "cop"
    select: dict[str, Any] = {
        "type": "static_select",
        "action_id": "kind",
        "options": [_option(k) for k in KIND_LABELS],
    }
    if kind in KIND_LABELS:
        select["initial_option"] = _option(kind)
    existing = bool(values.get("name"))
    return {
        "type": "modal",
        "callback_id": form.name,
        "private_metadata": json.dumps({"channel_id": channel, "channel_name": channel_name}),
        "title": {"type": "plain_text", "text": FORM_TITLES[form.name]},
        "submit": {"type": "plain_text", "text": "Save" if existing else "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text_input("name", values.get("name", ""), optional=False),
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": FIELD_LABELS["kind"]},
                "element": select,
            },
            _text_input("domain", values.get("domain", ""), optional=True),
            _text_input("mission", values.get("mission", ""), optional=True, multiline=True),
        ],
    }
