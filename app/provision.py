"""The provisioning flow: the one module that sequences scan, hotspot, portal and connecting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from ipaddress import IPv4Address
from typing import Protocol

import netifaces
from aiohttp import web

from app.config import Config
from app.dnsmasq import Dnsmasq
from app.errors import NetworkManagerError, WifiConnectError
from app.exitcodes import ExitStatus
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient, WifiDevice
from app.nm.const import Connectivity, NMState
from app.nm.models import (
    Credentials,
    Device,
    FailureKind,
    NetworkStatus,
    SavedConnection,
    WifiNetwork,
    display_ssid,
)
from app.nm.profiles import client_profile, hotspot_profile
from app.portal.app import create_app
from app.portal.controller import AttemptOutcome, CheckResult, FlowState, FlowStatus
from app.portal.state import ACTIVITY, Activity
from app.reachability import blocked_services, check_reachability

_LOGGER = logging.getLogger(__name__)

# How long NM may take to associate, authenticate and get an address before we give up.
ACTIVATION_TIMEOUT = 60.0
# The phone must get its "connecting" answer (for a form: the redirect, then the page and its
# files) before the hotspot it talks over goes away.
ANSWER_GRACE = 2.0
SCAN_TIMEOUT = 15.0
# At boot NetworkManager may still be starting when we are.
NM_WAIT = 60.0
# --watch: how long the uplink may be gone before the portal comes back, and how often a
# portal nobody uses steps aside to look for a saved network that has returned.
WATCH_POLL = 5.0
WATCH_GRACE = 30.0
WATCH_RETRY_SAVED = 120.0

# <linux/in.h>: bind to an address the machine does not have (yet); Python does not name it.
_IP_FREEBIND = 15

# Checks the new link must pass; given the active connection's path, returns every result.
ReachabilityCheck = Callable[[str], Awaitable[tuple[CheckResult, ...]]]


class PortalService(Protocol):
    """What runs beside the hotspot while the portal is open (dnsmasq)."""

    async def wait_failed(self) -> WifiConnectError:
        """Return once the service has died for good, with why."""
        ...


# Given the AP interface, the service to run while the portal is open.
PortalServices = Callable[[str], AbstractAsyncContextManager[PortalService | None]]


class Provisioner:
    """Runs the flow against NetworkManager and serves as the portal's controller."""

    def __init__(
        self,
        config: Config,
        nm: NetworkManagerClient,
        *,
        check_reachability: ReachabilityCheck | None = None,
        portal_services: PortalServices | None = None,
        activation_timeout: float = ACTIVATION_TIMEOUT,
    ) -> None:
        self._config = config
        self._nm = nm
        self._check_reachability = check_reachability
        self._portal_services = portal_services
        self._services = AsyncExitStack()
        self._service_failure: asyncio.Future[WifiConnectError] = (
            asyncio.get_running_loop().create_future()
        )
        self._activation_timeout = activation_timeout
        self.portal_opened_at = time.monotonic()
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
            _LOGGER.info("Refusing a submission while %s", self._status.state)
            raise WifiConnectError(
                "The device is busy with another attempt; when its hotspot is back, try again."
            )
        self._set_state(FlowState.CONNECTING)
        self._submitted.put_nowait(credentials)

    def status(self) -> FlowStatus:
        """The flow's state and the outcome of the last attempt."""
        return self._status

    # -- the flow --------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Find the WiFi device, remove stale hotspots, and scan while the radio is free."""
        self._wifi = await self._nm.wifi_device(self._config.interface)
        _LOGGER.info("Using WiFi device %s", self._wifi.device.interface)
        # A hotspot left by a killed run may still be up, and a radio in AP mode cannot scan:
        # it goes first.
        stale = await self._nm.hotspot_connections()
        for profile in stale:
            _LOGGER.info("Removing hotspot profile '%s' left by an earlier run", profile.id)
            await self._nm.delete_connection(profile.path)
        if stale:
            await self._nm.wait_device_released(self._wifi.device, timeout=SCAN_TIMEOUT)
        self._networks = await self._wifi.scan(timeout=SCAN_TIMEOUT)
        _LOGGER.info("Found %d networks", len(self._networks))

    async def open_portal(self) -> None:
        """Bring the hotspot up, then what serves phones beside it (dnsmasq)."""
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
        if self._portal_services is not None:
            service = await self._services.enter_async_context(
                self._portal_services(device.interface)
            )
            if service is not None:
                watch = asyncio.ensure_future(self._watch_service(service))
                self._services.callback(watch.cancel)
        self.portal_opened_at = time.monotonic()
        self._set_state(FlowState.PORTAL)
        _LOGGER.info("Hotspot '%s' is up; the portal is open", self._config.ssid)

    async def close_portal(self) -> None:
        """Stop dnsmasq, then take the hotspot down (its profile stays until cleanup)."""
        await self._services.aclose()
        if self._hotspot_active is not None:
            await self._nm.deactivate(self._hotspot_active)
            self._hotspot_active = None
            _LOGGER.info("Hotspot is down")

    async def cleanup(self) -> None:
        """Leave nothing of ours behind: dnsmasq stopped, hotspot down, its profile deleted."""
        # Each step on its own: one failing (NM restarted under us) must not skip the others.
        try:
            await self.close_portal()
        except WifiConnectError as err:
            _LOGGER.warning("Could not take the hotspot down: %s", err)
            self._hotspot_active = None
        if self._hotspot is not None:
            try:
                # Found again by id: after an NM restart the path we hold is stale.
                for profile in await self._nm.hotspot_connections():
                    await self._nm.delete_connection(profile.path)
                _LOGGER.info("Hotspot profile removed")
            except WifiConnectError as err:
                _LOGGER.warning("Could not remove the hotspot profile (next start will): %s", err)
            self._hotspot = None

    async def _watch_service(self, service: PortalService) -> None:
        """Pass a service's final failure on to whoever waits in portal_failed()."""
        failure = await service.wait_failed()
        if not self._service_failure.done():
            self._service_failure.set_result(failure)

    async def portal_failed(self) -> WifiConnectError:
        """Return once a portal service (dnsmasq) has died for good: phones can't join then."""
        return await asyncio.shield(self._service_failure)

    async def try_saved_networks(self) -> bool:
        """Step the portal aside, scan, and join a saved network in range; reopen if none works."""
        self._set_state(FlowState.CONNECTING)
        await self.close_portal()
        wifi = self._device()
        await self._nm.wait_device_released(wifi.device, timeout=SCAN_TIMEOUT)
        visible = {network.ssid for network in await wifi.scan(timeout=SCAN_TIMEOUT)}
        for saved in await self._nm.wifi_connections():
            if saved.ssid not in visible:
                continue
            _LOGGER.info("Saved network '%s' is in range again; joining it", saved.id)
            result = await self._nm.activate(saved, wifi.device, timeout=self._activation_timeout)
            if result.ok:
                self._set_state(FlowState.CONNECTED)
                return True
        await self.open_portal()
        return False

    async def run_until_connected(self) -> AttemptOutcome:
        """Serve submissions until one connects and passes every check."""
        while True:
            credentials = await self._submitted.get()
            await asyncio.sleep(ANSWER_GRACE)
            outcome = await self.attempt(credentials)
            if outcome.ok:
                return outcome
            await self.reopen_portal()

    async def reopen_portal(self) -> None:
        """Bring the portal back after a failed attempt, retrying with a growing pause for ever."""
        pause = 1.0
        while True:
            try:
                await self.open_portal()
                return
            except WifiConnectError as err:
                _LOGGER.error("The hotspot did not come back (%s); retrying in %g s", err, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)
            with contextlib.suppress(WifiConnectError):
                await self._start_over()

    async def _start_over(self) -> None:
        """Forget what we hold of NM's objects (an NM restart renews them) and find them again."""
        await self.close_portal()
        for profile in await self._nm.hotspot_connections():
            await self._nm.delete_connection(profile.path)
        self._hotspot = None
        self._wifi = await self._nm.wifi_device(self._config.interface)

    async def attempt(self, credentials: Credentials) -> AttemptOutcome:
        """Drop the hotspot, save and activate the network, check it; undo it all on failure."""
        self._set_state(FlowState.CONNECTING)
        try:
            await self.close_portal()
            outcome = await self._connect(credentials)
        except WifiConnectError as err:
            # NM refused the profile or went away mid-attempt: a failed attempt, not the end.
            _LOGGER.error("Attempt to join '%s' failed: %s", display_ssid(credentials.ssid), err)
            outcome = AttemptOutcome(display_ssid(credentials.ssid), FailureKind.OTHER)
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
    try:
        return await _activate_and_check(
            nm, device, saved, name, activation_timeout, check_reachability, on_checking
        )
    except BaseException:
        # Stopped half-way (a signal, NM gone): an unproven profile must not stay behind.
        with contextlib.suppress(WifiConnectError):
            await asyncio.shield(nm.delete_connection(saved.path))
        raise


async def _activate_and_check(
    nm: NetworkManagerClient,
    device: Device,
    saved: SavedConnection,
    name: str,
    activation_timeout: float,
    check_reachability: ReachabilityCheck | None,
    on_checking: Callable[[], None] | None,
) -> AttemptOutcome:
    """Activate a just-saved profile and check the link; roll back what fails."""
    result = await nm.activate(saved, device, timeout=activation_timeout)
    if not result.ok:
        await nm.delete_connection(saved.path)
        _LOGGER.warning(
            "Could not connect to '%s' (%s); its new profile is removed", name, result.failure
        )
        return AttemptOutcome(
            name, result.failure or FailureKind.OTHER, nm_reason=int(result.reason)
        )
    checks: tuple[CheckResult, ...] = ()
    if check_reachability is not None:
        if on_checking is not None:
            on_checking()
        checks = await check_reachability(result.active_path or "")
        blocked = blocked_services(checks)
        if blocked:
            _LOGGER.warning(
                "Connected to '%s' but blocked: %s; its new profile is removed",
                name,
                ", ".join(blocked),
            )
            await nm.deactivate(result.active_path or "")
            await nm.delete_connection(saved.path)
            return AttemptOutcome(name, None, blocked=blocked, checks=checks)
    if checks:
        _LOGGER.info(
            "Reachability proven: %s",
            ", ".join(f"{c.service} {c.target} {c.latency_ms or 0:.0f} ms" for c in checks),
        )
    await forget_older_profiles(nm, saved)
    _LOGGER.info("Connected to '%s'", name)
    return AttemptOutcome(name, None, checks=checks)


async def forget_older_profiles(nm: NetworkManagerClient, kept: SavedConnection) -> None:
    """Only once the new profile works, remove the older ones for the same SSID."""
    for old in await nm.wifi_connections():
        if old.ssid == kept.ssid and old.uuid != kept.uuid:
            _LOGGER.info("Removing older profile '%s' for the same network", old.id)
            await nm.delete_connection(old.path)


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


async def uplink_works(nm: NetworkManagerClient) -> bool:
    """Whether the device is online now."""
    return is_online(await nm.status(), default_route_exists())


async def run(config: Config) -> ExitStatus:
    """The whole flow, as `wifi-connect run` does it; returns the exit status."""
    async with SystemBus() as bus:
        nm = await NetworkManagerClient.connect(bus, timeout=NM_WAIT)
        _LOGGER.info("NetworkManager is ready")
        online = await uplink_works(nm)
        if online and not config.force and not config.watch:
            _LOGGER.info("Already online: nothing to do (--force opens the portal anyway)")
            return ExitStatus.ALREADY_ONLINE
        while True:
            if online and not config.force:
                _LOGGER.info("Online")
            else:
                status = await provision(config, nm)
                if status is not ExitStatus.OK or not config.watch:
                    return status
            await wait_until_offline(nm)
            online = False


async def wait_until_offline(nm: NetworkManagerClient) -> None:
    """--watch: return once the uplink has been gone for WATCH_GRACE seconds."""
    gone_since: float | None = None
    while True:
        await asyncio.sleep(WATCH_POLL)
        if await uplink_works(nm):
            gone_since = None
            continue
        now = time.monotonic()
        if gone_since is None:
            _LOGGER.warning("The uplink is gone; the portal returns in %g s", WATCH_GRACE)
            gone_since = now
        elif now - gone_since >= WATCH_GRACE:
            return


async def provision(config: Config, nm: NetworkManagerClient) -> ExitStatus:
    """Open the portal and serve it until a network works or the activity timeout passes."""

    async def check_link(active_path: str) -> tuple[CheckResult, ...]:
        return await check_reachability(config, await nm.nameservers(active_path))

    def dnsmasq(interface: str) -> Dnsmasq:
        return Dnsmasq(interface=interface, gateway=config.gateway, dhcp_range=config.dhcp_range)

    flow = Provisioner(config, nm, check_reachability=check_link, portal_services=dnsmasq)
    app = create_app(config, flow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tasks: list[asyncio.Task[object]] = []
    try:
        await _listen(runner, config.gateway, config.listening_port)
        await flow.prepare()
        await flow.open_portal()
        _LOGGER.info("Portal serving at %s", config.portal_url)
        connected = asyncio.ensure_future(flow.run_until_connected())
        tasks.append(connected)
        rejoined: asyncio.Task[object] | None = None
        if config.watch:
            rejoined = asyncio.ensure_future(_saved_network_returns(flow, app[ACTIVITY]))
            tasks.append(rejoined)
        if config.activity_timeout:
            idle = _idle_timeout(flow, app[ACTIVITY], config.activity_timeout)
            tasks.append(asyncio.ensure_future(idle))
        broken = asyncio.ensure_future(flow.portal_failed())
        tasks.append(broken)
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finished = done.pop()
        if finished is broken:
            raise broken.result()  # exit 1 with why; a supervisor may start us afresh
        finished.result()  # an error in the flow ends the run with it
        if finished in (connected, rejoined):
            return ExitStatus.OK
        _LOGGER.warning("Nobody used the portal for %d s; giving up", config.activity_timeout)
        return ExitStatus.TIMED_OUT
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await flow.cleanup()
        await runner.cleanup()


async def _listen(runner: web.AppRunner, gateway: IPv4Address, port: int) -> None:
    """Serve the portal on the gateway and on loopback, never on the device's other networks."""
    # Loopback lets the device itself (an installer's shell, a health check) read /status.
    for address in (gateway, IPv4Address("127.0.0.1")):
        try:
            sock = _gateway_socket(address, port)
        except OSError as err:
            raise WifiConnectError(
                f"cannot serve the portal on {address}:{port}: {err.strerror}"
            ) from err
        await web.SockSite(runner, sock).start()


def _gateway_socket(gateway: IPv4Address, port: int) -> socket.socket:
    """A listening socket on an address, which may be bound before the hotspot brings it up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # The address comes and goes with the hotspot; a free bind keeps the listener across.
        sock.setsockopt(socket.IPPROTO_IP, _IP_FREEBIND, 1)
        sock.bind((str(gateway), port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def _idle_timeout(flow: Provisioner, activity: Activity, timeout: int) -> None:
    """Return once the open portal has had no request for `timeout` seconds."""
    while True:
        idle = time.monotonic() - max(activity.last_request, flow.portal_opened_at)
        if flow.status().state is FlowState.PORTAL and idle >= timeout:
            return
        await asyncio.sleep(max(0.5, timeout - idle))


async def _saved_network_returns(flow: Provisioner, activity: Activity) -> None:
    """--watch: every so often, while no phone uses the portal, look for a saved network."""
    while True:
        await asyncio.sleep(WATCH_RETRY_SAVED)
        idle = time.monotonic() - activity.last_request
        quiet = flow.status().state is FlowState.PORTAL and idle >= WATCH_RETRY_SAVED / 2
        if quiet and await flow.try_saved_networks():
            return
