"""The community's library: shared links and saved threads, full-text search over them
(FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL), helpful marks, and drafts.

Both databases search the same normalised text (casefolded, diacritics stripped, split into
words here) and get a query built from those words, never the user's text as search syntax,
so they find the same resources for the same data."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import MessageRef, Origin
from bot.services.activity import record
from storage.database import Database
from storage.models import Community, HelpfulMark, Member, Resource, ResourceTag

PAGE_SIZE = 10
# A search ranks at most this many matches, the newest: ranking every match of a word found in
# most of a large library (bm25 / ts_rank per row) took 80+ ms for 25,000 matches, and for
# so common a word relevance says little. Below this many matches the ranking is exact.
RANK_WINDOW = 1000
TITLE_LIMIT = 200
NOTE_LIMIT = 1000
SUMMARY_LIMIT = 2000
SAVED_TEXT_LIMIT = 20000
TAG_LIMIT = 40
MAX_TAGS = 10
DRAFT_TITLE_LIMIT = 80
DRAFT_TAGS = 3

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"^[^\W_][\w-]*$")
_LINK = re.compile(r"https?://[^\s<>|\"]+", re.IGNORECASE)
# Slack writes links as <url|label> or <url>; the label is what people read.
_SLACK_LINK = re.compile(r"<(https?://[^>|]+)(?:\|([^>]*))?>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+")
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just let me more most my myself no nor not now of off on once only or other our
ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
http https www com org net html thanks thank hi hello yes ok okay
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fold(text_: str) -> str:
    """`text_` casefolded, without diacritics (é -> e, ß -> ss)."""
    decomposed = unicodedata.normalize("NFKD", text_.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text_: str) -> list[str]:
    """The searchable words of `text_`: folded letters and digits, nothing else."""
    return _WORD.findall(fold(text_))


def normalise_url(url: str) -> str:
    """The link as it is compared: scheme and host lower-cased, no `utm_*` parameters,
    no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.startswith("utm_")
        ]
    )
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def valid_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def parse_tags(raw: Sequence[str]) -> list[str]:
    """Tags as stored: `#Data-Eng` -> `data-eng`, in order, once each."""
    tags: list[str] = []
    for word in raw:
        tag = fold(word.strip().lstrip("#"))
        if not tag:
            continue
        if len(tag) > TAG_LIMIT or not _TAG.match(tag):
            raise UserError("tag_invalid", field="tags", tag=word, limit=TAG_LIMIT)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise UserError("too_many_tags", field="tags", limit=MAX_TAGS)
    return tags


def search_text(resource: Resource) -> str:
    parts = (resource.title, resource.note, resource.summary, resource.saved_text, *resource.tags)
    return " ".join(words(" ".join(parts)))


# Drafting -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Draft:
    """What copbot makes of a message and its thread before a person confirms it."""

    title: str
    links: tuple[str, ...]
    summary: str
    tags: tuple[str, ...]
    text: str


def _readable(message: str) -> str:
    """A message without Slack's link markup (the label, or the bare link)."""
    return _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), message)


def _sentences(message: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(message) if s and s.strip()]


def _trim(text_: str, limit: int) -> str:
    text_ = " ".join(text_.split())
    if len(text_) <= limit:
        return text_
    cut = text_[: limit - 1].rsplit(" ", 1)[0] or text_[: limit - 1]
    return cut + "…"


def draft_from(messages: Sequence[str]) -> Draft:
    """A draft from a message and its replies: the first sentence as title, the links, the
    2-3 sentences with the most frequent words as summary, and the most frequent words as
    tags. Extractive and deterministic."""
    texts = [m for m in (message.strip() for message in messages) if m]
    links: list[str] = []
    for message in texts:
        for link in [m.group(1) for m in _SLACK_LINK.finditer(message)] + _LINK.findall(
            _SLACK_LINK.sub(" ", message)
        ):
            link = link.rstrip(".,;:!?)")
            if link not in links:
                links.append(link)
    readable = [_LINK.sub(" ", _readable(m)) for m in texts]
    sentences = [s for m in readable for s in _sentences(m) if words(s)]
    content = [w for w in words(" ".join(readable)) if w not in _STOPWORDS and not w.isdigit()]
    frequency = Counter(content)
    title = _trim(sentences[0], DRAFT_TITLE_LIMIT) if sentences else ""

    def score(sentence: str) -> float:
        found = [w for w in words(sentence) if w in frequency]
        return sum(frequency[w] for w in found) / (len(words(sentence)) or 1)

    count = 3 if len(sentences) > 4 else 2
    best = sorted(range(len(sentences)), key=lambda i: (-score(sentences[i]), i))[:count]
    summary = _trim(" ".join(sentences[i] for i in sorted(best)), SUMMARY_LIMIT)
    first_seen = {w: i for i, w in reversed(list(enumerate(content)))}
    ranked = sorted(frequency, key=lambda w: (-frequency[w], first_seen[w]))
    tags = tuple(w for w in ranked if len(w) >= 3 and len(w) <= TAG_LIMIT)[:DRAFT_TAGS]
    return Draft(
        title=title,
        links=tuple(links),
        summary=summary,
        tags=tags,
        text=_trim("\n".join(texts), SAVED_TEXT_LIMIT) if texts else "",
    )


# The service ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Shared:
    resource: Resource
    created: bool
    added_tags: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Page:
    resources: tuple[Resource, ...]
    page: int
    more: bool


@dataclass(frozen=True, kw_only=True)
class Marked:
    resource: Resource
    new: bool


class LibraryService:
    """Shares, searches, marks and drafts resources; every query is scoped to a community."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def share(
        self,
        origin: Origin,
        community: Community,
        *,
        url: str,
        title: str,
        tags: Sequence[str] = (),
        note: str = "",
    ) -> Shared:
        """Add a link; the same link again is the same resource (new tags are added)."""
        if not valid_url(url):
            raise UserError("url_invalid", usage="share", field="url", url=url)
        title = " ".join(title.split())
        if not title:
            raise UserError("title_missing", usage="share", field="title")
        _check_length("title", title, TITLE_LIMIT)
        note = note.strip()
        _check_length("note", note, NOTE_LIMIT)
        tags = parse_tags(tags)
        key = normalise_url(url)
        _check_length("url", key, 2000)
        for attempt in range(3):
            try:
                async with self._database.session() as session:
                    found = (
                        await session.exec(
                            select(Resource).where(
                                Resource.community_id == community.id, Resource.url_key == key
                            )
                        )
                    ).first()
                    if found is not None:
                        added = tuple(t for t in tags if t not in found.tags)
                        if added:
                            await self._set_tags(session, found, [*found.tags, *added])
                        return Shared(resource=found, created=False, added_tags=added)
                    resource = await self._add(
                        session,
                        origin,
                        community,
                        url=url.strip(),
                        url_key=key,
                        title=title,
                        note=note,
                        tags=tags,
                        status="published",
                    )
                    return Shared(resource=resource, created=True)
            except IntegrityError:  # the same link or number taken meanwhile: look again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def save_draft(
        self, origin: Origin, community: Community, draft: Draft, *, source: MessageRef | None
    ) -> Resource:
        """Keep a drafted thread until the person who saved it confirms it."""
        async with self._database.session() as session:
            return await self._add(
                session,
                origin,
                community,
                url=draft.links[0] if draft.links else None,
                url_key=None,
                title=_trim(draft.title, TITLE_LIMIT) or "…",
                note="",
                summary=draft.summary,
                saved_text=draft.text,
                links=list(draft.links),
                tags=list(draft.tags),
                status="draft",
                source=_ref_json(source),
            )

    async def publish(
        self,
        origin: Origin,
        resource_id: int,
        *,
        title: str | None = None,
        summary: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Resource:
        """The person who saved a draft confirms it, with their edits."""
        async with self._database.session() as session:
            resource = await session.get(Resource, resource_id)
            if resource is None or resource.shared_by != origin.user:
                raise UserError("draft_not_found")
            community = await session.get(Community, resource.community_id)
            if resource.status != "draft":
                raise UserError("draft_published", number=resource.number)
            if title is not None:
                title = " ".join(title.split())
                if not title:
                    raise UserError("title_missing", field="title")
                _check_length("title", title, TITLE_LIMIT)
                resource.title = title
            if summary is not None:
                summary = summary.strip()
                _check_length("summary", summary, SUMMARY_LIMIT)
                resource.summary = summary
            resource.status = "published"
            resource.published_at = self._clock.now()
            await self._set_tags(
                session, resource, parse_tags(tags) if tags is not None else resource.tags
            )
            if community is not None:
                record(
                    session,
                    community,
                    origin.user,
                    "library.published",
                    self._clock.now(),
                    number=resource.number,
                )
            return resource

    async def id_of(self, community: Community, number: int) -> int | None:
        """The id of resource `#number` of `community`."""
        async with self._database.session() as session:
            query = select(Resource.id).where(
                Resource.community_id == community.id, Resource.number == number
            )
            return (await session.exec(query)).first()

    async def drafts_waiting(self, community: Community) -> list[Resource]:
        """Drafts nobody has confirmed yet, oldest first."""
        async with self._database.session() as session:
            query = (
                select(Resource)
                .where(Resource.community_id == community.id, Resource.status == "draft")
                .order_by(col(Resource.created_at), col(Resource.id))
            )
            return list((await session.exec(query)).all())

    async def mark_helpful(self, origin: Origin, community: Community, number: int) -> Marked:
        """One member's "helpful" mark on resource `#number` (once per person)."""
        async with self._database.session() as session:
            member = (
                await session.exec(
                    select(Member).where(
                        Member.community_id == community.id,
                        Member.user_id == origin.user,
                        col(Member.active),
                    )
                )
            ).first()
            if member is None:
                raise UserError("members_only", community=community.name)
            resource = (
                await session.exec(
                    select(Resource).where(
                        Resource.community_id == community.id,
                        Resource.number == number,
                        Resource.status == "published",
                    )
                )
            ).first()
            if resource is None or resource.id is None:
                raise UserError("resource_not_found", usage="helpful", number=number)
            mark = HelpfulMark(resource_id=resource.id, user_id=origin.user, at=self._clock.now())
            try:
                async with session.begin_nested():
                    session.add(mark)
            except IntegrityError:
                return Marked(resource=resource, new=False)
            resource.helpful += 1
            session.add(resource)
            return Marked(resource=resource, new=True)

    async def resource(self, community: Community, resource_id: int) -> Resource | None:
        async with self._database.read() as session:
            found = await session.get(Resource, resource_id)
        return found if found is not None and found.community_id == community.id else None

    async def search(
        self, community: Community, query: str = "", *, tags: Sequence[str] = (), page: int = 1
    ) -> Page:
        """Published resources matching every word of `query` and every tag, best first
        (relevance, then helpful marks, then newest); without words, the newest first."""
        page = max(page, 1)
        terms = list(dict.fromkeys(words(query)))
        tag_keys = [fold(t.lstrip("#")) for t in tags]
        async with self._database.read() as session:
            found = await self._matching(session, community, terms, tag_keys, page)
        return Page(resources=tuple(found[:PAGE_SIZE]), page=page, more=len(found) > PAGE_SIZE)

    async def _matching(
        self,
        session: AsyncSession,
        community: Community,
        terms: list[str],
        tags: list[str],
        page: int,
    ) -> list[Resource]:
        """One page of matches (and one more, to tell whether there is a next), whole rows
        read by the ranking query itself."""
        params: dict[str, Any] = {
            "community": community.id,
            "limit": PAGE_SIZE + 1,
            "offset": (page - 1) * PAGE_SIZE,
        }
        tag_filter = ""
        for i, tag in enumerate(tags):
            params[f"tag{i}"] = tag
            tag_filter += (
                " AND EXISTS (SELECT 1 FROM resource_tags t WHERE t.resource_id = r.id"
                f" AND t.tag = :tag{i})"
            )
        if not terms:
            statement = (
                f"SELECT {_columns('r')} FROM resources r WHERE r.community_id = :community"
                f" AND r.status = 'published'{tag_filter}"
                " ORDER BY r.created_at DESC, r.id DESC LIMIT :limit OFFSET :offset"
            )
        elif self._database.backend == "sqlite":
            # Every term quoted: FTS5 reads it as a plain string, never as syntax. The inner
            # query walks the matches newest first (the index's own order) and scores only
            # the window; the outer one ranks the window.
            params["match"] = " ".join(f'"{term}"' for term in terms)
            params["window"] = RANK_WINDOW
            statement = (
                f"SELECT {_columns('h')} FROM ("
                "SELECT s.rowid AS id, bm25(library_search) AS score"
                " FROM library_search s JOIN resources r ON r.id = s.rowid"
                " WHERE library_search MATCH :match AND r.community_id = :community"
                f" AND r.status = 'published'{tag_filter}"
                " ORDER BY s.rowid DESC LIMIT :window) w"
                " JOIN resources h ON h.id = w.id"
                " ORDER BY w.score, h.helpful DESC, h.id DESC LIMIT :limit OFFSET :offset"
            )
        else:
            # The stored `search_vector` (to_tsvector of search_text, GIN-indexed): nothing is
            # parsed again per row. The matches are found through the GIN index first (a
            # materialised CTE: otherwise the planner walks the primary key backwards for the
            # newest and tests every row, slow for a rare word); ts_rank runs on the window.
            params["terms"] = " ".join(terms)
            params["window"] = RANK_WINDOW
            statement = (
                "WITH m AS MATERIALIZED (SELECT r.id FROM resources r"
                " WHERE r.search_vector @@ plainto_tsquery('simple', :terms)"
                f" AND r.community_id = :community AND r.status = 'published'{tag_filter})"
                f" SELECT {_columns('h')} FROM"
                " (SELECT id FROM m ORDER BY id DESC LIMIT :window) w"
                " JOIN resources h ON h.id = w.id, plainto_tsquery('simple', :terms) q"
                " ORDER BY ts_rank(h.search_vector, q) DESC, h.helpful DESC, h.id DESC"
                " LIMIT :limit OFFSET :offset"
            )
        query = select(Resource).from_statement(text(statement).bindparams(**params))
        # sqlmodel's `exec` types only its own selects; it runs this one all the same.
        result = await session.exec(query)  # type: ignore[call-overload]
        return list(result.scalars().all())

    async def _add(
        self,
        session: AsyncSession,
        origin: Origin,
        community: Community,
        *,
        tags: list[str],
        **fields: Any,
    ) -> Resource:
        assert community.id is not None
        number = (
            await session.exec(
                select(func.coalesce(func.max(Resource.number), 0)).where(
                    Resource.community_id == community.id
                )
            )
        ).one() + 1
        now = self._clock.now()
        resource = Resource(
            community_id=community.id,
            number=number,
            shared_by=origin.user,
            created_at=now,
            published_at=now if fields.get("status") == "published" else None,
            tags=[],
            **fields,
        )
        session.add(resource)
        await session.flush()
        await self._set_tags(session, resource, tags)
        record(
            session,
            community,
            origin.user,
            "library.shared" if resource.status == "published" else "library.drafted",
            now,
            number=number,
        )
        return resource

    async def _set_tags(self, session: AsyncSession, resource: Resource, tags: list[str]) -> None:
        assert resource.id is not None
        current = set(resource.tags)
        for tag in tags:
            if tag not in current:
                session.add(ResourceTag(resource_id=resource.id, tag=tag))
        for row in (
            await session.exec(select(ResourceTag).where(ResourceTag.resource_id == resource.id))
        ).all():
            if row.tag not in tags:
                await session.delete(row)
        resource.tags = list(tags)
        resource.search_text = search_text(resource)
        session.add(resource)
        await session.flush()


def _columns(alias: str) -> str:
    """Every column of `resources` the model knows, under `alias`, for a ranking query that
    reads whole rows."""
    return ", ".join(f"{alias}.{column.name}" for column in Resource.__table__.columns)  # type: ignore[attr-defined]


def _check_length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise UserError("library_too_long", field=field, what=field, limit=limit)


def _ref_json(ref: MessageRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "platform": ref.platform,
        "workspace": ref.workspace,
        "channel": ref.channel,
        "message_id": ref.message_id,
        "thread": ref.thread,
    }
