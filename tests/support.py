"""What tests of every tier share: a clock moved by hand, a bounded wait, a free port, a loop."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import TypeVar

_T = TypeVar("_T")


class ManualClock:
    """app.flow.timing.Clock whose time passes only in advance(); sleepers wake in time order."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._slept = asyncio.Event()

    def now(self) -> float:
        """The time the test last moved the clock to."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the test moves the clock `seconds` on (0 or less: just yield)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), wake))
        self._slept.set()
        await wake

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting for the clock."""
        return sum(not wake.done() for _, _, wake in self._sleepers)

    async def until_sleeping(self, task: asyncio.Future[object] | None = None) -> bool:
        """Wait (real time, bounded) until something sleeps on the clock (True) or `task` ends."""
        async with asyncio.timeout(10):
            while not self.sleepers:
                if task is not None and task.done():
                    return False
                self._slept.clear()
                slept: asyncio.Future[object] = asyncio.ensure_future(self._slept.wait())
                waits = {slept}
                if task is not None:
                    waits.add(task)
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    slept.cancel()
        return True

    async def advance(self, seconds: float) -> None:
        """Move the clock on, waking each sleep whose time comes, earliest first."""
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, wake = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not wake.done():
                wake.set_result(None)
                # Let the woken task run up to its next await before the next one wakes.
                for _ in range(5):
                    await asyncio.sleep(0)
        self._now = target

    async def tick(self, seconds: float, task: asyncio.Future[object] | None = None) -> bool:
        """Once something sleeps on the clock, move it `seconds` on; False if `task` ended."""
        if not await self.until_sleeping(task):
            return False
        await self.advance(seconds)
        return True


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, what: str = ""
) -> None:
    """Look at `condition` every 20 ms until it holds; fail after `timeout` seconds of real time."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                held = condition()
                if held if isinstance(held, bool) else await held:
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:g} s: {what or condition}") from None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def on_own_loop(
    start: Callable[[AsyncExitStack], Awaitable[_T]],
) -> Iterator[tuple[asyncio.AbstractEventLoop, _T]]:
    """What `start` opens into the stack, on an event loop of its own; all closed afterwards.

    For hypothesis tests, plain functions run many times: each example runs its steps on the
    loop with run_until_complete, against what was started once.
    """
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    try:
        yield loop, loop.run_until_complete(start(stack))
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
