"""Processes the e2e tier starts in its namespaces: output kept with arrival times, and stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Line:
    """One output line and when it arrived (time.monotonic(), the same clock in every process)."""

    at: float
    text: str


class Process:
    """One child (under `ip netns exec`, which execs it: the pid is the program's own).

    Every line of its stdout and stderr is kept with its arrival time and appended to `log`.
    """

    def __init__(self, name: str, log: Path) -> None:
        self.name = name
        self.log = log
        self.lines: list[Line] = []
        self.started = 0.0
        self._process: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._new_line = asyncio.Event()

    @classmethod
    async def start(
        cls,
        name: str,
        netns: str,
        argv: Sequence[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        *,
        stdin: bool = False,
    ) -> Process:
        """Run `argv` in `netns`; with stdin=True the caller writes to it (see `send`)."""
        self = cls(name, log)
        self.started = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            "ip",
            "netns",
            "exec",
            netns,
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
            # Its own session: a Ctrl-C on the test run reaches only pytest, which stops us in
            # order.
            start_new_session=True,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(self._process.stdout)),
            asyncio.create_task(self._read(self._process.stderr)),
        ]
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        assert self._process is not None
        return self._process.returncode

    async def _read(self, stream: asyncio.StreamReader) -> None:
        with self.log.open("a", encoding="utf-8") as log:
            while raw := await stream.readline():
                text = raw.decode(errors="replace").rstrip("\n")
                line = Line(time.monotonic(), text)
                self.lines.append(line)
                log.write(f"{line.at - self.started:9.3f} {text}\n")
                log.flush()
                self._new_line.set()

    def find(self, pattern: str, after: int = 0) -> tuple[int, Line] | None:
        """The first line from index `after` on that matches the regex, with its index."""
        compiled = re.compile(pattern)
        for index in range(after, len(self.lines)):
            if compiled.search(self.lines[index].text):
                return index, self.lines[index]
        return None

    async def wait_line(self, pattern: str, timeout: float, after: int = 0) -> tuple[int, Line]:
        """Wait for a line matching the regex; fail with the output tail if it exits first."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    found = self.find(pattern, after)
                    if found is not None:
                        return found
                    if self.returncode is not None and all(r.done() for r in self._readers):
                        raise AssertionError(
                            f"{self.name} exited ({self.returncode}) before printing "
                            f"/{pattern}/:\n{self.tail()}"
                        )
                    self._new_line.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.2):
                            await self._new_line.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.name} printed no /{pattern}/ within {timeout} s:\n{self.tail()}"
            ) from None

    def tail(self, count: int = 40) -> str:
        """The last lines of output, for failure messages."""
        return "\n".join(line.text for line in self.lines[-count:]) or "(no output)"

    async def send(self, text: str) -> None:
        """Write one line to its stdin."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(text.encode() + b"\n")
        await self._process.stdin.drain()

    async def wait(self, timeout: float) -> int:
        """Wait for it to exit; the exit status (negative: killed by that signal)."""
        assert self._process is not None
        try:
            async with asyncio.timeout(timeout):
                code = await self._process.wait()
                await asyncio.gather(*self._readers)
        except TimeoutError:
            raise AssertionError(
                f"{self.name} did not exit within {timeout} s:\n{self.tail()}"
            ) from None
        return code

    def signal(self, number: signal.Signals) -> None:
        """Send a signal to the process itself (not its children)."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, a bounded wait, then SIGKILL; reaped either way."""
        if self._process is None:
            return 0
        if self.returncode is None:
            self.signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await self._process.wait()
            except TimeoutError:
                self.signal(signal.SIGKILL)
                await self._process.wait()
        for reader in self._readers:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await reader
        if self._process.stdin is not None:
            self._process.stdin.close()
        return self._process.returncode or 0


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children, ...), found through /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_name(pid: int) -> str:
    """The process's name (/proc/PID/comm), empty once it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
