"""The health chart over HTTP: `/charts/<token>.png`, attendance per meeting and the pulse
over time, drawn with matplotlib (Agg, no display) in a worker thread, off the event loop.
An unknown or expired token is a 404."""

from __future__ import annotations

import asyncio
import io
import time
from collections import OrderedDict
from collections.abc import Sequence

from aiohttp import web
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.app import Core
from bot.services.health_signs import Session
from messages.rendering import chart_words

_TOKEN = r"[A-Za-z0-9_-]{16,64}"
# Chat clients fetch an image once and keep it; the link is the secret, so no shared caches.
CACHE_CONTROL = "private, max-age=3600"
KEEP_CHARTS = 32  # charts kept drawn, the most recently drawn first to go last
KEEP_SECONDS = 600.0
ATTENDANCE_COLOUR = "#4a7dbf"
PULSE_COLOUR = "#d9822b"
NARROWEST_DAYS = 14.0  # the x axis spans at least this: one meeting is not drawn hour by hour


def draw(title: str, sessions: Sequence[Session]) -> bytes:
    """A PNG: a bar per meeting (people who came) and the pulse (1 to 4) as a line."""
    words = chart_words()
    figure = Figure(figsize=(8, 3.2), dpi=100)  # the object API: no global pyplot state
    axes = figure.add_subplot()
    days = date2num([s.starts_at for s in sessions])
    came = [s.attendees or 0 for s in sessions]
    span = float(days[-1] - days[0]) if len(days) > 1 else 1.0  # in days
    width = min(5.0, max(0.4, span / max(len(days), 1) * 0.7))
    axes.bar(days, came, width=width, color=ATTENDANCE_COLOUR)
    limits = x_limits([float(day) for day in days])
    if limits is not None:
        axes.set_xlim(*limits)
    axes.set_ylabel(words["attendance"], color=ATTENDANCE_COLOUR)
    axes.set_ylim(bottom=0, top=max([*came, 1]) * 1.2)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # people come whole
    pulse = axes.twinx()
    pulsed = [(s.starts_at, s.pulse) for s in sessions if s.pulse is not None]
    if pulsed:
        when = date2num([d for d, _ in pulsed])
        pulse.plot(when, [p for _, p in pulsed], color=PULSE_COLOUR, marker="o")
    pulse.set_ylim(0.5, 4.5)
    pulse.set_yticks([1, 2, 3, 4], words["scale"])
    pulse.set_ylabel(words["pulse"], color=PULSE_COLOUR)
    pulse.tick_params(axis="y", colors=PULSE_COLOUR)
    axes.xaxis_date()
    axes.set_title(title)
    figure.autofmt_xdate()
    figure.tight_layout()
    out = io.BytesIO()
    FigureCanvasAgg(figure).print_png(out)  # Agg: no display, safe in a worker thread
    return out.getvalue()


def x_limits(days: Sequence[float]) -> tuple[float, float] | None:
    """The x axis around meetings on `days` (matplotlib day numbers) when they span less than
    `NARROWEST_DAYS`, centred on them; None leaves matplotlib's own."""
    if not days or days[-1] - days[0] >= NARROWEST_DAYS:
        return None
    middle = (days[0] + days[-1]) / 2
    return middle - NARROWEST_DAYS / 2, middle + NARROWEST_DAYS / 2


def mount_charts(app: web.Application, core: Core) -> None:
    """Add the chart route to `app`. The charts drawn last are kept for a while: chat
    clients fetch one image several times (sizes, devices, people) within minutes."""
    drawn: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def chart(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        found = await core.health.chart_of(token)  # expired links stay gone
        if found is None:
            drawn.pop(token, None)
            raise web.HTTPNotFound()
        kept = drawn.get(token)
        if kept is not None and time.monotonic() - kept[0] < KEEP_SECONDS:
            body = kept[1]
        else:
            community, sessions = found
            body = await asyncio.to_thread(draw, community.name, sessions)
            drawn[token] = (time.monotonic(), body)
            drawn.move_to_end(token)
            while len(drawn) > KEEP_CHARTS:
                drawn.popitem(last=False)
        return web.Response(
            body=body,
            content_type="image/png",
            headers={"Cache-Control": CACHE_CONTROL, "Referrer-Policy": "no-referrer"},
        )

    app.router.add_get(f"/charts/{{token:{_TOKEN}}}.png", chart)
