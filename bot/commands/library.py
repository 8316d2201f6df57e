"""The library's commands and events: `share`, `library`, `helpful`, `save`, `publish`; the
"Helpful" button, the draft form, saving a message (shortcut, message action) and 📌."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.commands.spec import CommandSpec, Invocation, page_option
from bot.errors import UserError
from bot.events import ButtonPressed, MessageSaved, Origin, ReactionAdded, ReactionChanged
from bot.handlers import EventHandlers
from bot.outbox import Outbox
from bot.replies import Button, Destination, Form, Reply, Visibility
from bot.services.communities import CommunityService
from bot.services.library import Draft, LibraryService, Page, draft_from
from storage.models import Community, Resource

SAVE_REACTION = "pushpin"
DRAFT_FORM = "library_draft"


def resource_data(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "number": resource.number,
        "url": resource.url,
        "title": resource.title,
        "note": resource.note,
        "summary": resource.summary,
        "links": list(resource.links),
        "tags": list(resource.tags),
        "helpful": resource.helpful,
        "shared_by": {"id": resource.shared_by, "name": ""},
        "status": resource.status,
    }


def _number(word: str, usage: str) -> int:
    digits = word.lstrip("#")
    if not digits.isdigit():
        raise UserError("resource_number", usage=usage, word=word)
    return int(digits)


class LibraryCommands:
    def __init__(
        self, library: LibraryService, communities: CommunityService, outbox: Outbox
    ) -> None:
        self._library = library
        self._communities = communities
        self._outbox = outbox

    def register(self, handlers: EventHandlers) -> None:
        handlers.on_action("helpful", self.press_helpful)
        handlers.on_form(DRAFT_FORM, self.submit_draft)
        handlers.on_reaction(self.pinned)
        handlers.on_save(self.message_saved)

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="share",
                handler=self.share,
                needs_community=True,
                options=frozenset({"note"}),
            ),
            CommandSpec(
                name="library",
                handler=self.search,
                needs_community=True,
                options=frozenset({"page"}),
            ),
            CommandSpec(name="helpful", handler=self.helpful, needs_community=True),
            CommandSpec(name="save", handler=self.save, needs_community=True),
            CommandSpec(
                name="publish",
                handler=self.publish,
                needs_community=True,
                options=frozenset({"title", "summary"}),
            ),
        ]

    # share, library, helpful -----------------------------------------------------------------

    async def share(self, inv: Invocation) -> Reply:
        command = inv.command
        community = inv.require_community()
        if inv.caller is None:
            raise UserError("members_only", community=community.name)
        unknown = sorted(set(command.options) - {"note"})
        if unknown:
            raise UserError("option_unknown", usage="share", command="share", option=unknown[0])
        words = command.words
        if len(words) < 2:
            raise UserError("share_needs_link_and_title", usage="share")
        stray = [w for w in words[2:] if not w.startswith("#")]
        if stray or command.users:
            raise UserError("share_title_needs_quotes", usage="share")
        shared = await self._library.share(
            inv.origin,
            community,
            url=words[0],
            title=words[1],
            tags=words[2:],
            note=command.options.get("note", ""),
        )
        resource = shared.resource
        return Reply(
            kind="library_shared",
            data={
                "resource": resource_data(resource),
                "created": shared.created,
                "added_tags": list(shared.added_tags),
                "by": {"id": inv.origin.user, "name": inv.origin.user_name},
            },
            visibility=Visibility.CHANNEL if shared.created else Visibility.USER,
            buttons=(helpful_button(resource),),
        )

    async def search(self, inv: Invocation) -> Reply:
        command = inv.command
        community = inv.require_community()
        unknown = sorted(set(command.options) - {"page"})
        if unknown:
            raise UserError("option_unknown", usage="library", command="library", option=unknown[0])
        page_number = page_option(command, "library")
        tags = [w for w in command.words if w.startswith("#") and len(w) > 1]
        query = " ".join(w for w in command.words if w not in tags)
        page = await self._library.search(community, query, tags=tags, page=page_number)
        return self._results(community, query, tags, page)

    def _results(self, community: Community, query: str, tags: Sequence[str], page: Page) -> Reply:
        buttons: tuple[Button, ...] = ()
        if page.more:
            line = " ".join(x for x in ("library", query, *tags) if x)
            buttons = (
                Button(label="Show more", action="command", value=f"{line} page={page.page + 1}"),
            )
        return Reply(
            kind="library_results",
            data={
                "community": {"name": community.name},
                "query": query,
                "tags": [t.lstrip("#") for t in tags],
                "page": page.page,
                "resources": [resource_data(r) for r in page.resources],
                "empty_library": not page.resources and not query and not tags and page.page == 1,
            },
            buttons=buttons,
        )

    async def helpful(self, inv: Invocation) -> Reply:
        if len(inv.command.words) != 1:
            raise UserError("resource_number", usage="helpful", word=inv.command.rest)
        number = _number(inv.command.words[0], "helpful")
        return await self._mark(inv.origin, inv.require_community(), number)

    async def press_helpful(self, event: ButtonPressed) -> Reply:
        community, _ = await self._communities.where_and_who(event.origin)
        resource = (
            await self._library.resource(community, int(event.value))
            if community is not None and event.value.isdigit()
            else None
        )
        if community is None or resource is None:
            raise UserError("resource_not_found", number=event.value)
        return await self._mark(event.origin, community, resource.number)

    async def _mark(self, origin: Origin, community: Community, number: int) -> Reply:
        marked = await self._library.mark_helpful(origin, community, number)
        return Reply(
            kind="library_helpful",
            data={"resource": resource_data(marked.resource), "new": marked.new},
        )

    # saving a thread ---------------------------------------------------------------------------

    async def save(self, inv: Invocation) -> Reply:
        """`save "<text>"`: the console's (and anyone's) way to draft from pasted text."""
        community = inv.require_community()
        if inv.caller is None:
            raise UserError("members_only", community=community.name)
        if not inv.command.words:
            raise UserError("save_needs_text", usage="save")
        draft = draft_from(inv.command.words)
        resource = await self._library.save_draft(inv.origin, community, draft, source=None)
        return self._draft_reply(resource, draft)

    async def message_saved(self, event: MessageSaved) -> Reply:
        """A Slack shortcut or Teams message action: a draft, in a form to confirm."""
        community, caller = await self._communities.where_and_who(event.origin)
        if community is None:
            raise UserError("no_community_here")
        if caller is None:
            raise UserError("members_only", community=community.name)
        draft = draft_from([event.text, *event.thread])
        resource = await self._library.save_draft(
            event.origin, community, draft, source=event.message
        )
        return self._draft_reply(resource, draft)

    async def pinned(self, event: ReactionChanged) -> Reply | None:
        """📌 on a message in a community's channel: a draft from it and its thread, sent to
        whoever pinned it, to confirm."""
        if not isinstance(event, ReactionAdded) or event.reaction != SAVE_REACTION:
            return None
        community, caller = await self._communities.where_and_who(event.origin)
        if community is None or caller is None:
            return None
        texts = await self._outbox.thread_text(event.message)
        if not texts:
            return None
        draft = draft_from(texts)
        resource = await self._library.save_draft(
            event.origin, community, draft, source=event.message
        )
        reply = self._draft_reply(resource, draft, form=False)
        return reply.addressed(Destination.direct(event.origin))

    def _draft_reply(self, resource: Resource, draft: Draft, *, form: bool = True) -> Reply:
        values = {
            "draft_id": str(resource.id),
            "title": resource.title,
            "summary": resource.summary,
            "tags": " ".join(f"#{t}" for t in resource.tags),
        }
        return Reply(
            kind="library_draft",
            data={"resource": resource_data(resource), "values": values},
            visibility=Visibility.DIRECT if not form else Visibility.USER,
            buttons=(
                Button(
                    label="Publish",
                    action="command",
                    value=f"publish #{resource.number}",
                    style="primary",
                ),
            ),
            form=Form(name=DRAFT_FORM, values=values) if form else None,
        )

    async def submit_draft(self, origin: Origin, values: Mapping[str, str]) -> Reply:
        """The draft form (a Slack modal, a Teams card): the saver's edits, then published."""
        draft = values.get("draft_id", "")
        if not draft.isdigit():
            raise UserError("draft_not_found")
        resource = await self._library.publish(
            origin,
            int(draft),
            title=values.get("title"),
            summary=values.get("summary"),
            tags=values.get("tags", "").replace(",", " ").split(),
        )
        return self._published(resource)

    async def publish(self, inv: Invocation) -> Reply:
        """`publish #N [title="…"] [summary="…"] [#tag …]`: confirm one's draft."""
        command = inv.command
        unknown = sorted(set(command.options) - {"title", "summary"})
        if unknown:
            raise UserError("option_unknown", usage="publish", command="publish", option=unknown[0])
        if not command.words:
            raise UserError("resource_number", usage="publish", word="")
        number = _number(command.words[0], "publish")
        tags = list(command.words[1:])
        if any(not t.startswith("#") for t in tags):
            raise UserError("share_title_needs_quotes", usage="publish")
        resource_id = await self._library.id_of(inv.require_community(), number)
        if resource_id is None:
            raise UserError("draft_not_found")
        resource = await self._library.publish(
            inv.origin,
            resource_id,
            title=command.options.get("title"),
            summary=command.options.get("summary"),
            tags=tags or None,
        )
        return self._published(resource)

    def _published(self, resource: Resource) -> Reply:
        return Reply(
            kind="library_shared",
            data={
                "resource": resource_data(resource),
                "created": True,
                "added_tags": [],
                "by": {"id": resource.shared_by, "name": ""},
            },
            buttons=(helpful_button(resource),),
        )


def helpful_button(resource: Resource) -> Button:
    """The "helpful" mark under a resource (typed: `helpful #N`)."""
    return Button(
        label="Helpful",
        action="helpful",
        value=str(resource.id),
        typed=f"helpful #{resource.number}",
    )
