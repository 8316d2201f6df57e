"""Pacing `chat.postMessage` to what Slack allows, learned from its 429 answers.

Slack allows about one message per second per channel and an unpublished number per second in
a workspace, and says so with 429 and a whole-second Retry-After. Waiting out each 429 alone
makes a burst go in lock-step rounds (a second lost per round) and sends many requests only to
be refused. The pacer tells the two limits apart (a channel that had a message accepted within
the window hit its own limit), holds that channel or the whole workspace until Retry-After, and
from then on spreads the workspace's posts to as many per window as Slack accepted before it
refused; the learned rate is forgotten after a minute without a refusal."""

from __future__ import annotations

import asyncio
from collections import deque

WINDOW = 1.0  # seconds over which Slack counts
SPACING = 1.05  # pace over a slightly longer window, so timing jitter does not cross a limit
FORGET = 60.0  # seconds without a refusal after which a learned rate is dropped
MAX_CHANNELS = 5000  # channel timestamps kept before old ones are pruned


class PostPacer:
    """One workspace's posts: `started = await turn(channel)` before each post, then
    `accepted(channel, started)` or `refused(channel, started, retry_after)` with Slack's
    answer."""

    def __init__(self) -> None:
        self._next_slot = 0.0
        self._starts: deque[float] = deque()  # paced posts started in the last SPACING
        self._accepted: deque[float] = deque()  # start times of posts Slack accepted
        self._allowed: int | None = None
        self._learned_at = 0.0
        self._probe: float | None = None  # start of a refused post, to learn from
        self._reopen = 0.0
        self._closed_at = float("-inf")  # when the workspace was last held
        self._channel_reopen: dict[str, float] = {}
        self._channel_last: dict[str, float] = {}

    @property
    def allowed(self) -> int | None:
        """Posts per window the workspace turned out to allow (None: not limited yet)."""
        return self._allowed

    async def turn(self, channel: str) -> float:
        """Wait until a post to `channel` fits the limits learned so far; its start time."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            self._trim(now)
            if self._probe is not None and now >= self._reopen:
                # Every post started before the refused one has been answered by now: as
                # many were accepted in the window before it as the workspace allows.
                probe = self._probe
                before = sum(1 for t in self._accepted if probe - WINDOW < t <= probe)
                self._allowed = max(before, 1)
                self._learned_at, self._probe = now, None
            if self._allowed is not None and now - self._learned_at > FORGET:
                self._allowed = None
            held = max(self._reopen, self._channel_reopen.get(channel, 0.0))
            if held > now:
                await asyncio.sleep(held - now)
                continue
            if self._allowed is None:
                return now
            # Evenly spaced slots, each taken by one post (not bursts: a burst's tail and the
            # next one's head would meet in Slack's rolling window); a slot is kept whatever
            # the event loop's delays, so they do not add up.
            slot = max(self._next_slot, now)
            self._next_slot = slot + SPACING / self._allowed
            if slot > now:
                await asyncio.sleep(slot - now)
                now = loop.time()
                if now < self._reopen:
                    continue  # refused meanwhile: wait for the reopening again
            # Slots that a stalled event loop let pass must not go out all at once.
            while self._starts and self._starts[0] <= now - SPACING:
                self._starts.popleft()
            if len(self._starts) >= self._allowed:
                self._next_slot = max(self._next_slot, self._starts[0] + SPACING)
                continue
            self._starts.append(now)
            return now

    def accepted(self, channel: str, started: float) -> None:
        now = asyncio.get_running_loop().time()
        self._accepted.append(started)
        self._channel_last[channel] = now
        if len(self._channel_last) > MAX_CHANNELS:
            self._channel_last = {c: t for c, t in self._channel_last.items() if t > now - WINDOW}

    def refused(self, channel: str, started: float, retry_after: float) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._channel_last.get(channel, float("-inf")) < WINDOW:
            self._channel_reopen[channel] = max(
                self._channel_reopen.get(channel, 0.0), now + retry_after
            )
            return
        if started < self._closed_at and now < self._reopen:
            # It was on its way before the hold was decided: its refusal says nothing new,
            # and moving the reopening on for it would lose the time the hold already paid.
            return
        self._reopen = max(self._reopen, now + retry_after)
        self._closed_at = now
        self._next_slot = self._reopen
        if self._probe is None or started < self._probe:
            self._probe = started

    def _trim(self, now: float) -> None:
        keep_from = (self._probe if self._probe is not None else now) - 2 * WINDOW
        while self._accepted and self._accepted[0] <= keep_from:
            self._accepted.popleft()
        if len(self._channel_reopen) > MAX_CHANNELS:
            self._channel_reopen = {c: t for c, t in self._channel_reopen.items() if t > now}
