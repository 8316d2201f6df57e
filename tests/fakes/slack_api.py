"""A local fake of the Slack Web API and Socket Mode on 127.0.0.1 that records calls."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from tests.fakes.loopback import start_on_loopback

TEAM_ID = "T0001"
TEAM_NAME = "CoP Test"
TEAM_URL = "https://cop-test.slack.com/"
BOT_USER_ID = "UBOT"
BOT_ID = "B0001"
APP_ID = "A0001"

# Arguments that slack_sdk sends as JSON strings when a call goes out form-encoded.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})

# Slack reports missing or invalid tokens as ok:false, except for calls that need no token.
_TOKENLESS_METHODS = frozenset({"api.test", "oauth.v2.access", "oauth.access"})

Body = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ApiCall:
    """One request the fake received: the Web API method, its merged arguments and headers."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    path: str = ""


@dataclass(frozen=True, kw_only=True)
class _Failure:
    status: int
    body: Body
    headers: dict[str, str]


@dataclass(kw_only=True)
class _RateLimit:
    """Accepted calls of one method per rolling window, per channel and per workspace."""

    per_channel: int | None
    per_workspace: int | None
    window: float
    channels: dict[str, deque[float]]
    workspace: deque[float]


@dataclass(kw_only=True)
class _Hold:
    """The next call to a method is handled, but its answer waits until `release` is set."""

    held: asyncio.Event
    release: asyncio.Event


@dataclass(kw_only=True)
class _User:
    id: str
    name: str
    real_name: str
    tz: str
    is_bot: bool = False


@dataclass(kw_only=True)
class Upload:
    """A file uploaded the files.uploadV2 way: announced, its bytes POSTed to the upload URL,
    then shared (`channel`, `initial_comment`) by files.completeUploadExternal."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str = ""
    channel: str | None = None
    initial_comment: str = ""


@dataclass(kw_only=True)
class _Channel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False


class FakeSlackApi:
    """Answers `/api/{method}` like Slack does, and `/response_url/{id}` like a response URL."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        """`clock` (seconds since the epoch, e.g. `time.time`) makes message timestamps real
        times, as `conversations.history`'s `oldest` needs; without it they count up from
        1700000000."""
        self.calls: list[ApiCall] = []
        self.rate_limited = 0  # calls answered 429 by `rate_limit`
        self._clock = clock
        self._last_ts = 0.0
        self._limits: dict[str, _RateLimit] = {}
        self._holds: dict[str, deque[_Hold]] = defaultdict(deque)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._messages: dict[str, list[Body]] = defaultdict(list)
        self._ts_counter = itertools.count(1)
        self._view_counter = itertools.count(1)
        self._file_counter = itertools.count(1)
        self.uploads: dict[str, Upload] = {}
        self._recorded = asyncio.Condition()
        self._envelope_counter = itertools.count(1)
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._handlers: dict[str, Callable[[dict[str, Any]], Body]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.publish": self._view,
            "views.open": self._view,
            "views.push": self._view,
            "views.update": self._view,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "users.info": self._users_info,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        self.add_user(BOT_USER_ID, "copbot", real_name="copbot", is_bot=True)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response_url/{suffix}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/link/", self._handle_socket)
        self._runner, self._port = await start_on_loopback(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The Web API base URL to hand to `AsyncWebClient(base_url=...)`."""
        return f"http://127.0.0.1:{self._port}/api/"

    def response_url(self, suffix: str = "1") -> str:
        """A slash-command `response_url` that posts back to this fake."""
        return f"http://127.0.0.1:{self._port}/response_url/{suffix}"

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        *,
        tz: str = "Europe/Amsterdam",
        is_bot: bool = False,
    ) -> None:
        """Register a user that `users.info` will describe."""
        self._users[user_id] = _User(
            id=user_id, name=name, real_name=real_name or name, tz=tz, is_bot=is_bot
        )

    def add_message(
        self, channel: str, text: str, *, ts: str, thread_ts: str | None = None, user: str = ""
    ) -> None:
        """A message people wrote (what `conversations.replies` reads back)."""
        message: Body = {"type": "message", "text": text, "ts": ts, "user": user}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self._messages[channel].append(message)

    def add_channel(
        self, channel_id: str, name: str, members: list[str], *, is_private: bool = False
    ) -> None:
        """Register a channel for `conversations.info` and `conversations.members`."""
        self._channels[channel_id] = _Channel(
            id=channel_id, name=name, members=list(members), is_private=is_private
        )

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1
    ) -> None:
        """Answer the next `times` calls to `method` with HTTP `status` (429 sets Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        error = "ratelimited" if status == 429 else "service_unavailable"
        failure = _Failure(status=status, body={"ok": False, "error": error}, headers=headers)
        self._failures[method].extend([failure] * times)

    def error_next(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with HTTP 200 `{"ok": false, "error": ...}`."""
        failure = _Failure(status=200, body={"ok": False, "error": error}, headers={})
        self._failures[method].extend([failure] * times)

    def rate_limit(
        self,
        method: str,
        *,
        per_channel: int | None = None,
        per_workspace: int | None = None,
        window: float = 1.0,
    ) -> None:
        """From now on accept at most `per_channel` calls of `method` per channel and
        `per_workspace` in all per rolling `window` seconds; beyond that answer 429 with a
        Retry-After of the whole seconds until a slot frees (at least 1), as Slack does."""
        self._limits[method] = _RateLimit(
            per_channel=per_channel,
            per_workspace=per_workspace,
            window=window,
            channels=defaultdict(deque),
            workspace=deque(),
        )

    def hold(self, method: str) -> _Hold:
        """Handle the next call to `method` (a post is stored) but keep its answer until
        `release` is set; `held` is set once the call is waiting. For killing a process
        between a post and its record."""
        hold = _Hold(held=asyncio.Event(), release=asyncio.Event())
        self._holds[method].append(hold)
        return hold

    def messages_in(self, channel: str) -> list[Body]:
        """Messages stored in `channel`, oldest first (metadata included)."""
        return list(self._messages[channel])

    def calls_to(self, method: str) -> list[ApiCall]:
        """Every recorded call to `method`, oldest first."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        """Wait until `method` has been called `count` times (lazy listeners) and return them."""

        def enough() -> bool:
            return len(self.calls_to(method)) >= count

        try:
            async with asyncio.timeout(timeout):
                async with self._recorded:
                    await self._recorded.wait_for(enough)
        except TimeoutError:
            seen = [call.method for call in self.calls]
            raise TimeoutError(
                f"{method} called {len(self.calls_to(method))} times, wanted {count}; seen: {seen}"
            ) from None
        return self.calls_to(method)

    async def socket_send(
        self, kind: str, payload: dict[str, Any], *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Push a Socket Mode envelope (`events_api`, `slash_commands`, `interactive`) to the
        connected app and return its acknowledgement (`{"envelope_id": ..., "payload": ...}`)."""
        envelope_id = f"00000000-0000-4000-8000-{next(self._envelope_counter):012d}"
        acked: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = acked
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        try:
            async with asyncio.timeout(timeout):
                await self._socket_ready.wait()
                assert self._socket is not None
                await self._socket.send_json(envelope)
                return await acked
        finally:
            self._acks.pop(envelope_id, None)

    async def _record(self, call: ApiCall) -> None:
        async with self._recorded:
            self.calls.append(call)
            self._recorded.notify_all()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        await self._record(
            ApiCall(method=method, args=args, headers=dict(request.headers), path=request.path)
        )
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        if not _has_token(request, args) and method not in _TOKENLESS_METHODS:
            return web.json_response({"ok": False, "error": "not_authed"})
        limit = self._limits.get(method)
        if limit is not None:
            retry_after = self._over_limit(limit, str(args.get("channel", "")))
            if retry_after is not None:
                self.rate_limited += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
        handler = self._handlers.get(method)
        body = handler(args) if handler is not None else {"ok": True}
        holds = self._holds.get(method)
        if holds:
            hold = holds.popleft()
            hold.held.set()
            await hold.release.wait()
        return web.json_response(body)

    def _over_limit(self, limit: _RateLimit, channel: str) -> int | None:
        """None when the call fits (it is counted), else the Retry-After to answer."""
        now = asyncio.get_running_loop().time()
        queues = [(limit.per_workspace, limit.workspace)]
        if channel:
            queues.append((limit.per_channel, limit.channels[channel]))
        waits = []
        for allowed, accepted in queues:
            while accepted and accepted[0] <= now - limit.window:
                accepted.popleft()
            if allowed is not None and len(accepted) >= allowed:
                waits.append(accepted[0] + limit.window - now)
        if waits:
            return max(1, math.ceil(max(waits)))
        for _, accepted in queues:
            accepted.append(now)
        return None

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        await self._record(
            ApiCall(
                method="response_url", args=body, headers=dict(request.headers), path=request.path
            )
        )
        return web.Response(text="ok")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out: the file's bytes, as a body."""
        upload = self.uploads.get(request.match_info["file_id"])
        content = await request.read()
        await self._record(
            ApiCall(
                method="upload",
                args={"file_id": request.match_info["file_id"], "bytes": len(content)},
                headers=dict(request.headers),
                path=request.path,
            )
        )
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        upload.content = content
        return web.Response(text=f"OK - {len(content)}")

    def shared_files(self) -> list[Upload]:
        """Uploads completed and shared in a channel, oldest first."""
        return [u for u in self.uploads.values() if u.channel is not None]

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._socket_ready.set()
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            ack = json.loads(message.data)
            await self._record(
                ApiCall(method="socket_mode_ack", args=ack, headers={}, path=request.path)
            )
            acked = self._acks.get(str(ack.get("envelope_id", "")))
            if acked is not None and not acked.done():
                acked.set_result(ack)
        if self._socket is socket:
            self._socket = None
            self._socket_ready.clear()
        return socket

    def _next_ts(self) -> str:
        if self._clock is not None:
            self._last_ts = max(self._clock(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"
        micros = 1_700_000_000_000_000 + 100 * next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _auth_test(self, args: dict[str, Any]) -> Body:
        return {
            "ok": True,
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": "copbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, args: Mapping[str, Any], ts: str) -> Body:
        message: Body = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                message[key] = args[key]
        return message

    def _chat_post_message(self, args: dict[str, Any]) -> Body:
        channel = str(args.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = self._message(args, ts)
        self._messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> Body:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> Body:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        stored = self._messages[channel]
        if not any(m["ts"] == ts for m in stored):
            return {"ok": False, "error": "message_not_found"}
        message = self._message(args, ts)
        stored[:] = [message if m["ts"] == ts else m for m in stored]
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _chat_delete(self, args: dict[str, Any]) -> Body:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        if not any(m["ts"] == ts for m in self._messages[channel]):
            return {"ok": False, "error": "message_not_found"}
        self._messages[channel] = [m for m in self._messages[channel] if m["ts"] != ts]
        return {"ok": True, "channel": channel, "ts": ts}

    def _view(self, args: dict[str, Any]) -> Body:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = str(args.get("view_id") or f"V{next(self._view_counter):08d}")
        return {
            "ok": True,
            "view": {
                "id": view_id,
                "team_id": TEAM_ID,
                "type": view.get("type", "modal"),
                "title": view.get("title"),
                "submit": view.get("submit"),
                "close": view.get("close"),
                "blocks": view.get("blocks", []),
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
                "state": {"values": {}},
                "hash": f"1700000000.{view_id}",
                "clear_on_close": view.get("clear_on_close", False),
                "notify_on_close": view.get("notify_on_close", False),
                "root_view_id": view_id,
                "previous_view_id": None,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
            },
        }

    def _conversations_open(self, args: dict[str, Any]) -> Body:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + users[0]}}

    def _conversations_info(self, args: dict[str, Any]) -> Body:
        channel_id = str(args.get("channel", ""))
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        known = self._channels.get(channel_id)
        is_im = channel_id.startswith("D")
        return {
            "ok": True,
            "channel": {
                "id": channel_id,
                "name": known.name if known else channel_id.lower(),
                "is_channel": not is_im,
                "is_group": False,
                "is_im": is_im,
                "is_private": known.is_private if known else False,
                "is_archived": False,
                "is_member": True,
                "created": 1_700_000_000,
                "creator": "U0ALICE",
                "num_members": len(known.members) if known else 0,
            },
        }

    def _conversations_members(self, args: dict[str, Any]) -> Body:
        known = self._channels.get(str(args.get("channel", "")))
        if known is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "members": list(known.members),
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, args: dict[str, Any]) -> Body:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "thread_not_found"}
        thread = [m for m in self._messages[channel] if m["ts"] == ts or m.get("thread_ts") == ts]
        return {
            "ok": True,
            "messages": thread,
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_history(self, args: dict[str, Any]) -> Body:
        """Newest first, after `oldest` (inclusive with `inclusive`); message metadata only
        with `include_all_metadata`; `limit` per page, `cursor` for the next."""
        channel = str(args.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        inclusive = _truthy(args.get("inclusive"))
        with_metadata = _truthy(args.get("include_all_metadata"))
        found = [
            m
            for m in reversed(self._messages[channel])
            if "thread_ts" not in m
            and (float(m["ts"]) > oldest or (inclusive and float(m["ts"]) == oldest))
        ]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = found[start : start + limit]
        if not with_metadata:
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _oauth_v2_access(self, args: dict[str, Any]) -> Body:
        if not args.get("code"):
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": "U0ALICE"},
            "scope": "commands,chat:write,users:read",
            "token_type": "bot",
            "access_token": "xoxb-installed",
            "bot_user_id": BOT_USER_ID,
            "team": {"id": TEAM_ID, "name": TEAM_NAME},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> Body:
        return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/link/?ticket=fake-ticket"}

    def _files_get_upload_url_external(self, args: dict[str, Any]) -> Body:
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_counter):08d}"
        self.uploads[file_id] = Upload(id=file_id, filename=filename, length=int(length))
        return {
            "ok": True,
            "upload_url": f"http://127.0.0.1:{self._port}/upload/{file_id}",
            "file_id": file_id,
        }

    def _files_complete_upload_external(self, args: dict[str, Any]) -> Body:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        shared = []
        for item in files:
            upload = self.uploads.get(str(item.get("id")))
            if upload is None or upload.content is None:
                return {"ok": False, "error": "file_not_found"}
            if len(upload.content) != upload.length:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            upload.title = str(item.get("title") or upload.filename)
            upload.channel = str(args.get("channel_id") or "") or None
            upload.initial_comment = str(args.get("initial_comment") or "")
            shared.append({"id": upload.id, "name": upload.filename, "title": upload.title})
        return {"ok": True, "files": shared}

    def _users_info(self, args: dict[str, Any]) -> Body:
        user = self._users.get(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": TEAM_ID,
                "name": user.name,
                "real_name": user.real_name,
                "deleted": False,
                "is_bot": user.is_bot,
                "tz": user.tz,
                "profile": {
                    "display_name": user.name,
                    "real_name": user.real_name,
                    "team": TEAM_ID,
                },
            },
        }


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Merge query-string, form and JSON arguments the way Slack accepts them."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_ARGS & args.keys():
        if isinstance(args[key], str):
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(args[key])
    return args


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _has_token(request: web.Request, args: Mapping[str, Any]) -> bool:
    return request.headers.get("Authorization", "").startswith("Bearer ") or bool(args.get("token"))
