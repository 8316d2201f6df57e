"""A local fake of the Bot Framework Connector REST API that records every call it answers."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from tests.fakes.loopback import start_on_loopback

DEFAULT_TENANT_ID = "tenant-0001"


@dataclass(frozen=True, kw_only=True)
class ConnectorCall:
    """One request the fake answered, with ids already percent-decoded."""

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any] | None
    headers: CIMultiDictProxy[str]
    operation: str = "unknown"
    member_id: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    status: int = 200
    response: dict[str, Any] | None = None

    @property
    def authorization(self) -> str | None:
        """The Authorization header as sent, or None when the bot sent none."""
        return self.headers.get("Authorization")

    @property
    def succeeded(self) -> bool:
        """Whether the fake answered with a 2xx status."""
        return 200 <= self.status < 300


@dataclass(frozen=True, kw_only=True)
class _Failure:
    status: int
    code: str
    message: str


class FakeBotConnector:
    """Answers the Connector endpoints a Teams bot calls, on 127.0.0.1 and a free port.

    Use it as ``async with FakeBotConnector() as connector:`` and point the activity's
    ``serviceUrl`` at ``connector.service_url``.
    """

    def __init__(self, *, tenant_id: str = DEFAULT_TENANT_ID) -> None:
        self.tenant_id = tenant_id
        self.calls: list[ConnectorCall] = []
        self._members: dict[str, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def __aenter__(self) -> FakeBotConnector:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self._port = await start_on_loopback(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def service_url(self) -> str:
        """The base URL to use as an activity's serviceUrl, with a trailing slash."""
        if self._port is None:
            raise RuntimeError("FakeBotConnector is not running; use it with 'async with'")
        return f"http://127.0.0.1:{self._port}/"

    def add_member(
        self,
        member_id: str,
        name: str,
        *,
        aad_object_id: str | None = None,
        email: str | None = None,
        user_principal_name: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        tenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a user that every conversation's member endpoints will report."""
        given, _, family = name.partition(" ")
        address = email or f"{name.lower().replace(' ', '.')}@example.com"
        member = {
            "id": member_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "email": address,
            "userPrincipalName": user_principal_name or address,
            "tenantId": tenant_id or self.tenant_id,
            "givenName": given_name if given_name is not None else given,
            "surname": surname if surname is not None else family or None,
            "userRole": "user",
        }
        self._members[member_id] = member
        return member

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        code: str = "ServiceError",
        message: str = "Injected failure",
    ) -> None:
        """Answer the next ``times`` requests, whatever they are, with an error status."""
        failure = _Failure(status=status, code=code, message=message)
        self._failures.extend([failure] * times)

    def sent_activities(self) -> list[dict[str, Any]]:
        """Activities the bot posted (new messages and replies) that the fake accepted."""
        return [
            call.body
            for call in self._accepted("send_to_conversation", "reply_to_activity")
            if call.body is not None
        ]

    def updates(self) -> list[ConnectorCall]:
        """Accepted PUTs of an activity (message edits)."""
        return self._accepted("update_activity")

    def deletes(self) -> list[ConnectorCall]:
        """Accepted DELETEs of an activity."""
        return self._accepted("delete_activity")

    def created_conversations(self) -> list[ConnectorCall]:
        """Accepted POSTs to /v3/conversations."""
        return self._accepted("create_conversation")

    def _accepted(self, *operations: str) -> list[ConnectorCall]:
        return [call for call in self.calls if call.operation in operations and call.succeeded]

    async def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` activities were sent and return them all."""

        def enough() -> bool:
            return len(self.sent_activities()) >= count

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(enough), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"expected {count} sent activities within {timeout}s, "
                    f"got {len(self.sent_activities())}"
                ) from None
        return self.sent_activities()

    async def _handle(self, request: web.Request) -> web.Response:
        raw_path = request.raw_path.split("?", 1)[0]
        segments = [unquote(part) for part in raw_path.strip("/").split("/")]
        body = await _json_body(request)
        operation = _operation(request.method, segments)
        if self._failures:
            failure = self._failures.pop(0)
            response = _error(failure.status, failure.code, failure.message)
        else:
            response = self._answer(operation, segments, body, request.query)
        conversation_id, activity_id, member_id = _ids_in(segments)
        call = ConnectorCall(
            method=request.method,
            path="/" + "/".join(segments),
            conversation_id=conversation_id,
            activity_id=activity_id,
            body=body,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            operation=operation,
            member_id=member_id,
            query=dict(request.query),
            status=response.status,
            response=json.loads(response.text) if response.text else None,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return response

    def _answer(
        self,
        operation: str,
        segments: list[str],
        body: dict[str, Any] | None,
        query: Mapping[str, str],
    ) -> web.Response:
        match operation:
            case "create_conversation":
                return self._create_conversation(body)
            case "send_to_conversation" | "reply_to_activity":
                return web.json_response({"id": self._new_activity_id()}, status=201)
            case "send_conversation_history":
                return web.json_response({"id": self._new_activity_id()})
            case "update_activity":
                return web.json_response({"id": segments[4]})
            case "delete_activity":
                return web.Response(status=200)
            case "get_conversation_members":
                return web.json_response(list(self._members.values()))
            case "get_conversation_member":
                return self._member(segments[4])
            case "get_conversation_paged_members":
                return self._paged_members(query)
        return _error(404, "BadArgument", f"No route for /{'/'.join(segments)}")

    def _create_conversation(self, body: dict[str, Any] | None) -> web.Response:
        if not body or (not body.get("members") and not body.get("channelData")):
            return _error(400, "BadArgument", "Conversation parameters need members")
        answer: dict[str, Any] = {"id": f"a:new-conv-{next(self._ids)}"}
        if body.get("activity"):
            answer["activityId"] = self._new_activity_id()
        answer["serviceUrl"] = self.service_url
        return web.json_response(answer)

    def _member(self, member_id: str) -> web.Response:
        member = self._members.get(member_id)
        if member is None:
            return _error(404, "MemberNotFoundInConversation", "The member was not found")
        return web.json_response(member)

    def _paged_members(self, query: Mapping[str, str]) -> web.Response:
        members = list(self._members.values())
        start = int(query.get("continuationToken") or 0)
        size = int(query.get("pageSize") or 200)
        page = members[start : start + size]
        more = start + size < len(members)
        return web.json_response(
            {"members": page, "continuationToken": str(start + size) if more else None}
        )

    def _new_activity_id(self) -> str:
        # Teams uses epoch-millisecond message ids; keep that shape so parsers are exercised.
        return str(1_700_000_000_000 + next(self._ids))


def _operation(method: str, segments: list[str]) -> str:
    """Name the Connector operation a request is, as botframework-connector names it."""
    match method, segments:
        case "POST", ["v3", "conversations"]:
            return "create_conversation"
        case "POST", ["v3", "conversations", _, "activities"]:
            return "send_to_conversation"
        case "POST", ["v3", "conversations", _, "activities", "history"]:
            return "send_conversation_history"
        case "POST", ["v3", "conversations", _, "activities", _]:
            return "reply_to_activity"
        case "PUT", ["v3", "conversations", _, "activities", _]:
            return "update_activity"
        case "DELETE", ["v3", "conversations", _, "activities", _]:
            return "delete_activity"
        case "GET", ["v3", "conversations", _, "members"]:
            return "get_conversation_members"
        case "GET", ["v3", "conversations", _, "members", _]:
            return "get_conversation_member"
        case "GET", ["v3", "conversations", _, "pagedmembers"]:
            return "get_conversation_paged_members"
    return "unknown"


def _ids_in(segments: list[str]) -> tuple[str | None, str | None, str | None]:
    """Pick the conversation, activity and member ids out of a /v3/conversations path."""
    if segments[:2] != ["v3", "conversations"] or len(segments) < 3:
        return None, None, None
    conversation_id = segments[2]
    rest = segments[3:]
    activity_id = rest[1] if len(rest) >= 2 and rest[0] == "activities" else None
    member_id = rest[1] if len(rest) >= 2 and rest[0] == "members" else None
    return conversation_id, activity_id, member_id


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return None
    text = await request.text()
    if not text:
        return None
    data = json.loads(text)
    return data if isinstance(data, dict) else {"_": data}


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
