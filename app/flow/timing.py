"""How long the flow waits for what, and the clock it waits on: both injected, never global."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from app.nm.const import LEGACY_SCAN_TIME


@dataclass(frozen=True)
class Timings:
    """Every pause and bound of the flow, in seconds; a device uses the defaults."""

    # How long NM may take to associate, authenticate and get an address before we give up.
    activation: float = 60.0
    # The phone must get its "connecting" answer (for a form: the redirect, then the page and
    # its files) before the hotspot it talks over goes away.
    answer_grace: float = 2.0
    scan: float = 15.0
    # A NetworkManager before 1.12 never says when a scan has ended: the scan is taken as done
    # this long after the first access points are listed.
    legacy_scan: float = LEGACY_SCAN_TIME
    # At boot NetworkManager may still be starting when we are; an installer at a terminal
    # wants an answer sooner.
    nm_wait: float = 60.0
    command_nm_wait: float = 10.0
    # --watch: how often the uplink is looked at, how long it may be gone before the portal
    # comes back, and how often a portal nobody uses steps aside to look for a saved network.
    watch_poll: float = 5.0
    watch_grace: float = 30.0
    watch_retry_saved: float = 120.0
    # The first and the longest pause between attempts to bring a lost hotspot back.
    reopen_first: float = 1.0
    reopen_max: float = 30.0
    # How often the activity timeout looks at the portal, at the least.
    idle_poll: float = 0.5
    # After a failed attempt, how long another phone that waits may go first (app.flow.turns).
    turn: float = 60.0


class Clock(Protocol):
    """Monotonic time and sleeping on it; tests inject one they move by hand."""

    def now(self) -> float:
        """Seconds on a clock that never jumps (a wall clock set by NTP would)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...


class MonotonicClock:
    """The real clock: time.monotonic and asyncio.sleep."""

    def now(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """asyncio.sleep(seconds)."""
        await asyncio.sleep(seconds)
