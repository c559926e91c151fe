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
        # Keys refused since they were last allowed, so a flood is reported once, not per hit.
        self._reported: set[str] = set()

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
        self._reported.discard(key)
        # Bounded memory whatever a flood of addresses does: forget the least recently seen.
        while len(self._events) > self._max_keys:
            forgotten, _ = self._events.popitem(last=False)
            self._reported.discard(forgotten)
        return None

    def first_refusal(self, key: str) -> bool:
        """True once for each run of refusals of `key`: when it is worth a log line."""
        if key in self._reported or key not in self._events:
            return False
        self._reported.add(key)
        return True
