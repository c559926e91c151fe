"""IDENTIFY_COMMAND: the installer's "which box is this?" (blink an LED, beep), run one at a time.

The command line comes from the operator alone (checked once, in app.config); nothing a phone
sends reaches it, and it runs without a shell. One Identifier owns the process it starts: the
process is reaped when it ends, its process group is killed at the timeout, and close() kills
and reaps whatever still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

from app.flow.timing import Clock, MonotonicClock
from app.rules import inert_text

_LOGGER = logging.getLogger(__name__)

# How long the command may take, whatever it starts in its process group included.
IDENTIFY_TIMEOUT = 10.0
# After SIGTERM at the timeout, how long the group has to end (a script turning its LED off)
# before SIGKILL.
TERM_GRACE = 1.0
# How much of the command's output (stdout and stderr together) is kept for the DEBUG log; the
# rest is read and dropped, so a chatty command can neither block on its pipe nor fill memory.
OUTPUT_LIMIT = 2048
_READ_SIZE = 4096
# The variable that tells the command the hotspot's name (PORTAL_SSID).
SSID_VARIABLE = "WIFI_CONNECT_SSID"


def identify_environment(parent: Mapping[str, str], ssid: str) -> dict[str, str]:
    """The command's whole environment: PATH and the hotspot's name, nothing else of ours.

    The app's environment may hold PORTAL_PASSPHRASE, and a child's environment is readable in
    /proc by whoever may read the child's.
    """
    return {"PATH": parent.get("PATH", os.defpath), SSID_VARIABLE: ssid}


@dataclass(frozen=True)
class IdentifyOutcome:
    """How one run of the command ended."""

    # Its exit status (negative: the signal that ended it); None when it never started.
    returncode: int | None
    seconds: float
    timed_out: bool = False
    # Why it could not be started.
    error: str | None = None
    # The start of its output, decoded and inert; `truncated` when there was more.
    output: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when it ran within the timeout and exited 0."""
        return self.returncode == 0 and not self.timed_out

    def describe(self) -> str:
        """How it ended, in words: "exited with status 0 after 0.2 s"."""
        if self.error is not None:
            return f"could not be started: {self.error}"
        if self.timed_out:
            return f"was still running after {self.seconds:g} s and was killed"
        ended = f"exited with status {self.returncode}"
        if self.returncode is not None and self.returncode < 0:
            with contextlib.suppress(ValueError):
                ended = f"was killed by {signal.Signals(-self.returncode).name}"
        return f"{ended} after {self.seconds:.1f} s"


class Identifier:
    """Runs the identify command in the background, never two at once; owns each process."""

    def __init__(
        self,
        argv: tuple[str, ...],
        environment: Mapping[str, str],
        *,
        timeout: float = IDENTIFY_TIMEOUT,
        grace: float = TERM_GRACE,
        clock: Clock | None = None,
    ) -> None:
        self.argv = argv
        self._environment = dict(environment)
        self.timeout = timeout
        self._grace = grace
        self._clock = clock or MonotonicClock()
        self._task: asyncio.Task[IdentifyOutcome] | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """True while a run of the command has not ended."""
        return self._task is not None and not self._task.done()

    def start(self) -> bool:
        """Start the command unless it runs already (False); its outcome is logged."""
        if self.busy or self._closed:
            return False
        self._task = asyncio.create_task(self._run())
        return True

    async def wait(self) -> IdentifyOutcome | None:
        """The outcome of the latest run, once it ended; None when there was none."""
        task = self._task
        if task is None:
            return None
        # Shielded: a waiter that gives up must not stop the command; close() does that.
        return await asyncio.shield(task)

    async def run(self) -> IdentifyOutcome:
        """Run the command and wait for it (the CLI's way); cancelling this kills it."""
        if not self.start():
            raise RuntimeError("the identify command is already running")
        assert self._task is not None
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            await self.close()
            raise

    async def close(self) -> None:
        """Kill a run still going (its whole process group) and reap it; no run starts after."""
        self._closed = True
        task = self._task
        if task is None or task.done():
            return
        task.cancel()
        # The task's own cleanup kills and reaps; waited for even when our caller is cancelled.
        cancelled = False
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError

    async def __aenter__(self) -> Identifier:
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.close()

    async def _run(self) -> IdentifyOutcome:
        """One run: start, read its output, wait within the timeout; kill the group if need be."""
        started = self._clock.now()
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=self._environment,
                # A group of its own: what it starts is killed with it, and a Ctrl-C meant for
                # us does not reach it.
                start_new_session=True,
            )
        except OSError as err:
            outcome = IdentifyOutcome(None, 0.0, error=err.strerror or str(err))
            _LOGGER.error("IDENTIFY_COMMAND %s", outcome.describe())
            return outcome
        _LOGGER.info("Identifying this device: IDENTIFY_COMMAND started (pid %d)", process.pid)
        kept = bytearray()
        dropped = False

        async def finish() -> None:
            nonlocal dropped
            assert process.stdout is not None
            while chunk := await process.stdout.read(_READ_SIZE):
                room = OUTPUT_LIMIT - len(kept)
                kept.extend(chunk[:room])
                dropped = dropped or len(chunk) > room
            await process.wait()

        ended = asyncio.create_task(finish())
        timer = asyncio.create_task(self._clock.sleep(self.timeout))
        try:
            await asyncio.wait([ended, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            timed_out = not ended.done()
            ended.cancel()
            # At the timeout, and when cancelled (close(), Ctrl-C): nothing of it may outlive us.
            await self._stop(process)
        outcome = IdentifyOutcome(
            process.returncode,
            self.timeout if timed_out else self._clock.now() - started,
            timed_out=timed_out,
            output=inert_text(kept.decode(errors="replace").strip()),
            truncated=dropped,
        )
        level = logging.INFO if outcome.ok else logging.WARNING
        _LOGGER.log(level, "IDENTIFY_COMMAND (pid %d) %s", process.pid, outcome.describe())
        if outcome.output:
            more = " (and more)" if outcome.truncated else ""
            _LOGGER.debug("IDENTIFY_COMMAND's output%s: %s", more, outcome.output)
        return outcome

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM to the process group, SIGKILL after the grace, then reap the leader."""
        if process.returncode is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        exited = asyncio.ensure_future(process.wait())
        timer = asyncio.ensure_future(self._clock.sleep(self._grace))
        try:
            await asyncio.wait([exited, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        # Whatever of the group is left (the leader, or a child it started) gets SIGKILL.
        _signal_group(process.pid, signal.SIGKILL)
        await exited


def _signal_group(pgid: int, number: signal.Signals) -> None:
    """Send `number` to a process group; one that is gone already is no error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, number)
