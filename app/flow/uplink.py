"""Whether the device already has a working uplink, and waiting for it to go (--watch)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import netifaces

from app.errors import WifiConnectError
from app.flow.timing import Clock, Timings
from app.nm.client import NetworkManagerClient
from app.nm.const import Connectivity, NMState
from app.nm.models import NetworkStatus

_LOGGER = logging.getLogger(__name__)


def is_online(status: NetworkStatus, has_default_route: bool) -> bool:
    """Whether an uplink already works, from NM's view and the routing table."""
    if status.connectivity is Connectivity.FULL:
        return True
    # With connectivity checking off, NM says UNKNOWN: trust a global state with a default route.
    return (
        status.connectivity is Connectivity.UNKNOWN
        and status.state is NMState.CONNECTED_GLOBAL
        and has_default_route
    )


def default_route_exists() -> bool:
    """True when the kernel has an IPv4 default route."""
    defaults = netifaces.gateways().get("default", {})
    return isinstance(defaults, dict) and bool(defaults.get(netifaces.AF_INET))


class Uplink:
    """The device's way out, as NetworkManager and the kernel's routes tell it."""

    def __init__(
        self,
        nm: NetworkManagerClient,
        *,
        timings: Timings,
        clock: Clock,
        has_default_route: Callable[[], bool] = default_route_exists,
    ) -> None:
        self._nm = nm
        self._timings = timings
        self._clock = clock
        self._has_default_route = has_default_route

    async def works(self) -> bool:
        """Whether the device is online now."""
        return is_online(await self._nm.status(), self._has_default_route())

    async def wait_until_gone(self) -> None:
        """Return once the uplink has been gone for the watch grace (--watch)."""
        gone_since: float | None = None
        while True:
            await self._clock.sleep(self._timings.watch_poll)
            try:
                online = await self.works()
            except WifiConnectError as err:
                # NM restarting, say: no answer is no news, and --watch goes on.
                _LOGGER.warning("Cannot tell whether the uplink works: %s", err)
                continue
            if online:
                gone_since = None
                continue
            now = self._clock.now()
            if gone_since is None:
                _LOGGER.warning(
                    "The uplink is gone; the portal returns in %g s", self._timings.watch_grace
                )
                gone_since = now
            elif now - gone_since >= self._timings.watch_grace:
                return
