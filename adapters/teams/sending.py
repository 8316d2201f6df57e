"""Connector calls on the event loop: msrest's pipeline, as botframework's clients build it,
sent through an aiohttp session instead of `requests` in a worker thread per call."""

from __future__ import annotations

import urllib.request
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials
from msrest.pipeline import AsyncPipeline, SansIOHTTPPolicy
from msrest.pipeline.aiohttp import AioHTTPSender
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import Model, Serializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.aiohttp import AioHttpClientResponse
from msrest.universal_http.aiohttp import AioHTTPSender as AioHTTPDriver

# msrest's `requests` sender gave up on a call after 100 seconds; Teams retries an activity the
# bot has not answered in 15, so a send that takes half a minute has failed.
SEND_TIMEOUT_SECONDS = 30.0


def http_status(error: BaseException) -> int | None:
    """The HTTP status a connector call failed with, if it got an answer: msrest keeps the
    driver's own response on the error (aiohttp's has `status`, requests' `status_code`)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status", getattr(response, "status_code", None))
    return status if isinstance(status, int) else None


class _Unplain(Exception):
    """A value `_plain` leaves to msrest: a type it does not write exactly as msrest would."""


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_value(value: Any) -> Any:
    """`value` when it is plain JSON (as a card is), which msrest would copy as it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise _Unplain
            _json_value(item)
    elif isinstance(value, list):
        for item in value:
            _json_value(item)
    elif type(value) not in _JSON_SCALARS:
        raise _Unplain
    return value


def _plain(value: Any, kind: str) -> Any:
    """`value`, declared as msrest type `kind`, as msrest would serialise it."""
    if kind.startswith("[") and kind.endswith("]") and type(value) is list:
        if any(item is None for item in value):
            raise _Unplain  # msrest writes it as null; left to it
        return [_plain(item, kind[1:-1]) for item in value]
    if isinstance(value, Model):  # declared as itself, or as an object (a card's content)
        return _model(value)
    if kind in ("object", "{object}"):
        return _json_value(value)
    if kind == "str":
        if isinstance(value, Enum) and type(value.value) is str:
            return value.value
        if type(value) is str:
            return value
    elif (kind, type(value)) in (("bool", bool), ("int", int)):
        return value
    raise _Unplain


def _model(model: Model) -> dict[str, Any]:
    """The JSON of `model` from the attributes it holds, as msrest's serializer writes it."""
    out: dict[str, Any] = {}
    values, readonly = vars(model), model._validation
    for name, spec in type(model)._attribute_map.items():
        value = values.get(name)
        if value is None or readonly.get(name, {}).get("readonly", False):
            continue
        key = spec["key"]
        if name == "additional_properties" and key == "":
            out.update(value)
        elif "." in key:
            raise _Unplain  # a flattened key: msrest nests it
        else:
            out[key] = _plain(value, spec["type"])
    return out


class SendSerializer(Serializer):  # type: ignore[misc]
    """msrest's serializer, writing the body of a call from the attributes each model holds.

    msrest tries every attribute a model declares (an Activity declares about fifty, each of
    its accounts ten), raising and catching an error for each unset one, and first rebuilds
    the model by deserialising it. For the types botbuilder's bodies hold (text, flags,
    nested models, lists, JSON objects such as a card) the JSON is written here, the same;
    anything else (a date, a flattened key) goes through msrest as before."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if isinstance(data, Model) and not kwargs and not data.is_xml_model():
            try:
                return _model(data)
            except _Unplain:
                pass
        return super().body(data, data_type, **kwargs)


class _Headers:
    """All of a `requests.Session` that botframework's `signed_session` touches."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class BotToken(SansIOHTTPPolicy):  # type: ignore[misc]
    """Puts the bot's token on each request, as `credentials.signed_session` would put it on
    a `requests` session (none without an app id); the token is the one
    `adapters.teams.tokens` keeps, so nothing here waits for Entra ID."""

    def __init__(self, credentials: AppCredentials | None) -> None:
        self._credentials = credentials

    def on_request(self, request: Any, **kwargs: Any) -> None:
        if self._credentials is None:
            return
        signed = self._credentials.signed_session(_Headers())  # type: ignore[arg-type]
        token = signed.headers.get("Authorization")
        if token:
            request.http_request.headers["Authorization"] = token


class _LoadedResponse(AioHttpClientResponse):  # type: ignore[misc]
    """msrest's aiohttp response, whose body may be empty (a 200 to a DELETE)."""

    def body(self) -> bytes:
        return bytes(self._body or b"")


class SessionDriver(AioHTTPDriver):  # type: ignore[misc]
    """msrest's aiohttp driver, sending what its `requests` driver sends (method, URL,
    headers and JSON body) through an aiohttp session that `SharedClients` owns."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS)

    async def __aexit__(self, *exc_details: object) -> None:
        """The session outlives any one client: `SharedClients.close` closes it."""

    async def send(self, request: ClientRequest, **config: Any) -> _LoadedResponse:
        if request.files:
            raise ValueError("copbot's Teams sender takes JSON bodies, not files")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        body = request.data.encode() if isinstance(request.data, str) else request.data
        answer = await self._session.request(
            request.method,
            request.url,
            headers=headers,
            data=body,
            timeout=self._timeout,
            proxy=proxy_for(request.url),
        )
        response = _LoadedResponse(request, answer)
        await response.load_body()
        return response


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as
    `requests` reads them), looked up once per scheme and host: aiohttp's own `trust_env`
    reads the environment and ~/.netrc again in a worker thread for every request."""
    parts = urlsplit(url)
    return _proxy_for_host(parts.scheme, parts.hostname or "")


@lru_cache(maxsize=256)
def _proxy_for_host(scheme: str, host: str) -> str | None:
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def send_through(client: ConnectorClient, session: aiohttp.ClientSession) -> ConnectorClient:
    """`client` with its calls sent through `session`, on the event loop, instead of msrest's
    default (`requests`, one worker thread per call: under load those threads took as much
    CPU as the event loop), and without msrest's client-side validation. Only for
    botframework's app credentials, whose header `BotToken` knows how to set; other
    credentials keep msrest's sender."""
    config = client.config
    credentials = config.credentials
    if credentials is not None and not isinstance(credentials, AppCredentials):
        return client
    config.pipeline = AsyncPipeline(
        [
            config.user_agent_policy,
            BotToken(credentials),
            RawDeserializer(),
            config.http_logger_policy,
        ],
        AioHTTPSender(SessionDriver(session)),
    )
    # msrest checks each outgoing model against its declared constraints before serialising
    # it, walking every attribute once more: half the cost of sending a card. copbot builds
    # its activities, and the Connector checks what it receives; the generated clients of
    # newer Azure SDKs turn the check off the same way.
    client._serialize.client_side_validation = False
    # One serializer serves all of the client's operation groups; it writes bodies faster.
    client._serialize.__class__ = SendSerializer
    return client
