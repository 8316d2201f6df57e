"""A test helper at the console seam: push a command as someone, read the reply as text."""

from __future__ import annotations

from adapters.console.adapter import ConsolePlatform, ConsoleSession
from bot.app import Core
from messages.rendering import Renderer


class ConsoleBot:
    """`await bot.say("join", as_="bob", channel="ds")` returns everything printed."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.lines: list[str] = []
        self._session = ConsoleSession(core, user="alice", channel="ds", write=self.lines.append)
        # What the composition root does for `copbot chat`: the console's posts print here.
        core.outbox.register(ConsolePlatform(self.lines.append, Renderer("text")))

    async def say(
        self, line: str, *, as_: str | None = None, channel: str | None = None, direct: bool = False
    ) -> str:
        if as_ is not None:
            self._session.state.user = as_
        if channel is not None:
            self._session.state.channel = channel
        self._session.state.direct = direct
        start = len(self.lines)
        await self._session.handle_line(line)
        return "\n".join(self.lines[start:])
