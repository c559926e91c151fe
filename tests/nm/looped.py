"""The simulator and the adapter on an event loop of their own, for property tests.

A hypothesis test is a plain function run many times: it drives each example through one
private bus, one simulator and one adapter started once, with `run()`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus, Scenario, SimulatedNetworkManager
from tests.support import on_own_loop

_T = TypeVar("_T")


@dataclass
class Looped:
    """A simulated NetworkManager and the adapter connected to it, on `loop`."""

    loop: asyncio.AbstractEventLoop
    sim: SimulatedNetworkManager
    bus: SystemBus
    nm: NetworkManagerClient
    # How many examples a test drove through (the report counts them).
    examples: int = 0

    def client(self) -> NetworkManagerClient:
        """A new adapter on the same connection, with nothing learnt or cached yet."""
        return NetworkManagerClient(self.bus)

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run one coroutine on the loop to its end."""
        return self.loop.run_until_complete(coroutine)


@contextmanager
def simulated(scenario: Scenario) -> Iterator[Looped]:
    """The simulator on a private bus and the adapter, on a loop of their own."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")

    async def start(stack: AsyncExitStack) -> tuple[SimulatedNetworkManager, SystemBus]:
        bus = await stack.enter_async_context(PrivateBus())
        sim = await stack.enter_async_context(SimulatedNetworkManager.start(bus.address, scenario))
        return sim, await stack.enter_async_context(SystemBus(bus.address))

    with on_own_loop(start) as (loop, (sim, system)):
        nm = loop.run_until_complete(NetworkManagerClient.connect(system, timeout=5))
        world = Looped(loop, sim, system, nm)
        yield world
        if world.examples:
            print(f"{world.examples} examples through the simulator")


class Records(logging.Handler):
    """The log records of one logger (and its children) while a `with` block runs."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.DEBUG)
        self._logger = logging.getLogger(name)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Records:
        self._logger.addHandler(self)
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self._logger.removeHandler(self)

    def warnings(self) -> list[str]:
        """The messages logged at WARNING or above."""
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]

    def longest(self) -> int:
        """The length of the longest message: a reply's value is logged cut short."""
        return max((len(r.getMessage()) for r in self.records), default=0)
