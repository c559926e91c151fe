"""The provisioning flow: the one module that sequences scan, hotspot, portal and connecting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.config import Config
from app.errors import NetworkManagerError
from app.nm.client import NetworkManagerClient, WifiDevice
from app.nm.models import (
    Credentials,
    Device,
    FailureKind,
    SavedConnection,
    WifiNetwork,
    display_ssid,
)
from app.nm.profiles import client_profile, hotspot_profile
from app.portal.controller import AttemptOutcome, CheckResult, FlowState, FlowStatus

_LOGGER = logging.getLogger(__name__)

# How long NM may take to associate, authenticate and get an address before we give up.
ACTIVATION_TIMEOUT = 60.0
# The phone must get its "connecting" answer (for a form: the redirect, then the page and its
# files) before the hotspot it talks over goes away.
ANSWER_GRACE = 2.0
SCAN_TIMEOUT = 15.0

# Checks the new link must pass; given the active connection's path, returns every result.
ReachabilityCheck = Callable[[str], Awaitable[tuple[CheckResult, ...]]]


class Provisioner:
    """Runs the flow against NetworkManager and serves as the portal's controller."""

    def __init__(
        self,
        config: Config,
        nm: NetworkManagerClient,
        *,
        check_reachability: ReachabilityCheck | None = None,
        activation_timeout: float = ACTIVATION_TIMEOUT,
    ) -> None:
        self._config = config
        self._nm = nm
        self._check_reachability = check_reachability
        self._activation_timeout = activation_timeout
        self._wifi: WifiDevice | None = None
        self._networks: list[WifiNetwork] = []
        self._hotspot: SavedConnection | None = None
        self._hotspot_active: str | None = None
        self._submitted: asyncio.Queue[Credentials] = asyncio.Queue(maxsize=1)
        self._status = FlowStatus(FlowState.STARTING)

    # -- PortalController ------------------------------------------------------------------------

    async def networks(self) -> list[WifiNetwork]:
        """The list scanned before the hotspot came up (a single radio cannot scan as an AP)."""
        return list(self._networks)

    async def rescan(self) -> list[WifiNetwork]:
        """Scan again; NM refuses while the radio is an access point, and the old list stays."""
        fresh = await self._device().scan(timeout=SCAN_TIMEOUT)
        if fresh:
            self._networks = fresh
        return list(self._networks)

    async def submit(self, credentials: Credentials) -> None:
        """Take credentials from the portal; only the first of a burst is used."""
        if self._status.state is not FlowState.PORTAL:
            _LOGGER.info("Ignoring a submission while %s", self._status.state)
            return
        self._set_state(FlowState.CONNECTING)
        self._submitted.put_nowait(credentials)

    def status(self) -> FlowStatus:
        """The flow's state and the outcome of the last attempt."""
        return self._status

    # -- the flow --------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Find the WiFi device, scan while the radio is free, and remove stale hotspots."""
        self._wifi = await self._nm.wifi_device(self._config.interface)
        _LOGGER.info("Using WiFi device %s", self._wifi.device.interface)
        self._networks = await self._wifi.scan(timeout=SCAN_TIMEOUT)
        _LOGGER.info("Found %d networks", len(self._networks))
        for stale in await self._nm.hotspot_connections():
            _LOGGER.info("Removing hotspot profile '%s' left by an earlier run", stale.id)
            await self._nm.delete_connection(stale.path)

    async def open_portal(self) -> None:
        """Bring the hotspot up so phones can reach the portal."""
        device = self._device().device
        if self._hotspot is None:
            self._hotspot = await self._nm.add_connection(
                hotspot_profile(
                    ssid=self._config.ssid,
                    interface=device.interface,
                    gateway=self._config.gateway,
                    passphrase=self._config.passphrase,
                )
            )
        result = await self._nm.activate(self._hotspot, device, timeout=self._activation_timeout)
        if not result.ok:
            raise NetworkManagerError(
                "hotspot", f"the hotspot '{self._config.ssid}' did not start ({result.failure})"
            )
        self._hotspot_active = result.active_path
        self._set_state(FlowState.PORTAL)
        _LOGGER.info("Hotspot '%s' is up; the portal is open", self._config.ssid)

    async def close_portal(self) -> None:
        """Take the hotspot down (its profile stays until cleanup)."""
        if self._hotspot_active is not None:
            await self._nm.deactivate(self._hotspot_active)
            self._hotspot_active = None
            _LOGGER.info("Hotspot is down")

    async def cleanup(self) -> None:
        """Leave nothing of ours behind: hotspot down and its profile deleted."""
        await self.close_portal()
        if self._hotspot is not None:
            await self._nm.delete_connection(self._hotspot.path)
            self._hotspot = None

    async def run_until_connected(self) -> AttemptOutcome:
        """Serve submissions until one connects and passes every check."""
        while True:
            credentials = await self._submitted.get()
            await asyncio.sleep(ANSWER_GRACE)
            outcome = await self.attempt(credentials)
            if outcome.ok:
                return outcome
            await self.open_portal()

    async def attempt(self, credentials: Credentials) -> AttemptOutcome:
        """Drop the hotspot, save and activate the network, check it; undo it all on failure."""
        self._set_state(FlowState.CONNECTING)
        await self.close_portal()
        outcome = await self._connect(credentials)
        self._status = FlowStatus(
            FlowState.CONNECTED if outcome.ok else FlowState.FAILED, last_attempt=outcome
        )
        return outcome

    async def _connect(self, credentials: Credentials) -> AttemptOutcome:
        return await connect_network(
            self._nm,
            self._device().device,
            credentials,
            activation_timeout=self._activation_timeout,
            check_reachability=self._check_reachability,
            on_checking=lambda: self._set_state(FlowState.CHECKING),
        )

    def _device(self) -> WifiDevice:
        if self._wifi is None:
            raise RuntimeError("prepare() must run first")
        return self._wifi

    def _set_state(self, state: FlowState) -> None:
        self._status = FlowStatus(state, last_attempt=self._status.last_attempt)


async def connect_network(
    nm: NetworkManagerClient,
    device: Device,
    credentials: Credentials,
    *,
    activation_timeout: float = ACTIVATION_TIMEOUT,
    check_reachability: ReachabilityCheck | None = None,
    on_checking: Callable[[], None] | None = None,
) -> AttemptOutcome:
    """Save, activate and check one network; undo what fails, never losing a saved profile."""
    # The rules every attempt follows (portal and CLI alike): a failed activation or a failed
    # check deletes only the new profile; only success removes the older ones of that SSID.
    name = display_ssid(credentials.ssid)
    saved = await nm.add_connection(client_profile(credentials))
    result = await nm.activate(saved, device, timeout=activation_timeout)
    if not result.ok:
        await nm.delete_connection(saved.path)
        _LOGGER.warning("Could not connect to '%s': %s", name, result.failure)
        return AttemptOutcome(name, result.failure or FailureKind.OTHER)
    checks: tuple[CheckResult, ...] = ()
    if check_reachability is not None:
        if on_checking is not None:
            on_checking()
        checks = await check_reachability(result.active_path or "")
        blocked = tuple(check.service for check in checks if not check.ok)
        if blocked:
            _LOGGER.warning("Connected to '%s' but blocked: %s", name, ", ".join(blocked))
            await nm.deactivate(result.active_path or "")
            await nm.delete_connection(saved.path)
            return AttemptOutcome(name, None, blocked=blocked, checks=checks)
    await forget_older_profiles(nm, saved)
    _LOGGER.info("Connected to '%s'", name)
    return AttemptOutcome(name, None, checks=checks)


async def forget_older_profiles(nm: NetworkManagerClient, kept: SavedConnection) -> None:
    """Only once the new profile works, remove the older ones for the same SSID."""
    for old in await nm.wifi_connections():
        if old.ssid == kept.ssid and old.uuid != kept.uuid:
            _LOGGER.info("Removing older profile '%s' for the same network", old.id)
            await nm.delete_connection(old.path)
