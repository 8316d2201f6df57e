"""The console REPL: reads lines, runs them through the router, prints the replies."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TextIO

from adapters.console import translate
from bot.app import Core
from bot.outbox import MessageGone
from bot.replies import MessageRef, Reply, Visibility
from messages.rendering import Renderer

log = logging.getLogger(__name__)

COMMANDS_HELP = (
    ":as NAME  act as another person   :in CHANNEL  move to a channel\n"
    ":dm  talk to copbot directly      :home  your home view      :quit  leave"
)


class ConsolePlatform:
    """The console's outbound side: posts the core makes on its own are printed, and so are
    edits (the new version, marked as edited) and deletions."""

    platform = translate.PLATFORM

    def __init__(self, write: Callable[[str], None], renderer: Renderer) -> None:
        self._write = write
        self._renderer = renderer
        self._count = 0
        self._posted: set[str] = set()

    async def send(self, reply: Reply) -> MessageRef:
        to = reply.to
        assert to is not None
        where = f"@{to.user} (direct message)" if to.user else f"#{to.channel}"
        self._count += 1
        message_id = f"console-{self._count}"
        self._posted.add(message_id)
        self._write(f"[to {where}] {self._renderer.text(reply.kind, reply.data)}")
        for line in button_lines(reply):
            self._write(line)
        return MessageRef(
            platform=self.platform,
            workspace=to.workspace,
            channel=to.channel or "@" + (to.user or ""),
            message_id=message_id,
            thread=to.thread,
        )

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        self._check(ref)
        text = self._renderer.text(reply.kind, reply.data)
        self._write(f"[edited in {_where(ref)}] {text}")

    async def delete(self, ref: MessageRef) -> None:
        self._check(ref)
        self._posted.discard(ref.message_id)
        self._write(f"[deleted a message in {_where(ref)}]")

    def _check(self, ref: MessageRef) -> None:
        if ref.message_id not in self._posted:
            raise MessageGone(ref.message_id)


def button_lines(reply: Reply) -> list[str]:
    """The console's buttons: each as the command to type for the same effect (a button
    with no typed twin is left out)."""
    lines = []
    for button in reply.buttons:
        typed = button.value if button.action == "command" else button.typed
        if typed:
            where = f" in #{button.channel}" if button.channel else ""
            lines.append(f"  [{button.label}]{where} type `{typed}`")
    return lines


def _where(ref: MessageRef) -> str:
    return ref.channel if ref.channel.startswith("@") else f"#{ref.channel}"


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
            case "as":
                self._write("Say who to act as: `:as NAME`.")
            case "in" if argument:
                self.state.channel, self.state.direct = argument, False
            case "in":
                self._write("Say which channel: `:in CHANNEL`.")
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
            for line in button_lines(reply):
                self._write(line)


def writer(stdout: TextIO) -> Callable[[str], None]:
    """Prints one message (and flushes, so a pipe sees it at once)."""

    def write(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    return write


async def _lines(stdin: TextIO) -> AsyncIterator[str]:
    """Lines from `stdin`, read by a daemon thread: Ctrl-C ends the program at once instead of
    waiting for a blocked read (a worker of the loop's executor would be waited for)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the console has ended meanwhile
                return
            if not line:
                return

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    while line := await queue.get():
        yield line


async def run_console(
    core: Core, *, user: str, channel: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    """The REPL loop: a prompt on a terminal, plain line by line when piped; ends at EOF.

    Posts the core makes on its own reach the console through the `ConsolePlatform` that the
    composition root registers."""
    interactive = stdin.isatty() and stdout.isatty()
    write = writer(stdout)
    session = ConsoleSession(core, user=user, channel=channel, write=write)
    if interactive:
        write(f"copbot console: you are {user} in #{channel}. Type `help`, or:\n{COMMANDS_HELP}")

    def prompt() -> None:
        if interactive:
            stdout.write(session.state.prompt)
            stdout.flush()

    prompt()
    async for raw in _lines(stdin):
        try:
            keep_going = await session.handle_line(raw)
        except Exception:  # the router never raises; this guards rendering and printing
            log.exception("console could not handle a line")
            write("Sorry, that line could not be handled.")
            keep_going = True
        if not keep_going:
            break
        prompt()
