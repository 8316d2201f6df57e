"""Replies as Block Kit: messages, the App Home view and the setup modal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2 import TemplateNotFound

from adapters.slack.translate import CHANNEL_BLOCK_PREFIX
from bot.replies import Button, Form, Reply
from bot.vocabulary import FIELD_LABELS, FIELD_LIMITS, FORM_LABELS, KIND_LABELS
from messages.rendering import Escaping, Renderer, local_time
from rituals.catalog import CATALOG

MAX_BLOCKS = 50  # Slack's limit for a message (100 for a view; we keep to 50 everywhere)
MAX_TEXT = 3000  # Slack's limit for a section's text
MAX_FALLBACK = 3000  # notification text: long enough to read, short enough to show
MAX_BUTTONS = 25  # Slack's limit for the elements of one actions block

Blocks = list[dict[str, Any]]


def mrkdwn_escape(text: str) -> str:
    """User text made inert in mrkdwn, so `<!channel>` or `<http://x|y>` shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mention(user: Mapping[str, Any]) -> str:
    return f"<@{user['id']}>"


def slash_command(text: str) -> str:
    """A command as a person types it in Slack."""
    return f"`/cop {text}`"


def slack_date(instant: str, zone: str) -> str:
    """An instant as Slack's date token: each reader sees it in their own time zone; the
    fallback (for clients that cannot) is the wall time in `zone`."""
    epoch = int(datetime.fromisoformat(instant).timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{local_time(instant, zone)}>"


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
        escaping = Escaping(mrkdwn_escape)  # once per reply, for the text and the blocks
        self._renderer = Renderer(
            "slack",
            escape=escaping,
            mention=slack_mention,
            command=slash_command,
            when=slack_date,
        )
        self._text = Renderer(
            "text",
            escape=escaping,
            mention=slack_mention,
            command=slash_command,
            when=slack_date,
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
            actions = to_actions(reply.buttons)
            return [*fit_blocks(blocks, MAX_BLOCKS - len(actions)), *actions]
        return fit_blocks(blocks)

    def to_message(self, reply: Reply) -> dict[str, Any]:
        """`text` and `blocks` for chat.postMessage, an ack or a response_url."""
        return {"text": self.text(reply), "blocks": self.blocks(reply)}

    def to_home_view(self, reply: Reply) -> dict[str, Any]:
        """The App Home tab for views.publish, with the reply's buttons."""
        return {"type": "home", "blocks": self.blocks(reply)}


def to_actions(buttons: tuple[Button, ...]) -> Blocks:
    """Buttons as actions blocks, one per conversation they act in (the block id names it:
    `in:<channel>`; `copbot_actions` for where they are). Action ids stay unique within a
    block (`command`, `command:1`, ...) and the part before `:` is the action the core sees."""
    blocks: Blocks = []
    for index, button in enumerate(buttons[:MAX_BUTTONS]):
        block_id = CHANNEL_BLOCK_PREFIX + button.channel if button.channel else "copbot_actions"
        if not blocks or blocks[-1]["block_id"] != block_id:
            blocks.append({"type": "actions", "block_id": block_id, "elements": []})
        element: dict[str, Any] = {
            "type": "button",
            "action_id": button.action if index == 0 else f"{button.action}:{index}",
            "text": {"type": "plain_text", "text": _truncate(button.label, 75), "emoji": True},
            "value": button.value,
        }
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        blocks[-1]["elements"].append(element)
    return blocks


_MODALS = Renderer("slack")  # modal inputs are plain text: values are not escaped


def to_modal(form: Form, *, channel: str, channel_name: str | None = None) -> dict[str, Any]:
    """The modal for `form` (template `slack/_modal_<form>.json.j2`) for views.open;
    `private_metadata` carries the channel it is for."""
    try:
        view: dict[str, Any] = _MODALS.json(
            f"_modal_{form.name}",
            {},
            values=dict(form.values),
            labels=dict(FIELD_LABELS),
            limits=dict(FIELD_LIMITS),
            kinds=[{"value": k, "label": label} for k, label in KIND_LABELS.items()],
            form_labels=dict(FORM_LABELS),
            templates=[{"key": t.key, "title": t.title} for t in CATALOG],
        )
    except TemplateNotFound:
        raise ValueError(f"no Slack modal for form {form.name!r}") from None
    view["callback_id"] = form.name
    metadata: dict[str, Any] = {"channel_id": channel, "channel_name": channel_name}
    # Values named `*_id` (the draft a form confirms) are carried, not shown as fields.
    carried = {k: v for k, v in form.values.items() if k.endswith("_id")}
    if carried:
        metadata["values"] = carried
    view["private_metadata"] = json.dumps(metadata)
    return view
