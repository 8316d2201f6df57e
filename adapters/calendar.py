"""The calendar over HTTP: a community's feed (`/calendar/<secret>.ics`) for calendar apps
to subscribe to, and one meeting's file (`/calendar/<secret>/<occurrence>.ics`)."""

from __future__ import annotations

from aiohttp import web

from bot.app import Core

CONTENT_TYPE = "text/calendar"
# Calendar apps poll a subscription; let them keep a copy for a few minutes.
CACHE_CONTROL = "private, max-age=300"
_SECRET = r"[A-Za-z0-9_-]{8,64}"


def _calendar(body: bytes | None, filename: str) -> web.Response:
    if body is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=body,
        content_type=CONTENT_TYPE,
        charset="utf-8",
        headers={
            "Cache-Control": CACHE_CONTROL,
            "Content-Disposition": f'inline; filename="{filename}"',
        },
    )


def mount_calendar(app: web.Application, core: Core) -> None:
    """Add the calendar routes to `app`; an unknown secret or meeting is a 404."""

    async def feed(request: web.Request) -> web.Response:
        return _calendar(await core.rituals.calendar(request.match_info["secret"]), "rituals.ics")

    async def meeting(request: web.Request) -> web.Response:
        secret, occurrence = request.match_info["secret"], int(request.match_info["occurrence"])
        body = await core.rituals.meeting_file(secret, occurrence)
        return _calendar(body, f"meeting-{occurrence}.ics")

    app.router.add_get(f"/calendar/{{secret:{_SECRET}}}.ics", feed)
    app.router.add_get(f"/calendar/{{secret:{_SECRET}}}/{{occurrence:[0-9]{{1,9}}}}.ics", meeting)
