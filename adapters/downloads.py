"""Files over HTTP: `/downloads/<token>` serves a stored file (a Teams export) until its link
expires; an unknown or expired token is a 404."""

from __future__ import annotations

from aiohttp import web

from bot.app import Core

ROUTE = "/downloads/"
_TOKEN = r"[A-Za-z0-9_-]{20,64}"


def download_url(base_url: str, token: str) -> str:
    """The link a person is sent for the file stored under `token`."""
    return f"{base_url.rstrip('/')}{ROUTE}{token}"


def mount_downloads(app: web.Application, core: Core) -> None:
    """Add the download route to `app`."""

    async def download(request: web.Request) -> web.Response:
        found = await core.downloads.fetch(request.match_info["token"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=found.content,
            content_type=found.media_type,
            headers={
                # A personal file: no cache keeps a copy, no page embeds it.
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{found.filename}"',
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    app.router.add_get(f"{ROUTE}{{token:{_TOKEN}}}", download)
