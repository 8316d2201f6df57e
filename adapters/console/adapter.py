"""The console REPL: reads lines, runs them through the router, prints the replies."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from adapters.console import translate
from bot.app import Core
from bot.replies import Reply, Visibility
from messages.rendering import Renderer

log = logging.getLogger(__name__)

COMMANDS_HELP = (
    ":as NAME  act as another person   :in CHANNEL  move to a channel\n"
    ":dm  talk to copbot directly      :home  your home view      :quit  leave"
)


class ConsolePlatform:
    """The console's outbound side: posts the core makes on its own are printed."""

    platform = translate.PLATFORM

    def __init__(self, write: Callable[[str], None], renderer: Renderer) -> None:
        self._write = write
        self._renderer = renderer
        self._count = 0

    async def send(self, reply: Reply) -> str:
        assert reply.to is not None
        where = f"@{reply.to.user} (direct message)" if reply.to.user else f"#{reply.to.channel}"
        self._write(f"[to {where}] {self._renderer.text(reply.kind, reply.data)}")
        self._count += 1
        return f"console-{self._count}"


@dataclass
class ConsoleState:
    user: str
    channel: str
    direct: bool = False

    @property
    def prompt(self) -> str:
        where = "dm" if self.direct else f"#{self.channel}"
        return f"{self.user}@{where}> "


class ConsoleSession:
    """One REPL: state (who, where) plus the core; `handle_line` is the test seam."""

    def __init__(
        self, core: Core, *, user: str, channel: str, write: Callable[[str], None]
    ) -> None:
        self.core = core
        self.state = ConsoleState(user=user, channel=channel)
        self._write = write
        self._renderer = Renderer("text")
        core.outbox.register(ConsolePlatform(write, self._renderer))

    async def handle_line(self, line: str) -> bool:
        """Handle one input line; False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return await self._meta(line)
        where = translate.origin(self.state.user, self.state.channel, direct=self.state.direct)
        self._show(await self.core.router.handle(translate.to_command(line, where)))
        return True

    async def _meta(self, line: str) -> bool:
        verb, _, argument = line[1:].partition(" ")
        argument = argument.strip().lstrip("#@")
        match verb.lower():
            case "as" if argument:
                self.state.user = argument
            case "in" if argument:
                self.state.channel, self.state.direct = argument, False
            case "dm":
                self.state.direct = True
            case "home":
                where = translate.origin(self.state.user, self.state.channel, direct=True)
                self._show(await self.core.router.handle(translate.to_home(where)))
            case "quit" | "q" | "exit":
                return False
            case _:
                self._write(f"Unknown console command `{line}`.\n{COMMANDS_HELP}")
        return True

    def _show(self, replies: list[Reply]) -> None:
        for reply in replies:
            text = self._renderer.text(reply.kind, reply.data)
            if reply.visibility is Visibility.CHANNEL and not self.state.direct:
                text = f"[#{self.state.channel}] {text}"
            self._write(text)
            for button in reply.buttons:
                if button.action == "command":
                    self._write(f"  [{button.label}] type `{button.value}`")


async def run_console(
    core: Core, *, user: str, channel: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    """The REPL loop: a prompt on a terminal, plain line by line when piped; ends at EOF."""
    interactive = stdin.isatty() and stdout.isatty()

    def write(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    session = ConsoleSession(core, user=user, channel=channel, write=write)
    if interactive:
        write(f"copbot console: you are {user} in #{channel}. Type `help`, or:\n{COMMANDS_HELP}")
    while True:
        if interactive:
            stdout.write(session.state.prompt)
            stdout.flush()
        raw = await asyncio.to_thread(stdin.readline)
        if not raw:
            break
        try:
            keep_going = await session.handle_line(raw)
        except Exception:  # the router never raises; this guards rendering and printing
            log.exception("console could not handle a line")
            write("Sorry, that line could not be handled.")
            continue
        if not keep_going:
            break
