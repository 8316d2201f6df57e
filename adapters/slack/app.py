"""The Slack adapter assembled from settings and the core: Bolt app, routes, Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body

from adapters.inbound_text import text_problem
from adapters.slack import shapes
from adapters.slack.delivery import Delivery
from adapters.slack.installations import Installations, SingleWorkspace
from adapters.slack.listeners import ACK_DEADLINE_SECONDS, SlackListeners
from adapters.slack.manifest import EVENTS_PATH
from adapters.slack.platform import SlackPlatform, make_client
from adapters.slack.render import SlackRenderer
from adapters.slack.verification import RawBodyVerifier
from bot.app import Core
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def check_settings(settings: Settings) -> None:
    """Refuse, in one line, settings with which Slack cannot work."""
    oauth = settings.slack_client_id is not None or settings.slack_client_secret is not None
    if oauth and not (settings.slack_client_id and settings.slack_client_secret):
        raise SettingsError("Slack OAuth needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    if not oauth and settings.slack_bot_token is None:
        raise SettingsError("Slack needs SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SECRET)")
    if settings.slack_app_token is None and not _secret(settings.slack_signing_secret):
        raise SettingsError(
            "SLACK_SIGNING_SECRET is required to serve Slack over HTTP "
            "(or set SLACK_APP_TOKEN to use Socket Mode)"
        )


def _parse(body: bytes, request: web.Request) -> tuple[AsyncBoltRequest | None, str]:
    """The Bolt request for a signed body, or None and why when the body is not one Slack would
    send: not UTF-8, not JSON or form data, or fields Bolt and copbot read of the wrong type."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        # Bolt parses the body once, here; what it made of it is checked before any listener.
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # a mapping is all Bolt reads
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        # Bolt tripped over the body's shape while reading its ids: say what is wrong with it.
        return None, _problem(text, request) or "not a request Slack sends"
    found = _shape_problem(bolt_request.body)
    return (None, found) if found is not None else (bolt_request, "")


def _problem(text: str, request: web.Request) -> str | None:
    """Why `text` is not a body Slack sends, if it is not."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip() or None
    try:
        parsed = parse_body(text, content_type)
    except ValueError:
        return "not JSON or form data"
    return _shape_problem(parsed)


def _shape_problem(parsed: object) -> str | None:
    if not isinstance(parsed, dict):
        return "not an object"
    return shapes.problem(parsed) or text_problem(parsed)


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


class SlackAdapter:
    """copbot in Slack. HTTP mode: `mount()` on the server. Socket Mode: `connect()`."""

    def __init__(self, core: Core, *, ack_deadline: float = ACK_DEADLINE_SECONDS) -> None:
        settings = core.settings
        check_settings(settings)
        self.settings = settings
        secret = _secret(settings.slack_signing_secret)
        # Socket Mode needs no signing secret; HTTP mode refuses to start without one.
        self.verifier = RawBodyVerifier(secret) if secret else None
        renderer = SlackRenderer()
        self.installations: Installations | None = None
        if settings.slack_client_id and settings.slack_client_secret:
            client = make_client(settings.slack_api_url)
            self.installations = Installations(
                client_id=settings.slack_client_id,
                client_secret=_secret(settings.slack_client_secret),
                engine=core.database.engine,
                client=client,
            )
            self.bolt = AsyncApp(
                signing_secret=secret,
                client=client,
                process_before_response=True,
                oauth_settings=self.installations.oauth_settings,
                # Bolt takes an AsyncAuthorize instance here, though its hint names a function.
                authorize=self.installations.authorize,  # type: ignore[arg-type]
            )
            token_for = self.installations.token_for
        else:
            token = _secret(settings.slack_bot_token)
            # Bolt also reads SLACK_BOT_TOKEN from the environment and warns that the token
            # goes unused when a client comes with it; so it gets the token, and its client
            # then takes our client's base URL and retry handlers.
            self.bolt = AsyncApp(
                signing_secret=secret,
                token=token,
                process_before_response=True,
            )
            configured = make_client(settings.slack_api_url, token)
            self.bolt.client.base_url = configured.base_url
            self.bolt.client.retry_handlers = configured.retry_handlers
            token_for = SingleWorkspace(token).token_for
        self.platform = SlackPlatform(
            base_url=settings.slack_api_url, token_for=token_for, renderer=renderer
        )
        self.listeners = SlackListeners(
            router=core.router,
            renderer=renderer,
            delivery=Delivery(renderer, core.outbox),
            ack_deadline=ack_deadline,
        )
        self.listeners.register(self.bolt)
        self._socket_mode: AsyncSocketModeHandler | None = None

    @property
    def socket_mode(self) -> bool:
        return self.settings.slack_app_token is not None

    async def start(self) -> None:
        """Prepare storage (OAuth installs) and, in Socket Mode, connect to Slack."""
        if self.installations is not None:
            await self.installations.create_tables()
        if self.socket_mode:
            self._socket_mode = AsyncSocketModeHandler(
                self.bolt, _secret(self.settings.slack_app_token)
            )
            await self._socket_mode.connect_async()
            log.info("Slack connected in Socket Mode")

    async def close(self) -> None:
        await self.listeners.drain()
        await self.platform.close()
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
            self._socket_mode = None

    async def handle(self, request: web.Request) -> web.Response:
        """POST /slack/events: commands, events and interactivity. The signature is checked on
        the raw bytes before anything parses them: 401 when it fails, 400 when a signed body
        cannot be read, and one short log line either way."""
        body = await request.read()
        problem = (
            self.verifier.problem(body, request.headers)
            if self.verifier is not None
            else "no signing secret configured"
        )
        if problem is not None:
            log.info("refused a Slack request from %s: %s", request.remote, problem)
            return web.json_response({"error": "invalid request"}, status=401)
        bolt_request, unreadable = _parse(body, request)
        if bolt_request is None:
            log.info("refused a signed Slack request from %s: %s", request.remote, unreadable)
            return web.json_response({"error": "unreadable body"}, status=400)
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def mount(self, web_app: web.Application) -> None:
        """Add the Slack routes to the server and tie the adapter to its start and stop."""
        if not self.socket_mode:
            web_app.router.add_post(EVENTS_PATH, self.handle)
        flow = self.bolt.oauth_flow
        if flow is not None:
            web_app.router.add_get(flow.install_path, self._install(flow))
            web_app.router.add_get(flow.redirect_uri_path, self._callback(flow))
        web_app.cleanup_ctx.append(self._lifetime)

    async def _lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        await self.start()
        yield
        await self.close()

    @staticmethod
    def _install(flow: AsyncOAuthFlow) -> Handler:
        async def install(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request))
            )

        return install

    @staticmethod
    def _callback(flow: AsyncOAuthFlow) -> Handler:
        async def callback(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request))
            )

        return callback
