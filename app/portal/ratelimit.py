"""A per-client sliding-window limit, so one phone cannot make the device flap its hotspot."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` events per `window` seconds for each key."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> int | None:
        """Count one event for `key`; None when allowed, else whole seconds until it would be."""
        now = self._clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            self._events[key] = events
            return max(1, math.ceil(events[0] + self.window - now))
        events.append(now)
        self._events[key] = events
        # Bounded memory whatever a flood of addresses does: forget the least recently seen.
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)
        return None
